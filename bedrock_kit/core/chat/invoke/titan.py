"""Amazon Titan Text bodies (``inputText`` / ``textGenerationConfig``)."""

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

# Titan completionReason -> Converse stopReason.
_STOP = {
    "FINISH": "end_turn",
    "LENGTH": "max_tokens",
    "STOP_CRITERIA_MET": "stop_sequence",
    "RAG_QUERY_WHEN_RAG_DISABLED": "end_turn",
    "CONTENT_FILTERED": "content_filtered",
}


def prompt(request: InvokeInput) -> str:
    """Titan's chat convention: ``User:`` / ``Bot:`` turns, ending with ``Bot:``."""
    lines = [system_text(request.system)] if request.system else []
    for message in request.messages:
        speaker = "User" if message.role == "user" else "Bot"
        lines.append(f"{speaker}: {text_only(message, 'Titan')}")
    lines.append("Bot:")
    return "\n".join(line for line in lines if line)


def build_body(request: InvokeInput) -> dict[str, Any]:
    """Titan Text body."""
    inference = request.inference
    config = drop_none(
        {
            "maxTokenCount": inference.max_tokens,
            "temperature": inference.temperature,
            "topP": inference.top_p,
            "stopSequences": list(inference.stop_sequences) or None,
        }
    )
    return {
        **drop_none({"inputText": prompt(request), "textGenerationConfig": config or None}),
        **request.extra,
    }


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Titan response -> Converse shape (token counts may be floats: 28.0)."""
    results = BODY.items(body.get("results"), "results")
    if not results:
        raise BODY.malformed("results is empty", body)
    first = BODY.obj(results[0], "results[0]")
    reason = body_stop(body, first.get("completionReason"), "results[0].completionReason")
    counts = [
        BODY.opt_count(BODY.obj(r, "results[]").get("tokenCount"), "tokenCount") for r in results
    ]
    return converse_response(
        [{"text": BODY.text(first.get("outputText"), "results[0].outputText")}],
        _STOP.get(reason, reason),
        body.get("inputTextTokenCount"),
        None if None in counts else sum(c or 0 for c in counts),
    )


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Titan stream chunk -> Converse events."""
    return flat_chunk_events(chunk, "outputText", "completionReason", _STOP)


def chunk_usage(chunk: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``inputTextTokenCount`` and ``totalOutputTextTokenCount`` of a chunk (floats too)."""
    return (
        CHUNK.opt_count(chunk.get("inputTextTokenCount"), "inputTextTokenCount"),
        CHUNK.opt_count(chunk.get("totalOutputTextTokenCount"), "totalOutputTextTokenCount"),
    )


CODEC = Codec("amazon.titan", build_body, parse_body, chunk_events, chunk_usage=chunk_usage)
