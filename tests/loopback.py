"""One loopback HTTP server for the suite's stand-ins (Atomic stub, webhook sink, integrator).

    server = LoopbackServer(Handler)   # bound to 127.0.0.1 on a free port, serving at once
    server.url                          # http://127.0.0.1:PORT
    server.stop()

`serve_forever` checks for shutdown every 20 ms rather than the default 500 ms, so stopping a
server after each test costs nothing.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POLL_INTERVAL = 0.02


class LoopbackServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
