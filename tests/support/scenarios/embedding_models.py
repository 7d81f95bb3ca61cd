"""Embedding models beyond Titan v2 and Cohere v3 floats: ids, sample images, expectations."""

from __future__ import annotations

import base64
import struct
import zlib

TITAN_V1 = "amazon.titan-embed-text-v1"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_MM = "amazon.titan-embed-image-v1"
COHERE_EN = "cohere.embed-english-v3"
COHERE_ML = "cohere.embed-multilingual-v3"
COHERE_V4 = "cohere.embed-v4:0"
TEXTS = ["High tide is at noon.", "Low tide is at six."]


def png(width: int = 2, height: int = 2, shade: int = 0) -> bytes:
    """A tiny valid PNG (grey pixels of ``shade``), built without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        payload = kind + data
        return struct.pack(">I", len(data)) + payload + struct.pack(">I", zlib.crc32(payload))

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


CAT = png(shade=10)
DOG = png(shade=200)


def data_uri(image: bytes) -> str:
    """The data URI Cohere is sent for ``image``."""
    return "data:image/png;base64," + base64.b64encode(image).decode()
