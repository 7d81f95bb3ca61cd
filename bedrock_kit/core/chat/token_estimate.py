"""The documented input-token estimate used when no CountTokens figure is given.

``ceil(characters / 4)`` over every text in the request, plus 4 tokens per message for role
and framing, plus 1,600 tokens per image (about a 1.1 megapixel image on Claude). Document
bytes count one character per byte, an upper bound for text formats. It is a heuristic,
not a tokenizer: prefer ``ConverseRuntime.count_tokens`` where the model supports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["estimate_request_tokens", "estimate_tokens"]

_CHARS_PER_TOKEN = 4
_MESSAGE_OVERHEAD = 4
_IMAGE_TOKENS = 1600
# Wire keys whose string values are identifiers or enums, not text the model reads.
_NOT_TEXT = frozenset({"role", "format", "type", "toolUseId", "status", "ttl", "cachePoint"})


def estimate_tokens(texts: str | Iterable[str], *, messages: int = 1, images: int = 0) -> int:
    """Documented input estimate: ``ceil(chars / 4) + 4 * messages + 1600 * images``."""
    chars = len(texts) if isinstance(texts, str) else sum(len(t) for t in texts)
    return (
        math.ceil(chars / _CHARS_PER_TOKEN)
        + _MESSAGE_OVERHEAD * messages
        + (_IMAGE_TOKENS * images)
    )


def estimate_request_tokens(request: Mapping[str, Any]) -> int:
    """:func:`estimate_tokens` over a Converse request (messages, system, toolConfig)."""
    texts: list[str] = []
    images = 0

    def walk(node: Any) -> None:
        nonlocal images
        if isinstance(node, str):  # only reached for values of text-bearing keys
            texts.append(node)
        elif isinstance(node, bytes):
            texts.append("x" * len(node))  # documents: one char per byte, an upper bound
        elif isinstance(node, Mapping):
            if "image" in node:
                images += 1
                return
            for key, value in node.items():
                if key not in _NOT_TEXT:
                    walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    for key in ("messages", "system", "toolConfig"):
        walk(request.get(key))
    return estimate_tokens(texts, messages=len(request.get("messages") or ()), images=images)
