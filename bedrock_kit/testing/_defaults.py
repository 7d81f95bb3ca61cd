"""Replies LocalBedrock sends when nothing is scripted for an operation."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.testing import rerank as rerank_replies
from bedrock_kit.testing import rules as local_rules
from bedrock_kit.testing import scripts
from bedrock_kit.testing.flows import echo_flow_reply
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


# CountTokens refuses model ids of no known provider as Bedrock does (ValidationException).
# It counts any other model's input, so budget tests need no Claude id; script
# Reply.error(400, "ValidationException", NOT_COUNTABLE) for Bedrock's refusal of a model it
# cannot count.
_PROVIDERS = (
    "ai21.",
    "amazon.",
    "anthropic.",
    "cohere.",
    "deepseek.",
    "luma.",
    "meta.",
    "mistral.",
    "openai.",
    "qwen.",
    "stability.",
    "twelvelabs.",
    "writer.",
)
_REGION_PREFIXES = frozenset({"us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"})
INVALID_MODEL = "The provided model identifier is invalid."
"""Bedrock's ValidationException message for a model id it does not know."""
NOT_COUNTABLE = "The provided model doesn't support counting tokens."
"""Bedrock's ValidationException message for a model CountTokens cannot count."""


def count_tokens_refusal(model_id: str) -> Reply | None:
    """The ValidationException CountTokens answers for ``model_id``, or None (counted)."""
    base = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    head, _, rest = base.partition(".")
    bare = rest if head in _REGION_PREFIXES else base
    if model_id.startswith("arn:") and ":foundation-model/" not in model_id:
        return None  # provisioned / custom model ARNs name no provider
    if not bare.startswith(_PROVIDERS):
        return Reply.error(400, "ValidationException", INVALID_MODEL)
    return None


def _count_tokens(
    body: Mapping[str, Any], rules: local_rules.LocalRules, params: Mapping[str, str]
) -> Reply:
    del rules
    refusal = count_tokens_refusal(str(params.get("modelId", "")))
    if refusal is not None:
        return refusal
    given = body.get("input") or {}
    if "converse" in given:
        tokens = _input_tokens(given["converse"])
    elif "invokeModel" in given:
        raw = (given.get("invokeModel") or {}).get("body", "")
        tokens = max(1, scripts.estimate_tokens(base64.b64decode(raw).decode("utf-8", "replace")))
    else:
        return Reply.error(400, "ValidationException", "input must hold converse or invokeModel")
    return Reply.json({"inputTokens": tokens})


def _invoke_flow(body: Mapping[str, Any], answers: DefaultAnswers) -> Reply:
    del answers
    return echo_flow_reply(body)


def _rerank(body: Mapping[str, Any], answers: DefaultAnswers) -> Reply:
    del answers
    return rerank_replies.answer_rerank(body)


_DEFAULTS = {
    "Converse": _converse,
    "ConverseStream": _converse_stream,
    "InvokeFlow": _invoke_flow,
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
    "CountTokens": _count_tokens,
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
