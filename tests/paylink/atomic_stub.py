"""A loopback HTTP server that plays scripted answers, so the client meets real sockets.

Each test queues `Reply`s; each request takes the next one (the last one repeats) and is
recorded with its method, path, headers and body for assertions on what the host sent.
`timeouts_given()` records the timeout the client hands urllib3 for each attempt, so a test can
say how long a call was allowed to take without timing it.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from unittest import mock

from requests.adapters import HTTPAdapter

from tests.loopback import LoopbackServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Held until this is set (or the stub stops): an answer that comes when the test says.
    hold: threading.Event | None = None
    # Close the socket with a TCP reset instead of answering.
    reset: bool = False


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class AtomicStub:
    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply(body={})]
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._holds: list[threading.Event] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = stub._next(
                    Seen(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait()
                if reply.reset:
                    # SO_LINGER 0: close() sends RST, the client sees "connection reset".
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                if reply.raw is not None:
                    data = reply.raw
                elif reply.body is None:
                    data = b""
                else:
                    data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    # The client gave up (a timeout test); nothing left to say.
                    self.close_connection = True

            do_GET = do_POST = do_PUT = _handle

        self._handler = Handler
        self.server: LoopbackServer | None = None
        self.url = ""

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def play(self, *replies: Reply) -> None:
        with self._lock:
            self.replies = list(replies)
            self._holds += [reply.hold for reply in replies if reply.hold is not None]

    def start(self) -> AtomicStub:
        self.server = LoopbackServer(self._handler)
        self.url = self.server.url
        return self

    def stop(self) -> None:
        # A held answer still waiting is let go, so its thread ends with the test.
        for hold in self._holds:
            hold.set()
        if self.server is not None:
            self.server.stop()


@contextmanager
def timeouts_given() -> Iterator[list[Any]]:
    """The timeout of every call the client sends, in order: its (connect, read) pair, or under
    a deadline urllib3's Timeout whose `total` is the time the deadline left (each retry of the
    call gets what is then left of it)."""
    given: list[Any] = []
    send = HTTPAdapter.send

    def spy(adapter: HTTPAdapter, request: Any, **kwargs: Any) -> Any:
        given.append(kwargs.get("timeout"))
        return send(adapter, request, **kwargs)

    with mock.patch.object(HTTPAdapter, "send", spy):
        yield given
