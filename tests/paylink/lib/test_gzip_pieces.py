"""Pieces compressed apart, joined into one gzip body any gzip reader takes whole."""

from __future__ import annotations

import gzip
import os
import random
import zlib

import pytest

from paylink.lib.gzip_pieces import (
    accepts_gzip,
    crc32_combine,
    deflated,
    gzip_joined,
    inflated,
)


def test_the_crc_of_two_texts_end_to_end_is_worked_out_from_their_own():
    chooser = random.Random(26)
    for _ in range(100):
        first = os.urandom(chooser.randint(0, 5000))
        second = os.urandom(chooser.randint(0, 5000))
        combined = crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
        assert combined == zlib.crc32(first + second)


def test_pieces_compressed_apart_read_as_one_gzip_body():
    texts = [b'{"a":', b"", ("é" * 70_000 + "x" * 300_000).encode(), b"]}"]
    body = b"".join(gzip_joined(deflated(text) for text in texts))
    assert gzip.decompress(body) == b"".join(texts)
    # One member, read by zlib's own gzip reader, which checks the CRC and the length.
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert reader.decompress(body) == b"".join(texts)
    assert reader.eof
    assert not reader.unused_data


def test_a_piece_is_inflated_a_chunk_at_a_time():
    text = os.urandom(50_000) + b"z" * 3_000_000
    chunks = list(inflated(deflated(text), chunk=1 << 16))
    assert b"".join(chunks) == text
    assert max(len(chunk) for chunk in chunks) <= 1 << 16


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate", True),
        ("gzip,deflate,br,zstd", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=0", False),
        ("*;q=0.1, gzip;q=0", False),
        ("gzip;q=oops", False),
    ],
)
def test_gzip_is_sent_only_where_accept_encoding_takes_it(header, takes):
    assert accepts_gzip(header) is takes
