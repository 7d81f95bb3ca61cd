"""Cohere bodies: Command R / R+ chat (``message``, ``chat_history``) and legacy Command."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.invoke._base import (
    Codec,
    InvokeInput,
    converse_response,
    drop_none,
    estimate_tokens,
    metrics_event,
    stop_event,
    system_text,
    text_delta,
    text_only,
)
from bedrock_kit.errors import ConfigurationError

_STOP = {
    "COMPLETE": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "STOP_SEQUENCE": "stop_sequence",
    "ERROR_TOXIC": "content_filtered",
    "ERROR_LIMIT": "model_context_window_exceeded",
}
_ROLES = {"user": "USER", "assistant": "CHATBOT"}


def build_body(request: InvokeInput) -> dict[str, Any]:
    """Command R chat body: the last user turn is ``message``, the rest ``chat_history``."""
    *history, last = request.messages
    if last.role != "user":
        raise ConfigurationError("Cohere chat bodies need the last turn to be a user turn")
    inference = request.inference
    body = drop_none(
        {
            "message": text_only(last, "Cohere"),
            "chat_history": [
                {"role": _ROLES[m.role], "message": text_only(m, "Cohere")} for m in history
            ]
            or None,
            "preamble": system_text(request.system) or None,
            "max_tokens": inference.max_tokens,
            "temperature": inference.temperature,
            "p": inference.top_p,
            "stop_sequences": list(inference.stop_sequences) or None,
        }
    )
    return {**body, **request.extra}


def build_legacy_body(request: InvokeInput) -> dict[str, Any]:
    """Legacy Command body: one ``prompt``."""
    inference = request.inference
    turns = [text_only(m, "Cohere") for m in request.messages]
    text = "\n".join([system_text(request.system), *turns]).strip()
    return {
        **drop_none(
            {
                "prompt": text,
                "max_tokens": inference.max_tokens,
                "temperature": inference.temperature,
                "p": inference.top_p,
                "stop_sequences": list(inference.stop_sequences) or None,
            }
        ),
        **request.extra,
    }


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Cohere response (chat ``text`` or legacy ``generations``) -> Converse shape."""
    if "generations" in body:
        first = (body.get("generations") or [{}])[0]
        text, reason = first.get("text", ""), first.get("finish_reason") or ""
    else:
        text, reason = body.get("text", ""), body.get("finish_reason") or ""
    meta = (body.get("meta") or {}).get("billed_units") or {}
    output_tokens = meta.get("output_tokens", estimate_tokens(text) if text else 0)
    return converse_response(
        [{"text": text}], _STOP.get(reason, reason), meta.get("input_tokens", 0), output_tokens
    )


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Cohere stream chunk -> Converse events."""
    events: list[dict[str, Any]] = []
    if chunk.get("event_type") == "text-generation" and chunk.get("text"):
        events.append(text_delta(chunk["text"]))
    for generation in chunk.get("generations") or ():
        if generation.get("text"):
            events.append(text_delta(generation["text"]))
    reason = chunk.get("finish_reason")
    if chunk.get("is_finished") and reason:
        events.append(stop_event(_STOP.get(reason, reason)))
    return events + metrics_event(chunk)


CODEC = Codec("cohere", build_body, parse_body, chunk_events)
LEGACY_CODEC = Codec("cohere", build_legacy_body, parse_body, chunk_events)
