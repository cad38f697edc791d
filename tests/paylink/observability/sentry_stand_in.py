"""A stand-in for Sentry on loopback: records every envelope the SDK sends, decompressed."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer


class SentryStandIn:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    raw = gzip.decompress(raw)
                elif encoding == "deflate":
                    raw = zlib.decompress(raw)
                elif encoding == "br":
                    import brotli  # type: ignore[import-not-found]  # optional, not installed

                    raw = brotli.decompress(raw)
                received.append(raw)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = LoopbackServer(Handler)
        port = self.server.url.rsplit(":", 1)[1]
        self.dsn = f"http://public-key@127.0.0.1:{port}/42"

    def text(self) -> str:
        return b"\n".join(self.bodies).decode("utf-8", errors="replace")


@contextmanager
def sentry_to_stand_in() -> Iterator[SentryStandIn]:
    """Sentry's SDK started as the host starts it, sending to the stand-in; stopped after."""
    import sentry_sdk

    from paylink.observability.errors import sentry_init

    stand_in = SentryStandIn()
    sentry_init(dsn=stand_in.dsn, environment="test", release="", traces_sample_rate=0.0)
    try:
        yield stand_in
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close(timeout=5)
        sentry_sdk.init()  # no DSN: nothing is sent from here on
        stand_in.server.stop()
