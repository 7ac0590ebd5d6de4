"""Page modules; each exposes ``register()``, called by :func:`zhijiao.ui.app.register`."""
