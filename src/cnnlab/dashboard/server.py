"""Serving the dashboard: bind a socket (a clear error when the port is taken), run uvicorn.

``cnnlab serve`` runs the server in the foreground; ``fit(dashboard=True)`` in a daemon thread of
the training process (:meth:`DashboardServer.start`), which ends with the process. Binding
anywhere but loopback needs an explicit ``--host`` and brings a random access token.
"""

from __future__ import annotations

import errno
import ipaddress
import secrets
import socket
import threading
import time
from typing import Any

WEB_PACKAGES = "the dashboard needs Starlette and uvicorn: pip install 'cnnlab[dashboard]'"


def require_web() -> None:
    """Raise ``ImportError`` with the install command when the web packages are missing."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise ImportError(f"{WEB_PACKAGES} ({err})") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def make_token() -> str:
    """A random access token (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


class PortInUse(RuntimeError):
    """The port is taken: the message says which and what to do."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``port=0``: a free port chosen by the system)."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be in [0, 65535], got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise ValueError(f"--host {host!r} is not an address of this machine ({err})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use by another program; "
                            f"choose another with --port N (or --port 0 for any free port)"
                            ) from None
        raise RuntimeError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def url_of(sock: socket.socket, token: str | None = None) -> str:
    """The page address of a bound socket, with the access token when there is one."""
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")


class DashboardServer:
    """uvicorn serving ``app`` on an already bound socket."""

    def __init__(self, app: Any, sock: socket.socket):
        import uvicorn

        self.sock = sock
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return url_of(self.sock)

    def start(self, timeout: float = 10.0) -> None:
        """Serve from a daemon thread (it dies with the process); returns once listening."""
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="cnnlab-dashboard", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.01)

    def run(self) -> None:
        """Serve in this thread until Ctrl-C."""
        self.server.run(sockets=[self.sock])

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.sock.close()
