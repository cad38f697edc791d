"""A request body read within a size limit: the one guard of the views that read raw bodies
(the browser's SDK events, Atomic's webhooks).

The declared Content-Length is checked first, so a body said to be too large (or whose length
is not a whole number) is refused before a byte is read. The length may lie or be missing, so
the body is then read a chunk at a time and never more than the limit plus one chunk.
"""

from __future__ import annotations

from django.http import HttpRequest

from paylink.lib.whole_numbers import whole_number

CHUNK_BYTES = 64 * 1024


def body_declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client declared (0 when none); None when it is not a number."""
    return whole_number(request.META.get("CONTENT_LENGTH") or "0")


def body_declared_too_large(request: HttpRequest, *, limit: int) -> bool:
    """True when the declared length is over `limit` bytes (see body_length_unreadable)."""
    declared = body_declared_length(request)
    return declared is not None and declared > limit


def body_length_unreadable(request: HttpRequest) -> bool:
    """True when the declared Content-Length is not a whole number in ASCII digits: nothing
    of such a body is read, and its size cannot be judged."""
    return body_declared_length(request) is None


def body_read(request: HttpRequest, *, limit: int) -> bytes | None:
    """The body, read a chunk at a time; None as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while chunk := request.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
