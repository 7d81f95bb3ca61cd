"""The documented token estimate used when no CountTokens figure is available.

It is built to err high for every script, because the budget ledger reserves with it and a
reservation below the billed count is how a budget gets overspent. Text is cut into pieces,
and each piece is charged:

* **Outside ASCII** (CJK, Hangul, Thai, Devanagari, Cyrillic, Arabic, emoji...): one token
  per UTF-8 byte of the NFKC form, plus one per run. That is the worst case of a byte-level
  BPE tokenizer (each token covers at least one byte; NFKC is what such tokenizers apply
  first), and real tokenizers reach it: Claude's published tokenizer spends one token per
  byte on Amharic and Armenian, 1.7 per character on Thai and 2.4 per emoji. Common CJK text
  costs about 1 token per character, so it is over-reserved about 2.8 times.
* **ASCII letters**: one token per 4 letters of a lower-case or Capitalised run, one per 2
  letters of an UPPER-CASE run (capitals split into short tokens).
* **Digits**: one token each (Llama 2 and Mistral tokenizers split every digit).
* **Punctuation runs**: two tokens per three characters (one for a lone mark).
* **Whitespace**: a single space is free (it joins the next word), longer runs of spaces
  one token per 4, newlines and tabs one per 2.
* **Dense runs** of 20+ letters and digits holding a digit (base64, hex, keys): at least two
  tokens per three characters.

Measured against Claude's published tokenizer (the one its SDK shipped) on prose, code,
JSON, base64, hex, numbers and 17 scripts, the estimate is never below the true count
(lowest ratio 1.01, Amharic); English prose and code come out 1.3 to 1.6 times the true
count. It is still a heuristic, not a tokenizer: a model whose tokenizer is worse than
byte-level BPE on some text can exceed it, which is why the ledger prefers CountTokens.

Requests add fixed overheads the model's template spends: 32 tokens per request (framing,
and the hidden prompt of extended thinking: Claude counts 36 input tokens for "Hello" with
thinking on), 8 per message, 600 when tools are configured (the tool-use system prompt:
Anthropic documents 159 to 530 tokens per Claude model, Nova Micro bills about 375), and
3,000 per image (Claude resizes to at most about 1,600 tokens, Nova v1 about 2,600 for a
1.3K x 1.3K image). Documents in a text format (txt, md, csv, html) are estimated as
text; binary documents (pdf, doc, docx, xls, xlsx) count one token per two bytes, a guess
rather than a bound: count those with CountTokens.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "estimate_invoke_tokens",
    "estimate_request_tokens",
    "estimate_text_tokens",
    "estimate_tokens",
]

REQUEST_OVERHEAD = 32
"""Tokens added once per request (template framing, hidden prompts)."""
MESSAGE_OVERHEAD = 8
"""Tokens added per message (role markers)."""
TOOLS_OVERHEAD = 600
"""Tokens added when a request configures tools (the model's tool-use system prompt)."""
IMAGE_TOKENS = 3000
"""Tokens per image."""

_LETTERS_PER_TOKEN = 4
_CAPITALS_PER_TOKEN = 2
_TEXT_DOCUMENTS = frozenset({"txt", "md", "csv", "html"})
_BINARY_BYTES_PER_TOKEN = 2
# One alternative per piece kind; the first matching kind wins.
_PIECES = re.compile(
    r"(?P<upper>[A-Z]{2,}(?![a-z]))"
    r"|(?P<word>[A-Z]?[a-z]+|[A-Z])"
    r"|(?P<digit>[0-9])"
    r"|(?P<spaces> +)"
    r"|(?P<breaks>[\t\n\r\x0b\x0c]+)"
    r"|(?P<punct>[!-/:-@\[-`{-~]+)"
    r"|(?P<control>[\x00-\x08\x0e-\x1f\x7f])"
    r"|(?P<other>[^\x00-\x7f]+)"
)
_JSON_VALUES = frozenset({"json", "input"})
_DENSE = re.compile(r"(?=[A-Za-z+/=]*[0-9])[A-Za-z0-9+/=]{20,}")
# Wire keys whose string values are identifiers or enums, not text the model reads.
_NOT_TEXT = frozenset(
    {"role", "format", "type", "toolUseId", "status", "ttl", "cachePoint", "guardrailIdentifier"}
)


def _piece_tokens(text: str) -> int:
    tokens = 0
    for match in _PIECES.finditer(text):
        kind, piece = match.lastgroup, match.group()
        size = len(piece)
        if kind == "word":
            tokens += math.ceil(size / _LETTERS_PER_TOKEN)
        elif kind == "upper":
            tokens += math.ceil(size / _CAPITALS_PER_TOKEN)
        elif kind == "spaces":
            tokens += (size + 2) // 4 if size > 1 else 0
        elif kind == "breaks":
            tokens += math.ceil(size / 2)
        elif kind == "punct":
            tokens += math.ceil(size * 2 / 3)
        elif kind == "other":
            tokens += len(unicodedata.normalize("NFKC", piece).encode("utf-8", "replace")) + 1
        else:  # digit, control character
            tokens += size
    return tokens


def estimate_text_tokens(text: str) -> int:
    """Tokens of one text, erring high for every script (see the module doc)."""
    tokens = 0
    last = 0
    for match in _DENSE.finditer(text):
        tokens += _piece_tokens(text[last : match.start()])
        dense = match.group()
        tokens += max(_piece_tokens(dense), math.ceil(len(dense) * 2 / 3))
        last = match.end()
    return tokens + _piece_tokens(text[last:])


def estimate_tokens(texts: str | Iterable[str], *, messages: int = 1, images: int = 0) -> int:
    """Estimated input of ``texts``: text tokens plus message and image overheads.

    ``estimate_text_tokens(each text) + 8 * messages + 3000 * images``, plus the 32-token
    request overhead when ``messages`` is at least 1 (``messages=0`` estimates bare text).
    """
    items = (texts,) if isinstance(texts, str) else texts
    text = sum(estimate_text_tokens(t) for t in items)
    framing = REQUEST_OVERHEAD + MESSAGE_OVERHEAD * messages if messages else 0
    return text + framing + IMAGE_TOKENS * images


def _document_tokens(document: Mapping[str, Any]) -> int:
    tokens = estimate_text_tokens(str(document.get("name") or ""))
    source = document.get("source") or {}
    data = source.get("bytes") if isinstance(source, Mapping) else None
    text = source.get("text") if isinstance(source, Mapping) else None
    if isinstance(text, str):
        tokens += estimate_text_tokens(text)
    if isinstance(data, bytes | bytearray):
        if str(document.get("format") or "").lower() in _TEXT_DOCUMENTS:
            tokens += estimate_text_tokens(bytes(data).decode("utf-8", "replace"))
        else:
            tokens += math.ceil(len(data) / _BINARY_BYTES_PER_TOKEN)
    return tokens


def estimate_request_tokens(request: Mapping[str, Any]) -> int:
    """:func:`estimate_tokens` over a Converse request (messages, system, tools)."""
    texts: list[str] = []
    counts = {"images": 0, "documents": 0, "tools": 0}

    def walk(node: Any) -> None:
        if isinstance(node, str):  # only reached for values of text-bearing keys
            texts.append(node)
        elif isinstance(node, bytes | bytearray):
            counts["documents"] += math.ceil(len(node) / _BINARY_BYTES_PER_TOKEN)
        elif isinstance(node, Mapping):
            if "image" in node:
                counts["images"] += 1
                return
            if isinstance(node.get("document"), Mapping):
                counts["documents"] += _document_tokens(node["document"])
                return
            if "toolSpec" in node:
                counts["tools"] += 1
            for key, value in node.items():
                if key in _JSON_VALUES and isinstance(value, Mapping | list):
                    # schemas, tool inputs, JSON tool results: keys and all are read
                    texts.append(json.dumps(value, default=str, ensure_ascii=False))
                elif key not in _NOT_TEXT:
                    walk(value if not isinstance(value, int | float) else str(value))
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    for key in ("messages", "system", "toolConfig"):
        walk(request.get(key))
    extra = request.get("additionalModelRequestFields")
    if extra:  # thinking budgets and other model fields are sent to the model too
        texts.append(json.dumps(extra, default=str))
    tokens = estimate_tokens(
        texts, messages=max(len(request.get("messages") or ()), 1), images=counts["images"]
    )
    return tokens + counts["documents"] + (TOOLS_OVERHEAD if counts["tools"] else 0)


def estimate_invoke_tokens(body: bytes | str) -> int:
    """Estimated input of an InvokeModel body: every string of the provider's JSON.

    Keys and values are all estimated as text, which errs high. Base64 media (a ``data`` or
    ``bytes`` string of 256+ characters) counts as an image when an image is what holds it,
    else as a binary document; a body that configures tools adds the tool-use overhead.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else body
    try:
        parsed = json.loads(text)
    except ValueError:
        return estimate_tokens(text)
    media = {"images": 0, "tokens": 0}

    def strip(node: Any, image: bool) -> Any:
        if isinstance(node, Mapping):
            image = (
                image
                or "image" in str(node.get("type", ""))
                or "image" in str(node.get("media_type", ""))
            )
            kept = {}
            for key, value in node.items():
                if key in ("data", "bytes") and isinstance(value, str) and len(value) >= 256:
                    if image or "image" in key:
                        media["images"] += 1
                    else:
                        media["tokens"] += math.ceil(len(value) * 3 / 4 / _BINARY_BYTES_PER_TOKEN)
                    continue
                kept[key] = strip(value, image or key in ("image", "images"))
            return kept
        if isinstance(node, list):
            return [strip(value, image) for value in node]
        return node

    rest = json.dumps(strip(parsed, False), ensure_ascii=False)
    tools = isinstance(parsed, Mapping) and bool(parsed.get("tools") or parsed.get("toolConfig"))
    return (
        estimate_tokens(rest, images=media["images"])
        + media["tokens"]
        + (TOOLS_OVERHEAD if tools else 0)
    )
