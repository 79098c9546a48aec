"""What the fakes on loopback share: an HTTP server on 127.0.0.1 served from a daemon thread, its life
cycle (start, stop, `with`), and open connections tracked so that `stop()` can drop them and wake answers
that are held back on purpose.

    class FakeThing(LoopbackServer):
        thread_name = "fake-thing"
        def __init__(self, *, port=0): self._lock = threading.Lock(); self._init_loopback(port)
        def _make_server(self): return LoopbackHTTPServer(self, _Handler)   # _Handler(TrackingHandler)
"""

from __future__ import annotations

import socket
import threading
from contextlib import AbstractContextManager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["LoopbackServer", "LoopbackHTTPServer", "TrackingHandler"]


class LoopbackServer:
    """The life cycle of a fake served on 127.0.0.1. A subclass sets `_lock` and calls `_init_loopback()`
    in its `__init__`, and builds its server in `_make_server()`; `_stopping` is set while it stops, for
    handlers that wait (`self._stopping.wait(seconds)`)."""

    thread_name = "loopback"
    _lock: AbstractContextManager[Any]

    def _init_loopback(self, port: int) -> None:
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._bind_port = port  # 0: a free port

    def _make_server(self) -> ThreadingHTTPServer:
        raise NotImplementedError

    def start(self) -> Self:
        """Bind 127.0.0.1 (on the port given, else a free one) and serve from a daemon thread."""
        if self._server is None:
            self._stopping.clear()
            self._server = self._make_server()
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.thread_name, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake answers held back and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The root, http://127.0.0.1:PORT; kept after stop(), where connections are then refused."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._port}"

    def _track(self, connection: socket.socket, is_open: bool) -> None:
        with self._lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 whose handlers reach their fake as `self.server.fake`."""

    daemon_threads = True

    def __init__(self, fake: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", fake._bind_port), handler)


class TrackingHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle delay, each connection known to the fake while open; quiet."""

    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without this each answer waits for a delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: each fake records its exchanges itself."""
