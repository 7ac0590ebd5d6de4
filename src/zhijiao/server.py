"""Running the service: uvicorn with the app, and the background parts of one process."""

from __future__ import annotations

import uvicorn

from zhijiao.config import get_settings


def serve(host: str | None = None, port: int | None = None, simulate: bool = False) -> None:
    from zhijiao.main import create_app

    settings = get_settings()
    settings.effective_secret()
    app = create_app(with_ui=True)
    app.state.run_simulator = simulate
    app.state.service_process = True  # this process is the service: its collector is set for it
    tls = {}
    if settings.tls_certfile and settings.tls_keyfile:
        # The server can terminate TLS itself; a bureau usually puts its gateway/nginx in front.
        tls = {"ssl_certfile": str(settings.tls_certfile), "ssl_keyfile": str(settings.tls_keyfile)}
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info",
                proxy_headers=False, server_header=False, **tls)
