"""A real HTTP server on 127.0.0.1 that records webhooks and answers as scripted (for the fan-out tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once used up
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


class _Server(ThreadingHTTPServer):
    """A listen backlog like a real server's (socketserver's default is 5: a sender with more
    connections in flight than that would see its connects wait for SYN retransmissions)."""

    request_queue_size = 128


@contextmanager
def receiver(
    statuses: list[int] | None = None, *, reply: bytes = b"", content_type: str = "application/json"
) -> Iterator[Receiver]:
    """Answers each POST with the next of ``statuses`` (then 200) and ``reply``."""
    state = Receiver(statuses=list(statuses or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    with serving(_Server(("127.0.0.1", 0), Handler)) as port:
        state.port = port
        yield state


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[int]:
    """Serve in a daemon thread until the block ends; yields the port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
