"""Cohere bodies: Command R / R+ chat (``message``, ``chat_history``) and legacy Command."""

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
    intervened,
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
        generations = BODY.items(body.get("generations"), "generations")
        if not generations:
            raise BODY.malformed("generations is empty", body)
        first = BODY.obj(generations[0], "generations[0]")
        text = BODY.text(first.get("text"), "generations[0].text")
        reason = body_stop(body, first.get("finish_reason"), "generations[0].finish_reason")
    else:
        text = BODY.text(body.get("text"), "text")
        reason = body_stop(body, body.get("finish_reason"), "finish_reason")
    meta = BODY.opt_obj(body.get("meta"), "meta")
    billed = BODY.opt_obj(meta.get("billed_units"), "meta.billed_units")
    # No estimates: without billed units the InvokeModel headers carry the counts.
    return converse_response(
        [{"text": text}],
        _STOP.get(reason, reason),
        billed.get("input_tokens"),
        billed.get("output_tokens"),
    )


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Cohere stream chunk -> Converse events."""
    events: list[dict[str, Any]] = []
    text = CHUNK.opt_text(chunk.get("text"), "text")
    # A guardrail that blocks the input sends its message as a chunk with no event type.
    kind = chunk.get("event_type", "text-generation" if intervened(chunk) else None)
    if kind == "text-generation" and text:
        events.append(text_delta(text))
    for i, generation in enumerate(CHUNK.opt_items(chunk.get("generations"), "generations")):
        piece = CHUNK.opt_text(CHUNK.obj(generation, f"generations[{i}]").get("text"), "text")
        if piece:
            events.append(text_delta(piece))
    reason = CHUNK.opt_text(chunk.get("finish_reason"), "finish_reason")
    if chunk.get("is_finished") and reason:
        events.append(stop_event(_STOP.get(reason, reason)))
    return events + metrics_event(chunk)


def legacy_chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Legacy Command stream chunk (``text``, ``index``, ``is_finished`` at the top) -> events.

    With ``num_generations`` > 1 the chunks of every generation share one stream, told apart
    by ``index``: generation 0 is the answer (as ``generations[0]`` is for InvokeModel); the
    others' chunks are not part of it.
    """
    index = CHUNK.opt_count(chunk.get("index"), "index") or 0
    if index != 0:
        return metrics_event(chunk)
    events: list[dict[str, Any]] = []
    text = CHUNK.opt_text(chunk.get("text"), "text")
    if text:
        events.append(text_delta(text))
    reason = CHUNK.opt_text(chunk.get("finish_reason"), "finish_reason")
    if chunk.get("is_finished") and reason:
        events.append(stop_event(_STOP.get(reason, reason)))
    return events + metrics_event(chunk)


CODEC = Codec("cohere", build_body, parse_body, chunk_events)
LEGACY_CODEC = Codec("cohere", build_legacy_body, parse_body, legacy_chunk_events)
