"""The shared cache's reads (paylink/lib/cache_backends.py) go on a connection each thread keeps,
past redis-py's pool: against a stand-in speaking Redis's protocol on loopback, they read what
was stored, a dropped connection is a miss and the next read connects anew."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from paylink.lib.cache_backends import TolerantRedisCache


class _Redis(socketserver.StreamRequestHandler):
    """GET, MGET and SET over RESP; after `drop_next` is set, the next command's connection is
    closed unanswered."""

    store: dict[bytes, bytes]
    commands: list[str]
    drop_next: list[bool]

    def _command(self) -> list[bytes] | None:
        line = self.rfile.readline()
        if not line.startswith(b"*"):
            return None
        parts = []
        for _ in range(int(line[1:])):
            size = int(self.rfile.readline()[1:])
            parts.append(self.rfile.read(size + 2)[:-2])
        return parts

    def _bulk(self, value: bytes | None) -> bytes:
        return b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)

    def handle(self) -> None:
        while (command := self._command()) is not None:
            name = command[0].upper().decode()
            self.commands.append(name)
            if self.drop_next and self.drop_next.pop():
                return
            if name == "GET":
                self.wfile.write(self._bulk(self.store.get(command[1])))
            elif name == "MGET":
                values = [self._bulk(self.store.get(key)) for key in command[1:]]
                self.wfile.write(b"*%d\r\n" % len(values) + b"".join(values))
            elif name == "SET":
                self.store[command[1]] = command[2]
                self.wfile.write(b"+OK\r\n")
            else:  # HELLO, CLIENT SETINFO, SELECT...: accepted as redis-py's handshake.
                self.wfile.write(b"-ERR unknown command\r\n" if name == "HELLO" else b"+OK\r\n")


@pytest.fixture
def redis() -> Iterator[type[_Redis]]:
    handler = type("Handler", (_Redis,), {"store": {}, "commands": [], "drop_next": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}).start()
    handler.port = server.server_address[1]  # type: ignore[attr-defined]  # for the test
    yield handler
    server.shutdown()
    server.server_close()


def cache_on(redis: type[_Redis]) -> TolerantRedisCache:
    return TolerantRedisCache(
        f"redis://127.0.0.1:{redis.port}/0",  # type: ignore[attr-defined]  # set by the fixture
        {"OPTIONS": {"protocol": 2, "socket_timeout": 2}},
    )


def test_reads_return_what_was_stored(redis):
    cache = cache_on(redis)
    cache.set("a", {"row": 1})
    cache.set("b", "two")

    assert cache.get("a") == {"row": 1}
    assert cache.get("missing", "default") == "default"
    assert cache.get_many(["a", "missing", "b"]) == {"a": {"row": 1}, "b": "two"}
    assert "MGET" in redis.commands


def test_a_thread_keeps_its_read_connection(redis):
    cache = cache_on(redis)
    cache.get("a")
    reader = cache._cache._reader.connection

    cache.get_many(["a", "b"])

    assert cache._cache._reader.connection is reader
    # The pool's connections are not touched by reads.
    assert not cache._cache._get_connection_pool(False)._in_use_connections


def test_a_dropped_connection_is_a_miss_and_the_next_read_connects_again(redis):
    cache = cache_on(redis)
    cache.set("a", "kept")
    assert cache.get("a") == "kept"

    redis.drop_next.append(True)
    assert cache.get_many(["a"]) == {}
    assert cache.get("a") == "kept"


def test_an_unreachable_redis_is_a_miss():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = TolerantRedisCache(f"redis://127.0.0.1:{port}/0", {})

    assert cache.get("a", "default") == "default"
    assert cache.get_many(["a"]) == {}
