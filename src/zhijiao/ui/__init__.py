"""The NiceGUI screens, served by the same FastAPI application as the API.

``app.mount`` registers every page module's ``register()`` and mounts NiceGUI at ``/``.
Pages call services only; each page load and each action resolves the logged-in staff
member again (``session``), so idle and absolute session limits hold on the server.
"""
