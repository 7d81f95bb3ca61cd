"""Replies LocalBedrock sends when nothing is scripted for an operation."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.testing import rerank as rerank_replies
from bedrock_kit.testing import rules as local_rules
from bedrock_kit.testing import scripts
from bedrock_kit.testing.replies import Reply

_LATENCY_MS = 1


@dataclass(frozen=True)
class DefaultAnswers:
    """How default Converse answers are made."""

    default_text: str | None = None
    """A fixed answer; None echoes the last user text as ``echo: <text>``."""
    answer_tokens: int | None = None
    """Make every answer exactly this many (estimated) tokens long."""
    chunk_tokens: int = 4
    """Tokens per ``contentBlockDelta`` of a default ConverseStream answer."""
    rules: local_rules.LocalRules = field(default_factory=local_rules.LocalRules)
    """How guardrails, knowledge bases, agents and embeddings answer (a rule file)."""

    def __post_init__(self) -> None:
        if self.answer_tokens is not None and self.answer_tokens < 1:
            raise ValueError(f"answer_tokens must be >= 1, got {self.answer_tokens}")
        if self.chunk_tokens < 1:
            raise ValueError(f"chunk_tokens must be >= 1, got {self.chunk_tokens}")

    def answer(self, request: Mapping[str, Any]) -> str:
        """The answer text for a Converse request body."""
        text = self.default_text
        if text is None:
            text = f"echo: {scripts.last_user_text(request)}"
        if self.answer_tokens is not None:
            # Four characters per estimated token, so the answer is exactly N tokens.
            wanted = 4 * self.answer_tokens
            text = (text + " ") * (wanted // (len(text) + 1) + 1)
            text = text[:wanted]
        return text


def _input_tokens(converse: Mapping[str, Any]) -> int:
    return max(1, scripts.estimate_tokens(" ".join(scripts.request_texts(converse))))


def _converse(body: Mapping[str, Any], answers: DefaultAnswers) -> Reply:
    return Reply.json(
        scripts.converse_reply(
            answers.answer(body), input_tokens=_input_tokens(body), latency_ms=_LATENCY_MS
        )
    )


def _converse_stream(body: Mapping[str, Any], answers: DefaultAnswers) -> Reply:
    events = scripts.converse_stream_events(
        answers.answer(body),
        input_tokens=_input_tokens(body),
        latency_ms=_LATENCY_MS,
        chunk_chars=4 * answers.chunk_tokens,
    )
    return Reply.events(events)


def _count_tokens(body: Mapping[str, Any], answers: DefaultAnswers) -> Reply:
    del answers
    given = body.get("input") or {}
    if "converse" in given:
        tokens = _input_tokens(given["converse"])
    else:
        raw = (given.get("invokeModel") or {}).get("body", "")
        tokens = max(1, scripts.estimate_tokens(base64.b64decode(raw).decode("utf-8", "replace")))
    return Reply.json({"inputTokens": tokens})


def _rerank(body: Mapping[str, Any], answers: DefaultAnswers) -> Reply:
    del answers
    return rerank_replies.answer_rerank(body)


_DEFAULTS = {
    "Converse": _converse,
    "ConverseStream": _converse_stream,
    "CountTokens": _count_tokens,
    # Rerank (bedrock-agent-runtime): documents scored lexically, best first.
    "Rerank": _rerank,
}

_Ruled = Callable[[Mapping[str, Any], local_rules.LocalRules, Mapping[str, str]], Reply | None]
_RULED: dict[str, _Ruled] = {
    "ApplyGuardrail": local_rules.apply_guardrail,
    "Retrieve": local_rules.retrieve,
    "RetrieveAndGenerate": local_rules.retrieve_and_generate,
    "RetrieveAndGenerateStream": local_rules.retrieve_and_generate_stream,
    "InvokeAgent": local_rules.invoke_agent,
    "InvokeInlineAgent": local_rules.invoke_agent,
    "InvokeModel": local_rules.invoke_model,
}


def default_reply(
    operation: str, body: Any, answers: DefaultAnswers, params: Mapping[str, str] | None = None
) -> Reply:
    """The unscripted reply to ``operation``: an echo answer, a rule-file answer, or a 500."""
    given = body if isinstance(body, Mapping) else {}
    ruled = _RULED.get(operation)
    reply = ruled(given, answers.rules, params or {}) if ruled is not None else None
    if reply is not None:
        return reply
    make = _DEFAULTS.get(operation)
    if make is None:
        return Reply.error(
            500,
            "InternalServerException",
            f"LocalBedrock has no reply for {operation}: script one with "
            f"server.script({operation!r}, Reply...)",
        )
    return make(given, answers)
