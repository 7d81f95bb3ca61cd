"""Meta Llama bodies (``prompt`` in the Llama 3 chat template, ``max_gen_len``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.invoke._base import (
    BODY,
    CHUNK,
    Codec,
    InvokeInput,
    body_stop,
    converse_response,
    drop_none,
    flat_chunk_events,
    system_text,
    text_only,
)

_STOP = {"stop": "end_turn", "length": "max_tokens"}


def _header(role: str, text: str) -> str:
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>"


def prompt(request: InvokeInput) -> str:
    """The Llama 3 chat template, ending with an open assistant header."""
    parts = ["<|begin_of_text|>"]
    if request.system:
        parts.append(_header("system", system_text(request.system)))
    parts += [_header(m.role, text_only(m, "Llama")) for m in request.messages]
    parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return "".join(parts)


def build_body(request: InvokeInput) -> dict[str, Any]:
    """Llama body."""
    inference = request.inference
    return {
        **drop_none(
            {
                "prompt": prompt(request),
                "max_gen_len": inference.max_tokens,
                "temperature": inference.temperature,
                "top_p": inference.top_p,
            }
        ),
        **request.extra,
    }


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Llama response -> Converse shape."""
    reason = body_stop(body, body.get("stop_reason"), "stop_reason")
    return converse_response(
        [{"text": BODY.text(body.get("generation"), "generation")}],
        _STOP.get(reason, reason),
        body.get("prompt_token_count"),
        body.get("generation_token_count"),
    )


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Llama stream chunk -> Converse events."""
    return flat_chunk_events(chunk, "generation", "stop_reason", _STOP)


def chunk_usage(chunk: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``prompt_token_count`` and ``generation_token_count`` of a chunk."""
    return (
        CHUNK.opt_count(chunk.get("prompt_token_count"), "prompt_token_count"),
        CHUNK.opt_count(chunk.get("generation_token_count"), "generation_token_count"),
    )


CODEC = Codec("meta", build_body, parse_body, chunk_events, chunk_usage=chunk_usage)
