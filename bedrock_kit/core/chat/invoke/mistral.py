"""Mistral bodies: ``[INST]`` prompts for the instruct models, chat for Large / Pixtral."""

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
    metrics_event,
    stop_event,
    system_text,
    text_delta,
    text_only,
)
from bedrock_kit.core.chat.invoke._chat import build_chat_body, chat_chunk_events, parse_chat_body

_STOP = {"stop": "end_turn", "length": "max_tokens"}


def prompt(request: InvokeInput) -> str:
    """Mistral instruct template: user turns in ``[INST]``, answers after them."""
    parts = ["<s>"]
    system = system_text(request.system)
    for message in request.messages:
        text = text_only(message, "Mistral")
        if message.role == "user":
            if system:
                text, system = f"{system}\n\n{text}", ""
            parts.append(f"[INST] {text} [/INST]")
        else:
            parts.append(f"{text}</s>")
    return "".join(parts)


def build_body(request: InvokeInput) -> dict[str, Any]:
    """Mistral instruct body."""
    inference = request.inference
    return {
        **drop_none(
            {
                "prompt": prompt(request),
                "max_tokens": inference.max_tokens,
                "temperature": inference.temperature,
                "top_p": inference.top_p,
                "stop": list(inference.stop_sequences) or None,
            }
        ),
        **request.extra,
    }


def parse_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """Mistral response (``outputs`` or chat ``choices``) -> Converse shape."""
    if "choices" in body:
        return parse_chat_body(body)
    outputs = BODY.items(body.get("outputs"), "outputs")
    if not outputs:
        raise BODY.malformed("outputs is empty", body)
    output = BODY.obj(outputs[0], "outputs[0]")
    reason = body_stop(body, output.get("stop_reason"), "outputs[0].stop_reason")
    # Instruct bodies report no token counts; the response headers carry them.
    return converse_response(
        [{"text": BODY.text(output.get("text"), "outputs[0].text")}],
        _STOP.get(reason, reason),
        None,
        None,
    )


def chunk_events(chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Mistral stream chunk -> Converse events."""
    if "choices" in chunk:
        return chat_chunk_events(chunk)
    events: list[dict[str, Any]] = []
    for i, output in enumerate(CHUNK.opt_items(chunk.get("outputs"), "outputs")):
        output = CHUNK.obj(output, f"outputs[{i}]")
        text = CHUNK.opt_text(output.get("text"), f"outputs[{i}].text")
        if text:
            events.append(text_delta(text))
        reason = CHUNK.opt_text(output.get("stop_reason"), f"outputs[{i}].stop_reason")
        if reason:
            events.append(stop_event(_STOP.get(reason, reason)))
    return events + metrics_event(chunk)


CODEC = Codec("mistral", build_body, parse_body, chunk_events)
CHAT_CODEC = Codec(
    "mistral",
    lambda r: build_chat_body(r, "Mistral"),
    parse_body,
    chunk_events,
    supports_tools=True,
)
