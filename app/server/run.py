"""``hosho serve``: uvicorn in front of the centre server's app."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys

import uvicorn

from app.core.errors import UserError
from app.core.logs import PersonalDataFilter
from app.services.context import AppContext

# Running calls get this long to finish (or roll back) after SIGTERM.
GRACEFUL_SECONDS = 30


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--listen は ホスト:ポート の形で指定してください: {listen}",
                        f"--listen takes HOST:PORT: {listen}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(host: str, cert: str | None, key: str | None) -> None:
    """Plain HTTP would carry passwords and personal data in clear: loopback only."""
    if bool(cert) != bool(key):
        raise UserError("--tls-cert と --tls-key は両方指定してください。",
                        "Give both --tls-cert and --tls-key.")
    if not cert and not is_loopback(host):
        raise UserError(f"{host} で待ち受けるには TLS（--tls-cert と --tls-key）が必要です。"
                        "暗号化なしはループバック（127.0.0.1）だけです。",
                        f"Listening on {host} needs TLS (--tls-cert and --tls-key); plain "
                        "HTTP is for a loopback address only.")


def log_to_stderr() -> None:
    """The journal (systemd) or the console; the same personal-data filter as the desk."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)


def make_server(ctx: AppContext, host: str, port: int, cert: str | None = None,
                key: str | None = None, limits=None) -> uvicorn.Server:
    """``limits``: app.server.files.Limits (default: from the environment)."""
    from app.server.app import create_app

    check_transport(host, cert, key)
    app = create_app(ctx, limits)
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=cert,
                            ssl_keyfile=key, access_log=False, log_config=None,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS,
                            proxy_headers=False, server_header=False)
    server = uvicorn.Server(config)
    app.state.server = server  # live streams end when it is told to stop
    return server


def app_from_environment():
    """The app of one worker process of ``hosho serve --workers N`` (uvicorn's factory):
    each process opens the database itself; they share sessions, throttling and live
    changes through it."""
    from app.server.app import create_app
    from app.services.opening import open_context

    if not logging.getLogger().handlers:  # a worker process: its own handler, as its parent's
        log_to_stderr()
    return create_app(open_context(os.environ["HOSHO_DB"], upgrade=False))


def serve_workers(url: str, listen: str, workers: int, cert: str | None = None,
                  key: str | None = None) -> int:
    """Several server processes on one PostgreSQL database (a process per core)."""
    host, port = parse_listen(listen)
    check_transport(host, cert, key)
    if not url.startswith("postgresql"):
        raise UserError("--workers は PostgreSQL のデータベースでだけ使えます。",
                        "--workers is for a PostgreSQL database only.")
    os.environ["HOSHO_DB"] = url
    log_to_stderr()
    uvicorn.run("app.server.run:app_from_environment", factory=True, host=host, port=port,
                workers=workers, ssl_certfile=cert, ssl_keyfile=key, access_log=False,
                log_config=None, timeout_graceful_shutdown=GRACEFUL_SECONDS,
                proxy_headers=False, server_header=False)
    return 0


def serve(ctx: AppContext, listen: str, cert: str | None = None,
          key: str | None = None) -> int:
    host, port = parse_listen(listen)
    server = make_server(ctx, host, port, cert, key)
    log_to_stderr()
    logging.getLogger("hosho.server").info("serving on %s:%s (%s)", host, port,
                                           ctx.db.engine.dialect.name)
    server.run()
    return 0
