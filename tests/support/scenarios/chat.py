"""Chat scenarios: the model, message content, tools and the Converse replies both adapters get.

The chat tests replay cassettes recorded from these replies; change a reply and the cassettes
that recorded it must be recorded again (``--record-mode=rewrite``).
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, Field

from bedrock_kit.testing import Reply
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
"""A 1x1 PNG image."""


class Person(BaseModel):
    """A person."""

    name: str = Field(description="full name")
    age: int


def get_weather(city: str, unit: str = "celsius") -> str:
    """Current weather in a city."""
    return f"18 {unit} in {city}"


def parallel_weather_calls() -> Reply:
    """Text, then two get_weather calls in one turn (Oslo, Rome in kelvin; ids a, b)."""
    return Reply.json(
        converse_reply(
            "Let me look.",
            tool_uses=[
                {"name": "get_weather", "input": {"city": "Oslo"}, "toolUseId": "a"},
                {
                    "name": "get_weather",
                    "input": {"city": "Rome", "unit": "kelvin"},
                    "toolUseId": "b",
                },
            ],
        )
    )


FRAGMENTED_CALL = {"city": "São Paulo", "unit": "celsius"}
"""The arguments :func:`fragmented_weather_call` streams, three characters a delta."""


def fragmented_weather_call() -> Reply:
    """A streamed get_weather call (id x) whose JSON arguments arrive in many fragments."""
    tool_uses = [{"name": "get_weather", "input": FRAGMENTED_CALL, "toolUseId": "x"}]
    return Reply.events(converse_stream_events(tool_uses=tool_uses, chunk_chars=3))


def person_tool_use(name: str, age: int) -> Reply:
    """The model fills the Person tool: structured output by tool calling."""
    return Reply.json(
        converse_reply(tool_uses=[{"name": "Person", "input": {"name": name, "age": age}}])
    )


def throttled() -> Reply:
    """A 429 ThrottlingException."""
    return Reply.error(429, "ThrottlingException", "Too many requests, please wait.")


CUT_SHORT = "this answer is cut short"


def cut_short_stream() -> Reply:
    """A stream of :data:`CUT_SHORT` that ends without messageStop and metadata."""
    events = converse_stream_events(CUT_SHORT, chunk_chars=4)
    return Reply.events(events[:-2])


def stream_exception(event: str, message: str) -> Reply:
    """Two text deltas of "partial", then the in-stream exception ``event``."""
    events = converse_stream_events("partial", chunk_chars=3)
    return Reply.events(events, exception_at=(2, event, message))


GUARDRAIL = {"guardrailIdentifier": "gr1", "guardrailVersion": "1", "trace": "enabled"}
"""Converse ``guardrailConfig`` of guardrail gr1 with its trace."""


def _invocation_metrics(characters: int, latency_ms: int, **units: int) -> dict[str, Any]:
    return {
        "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
        "guardrailProcessingLatency": latency_ms,
        "usage": units,
    }


def address_masking_trace(
    *matches: str,
    output_characters: int,
    input_characters: int | None = None,
    action_reason: str = "Guardrail masked.",
) -> dict[str, Any]:
    """A Converse ``trace``: gr1's PII filter anonymised the ADDRESS ``matches`` of the output.

    With ``input_characters``, the input was checked too and only billed units.
    """
    entities = [
        {"action": "ANONYMIZED", "detected": True, "match": match, "type": "ADDRESS"}
        for match in matches
    ]
    output = {
        "sensitiveInformationPolicy": {"piiEntities": entities},
        "invocationMetrics": _invocation_metrics(
            output_characters, 250, sensitiveInformationPolicyFreeUnits=1, topicPolicyUnits=1
        ),
    }
    guardrail: dict[str, Any] = {
        "actionReason": action_reason,
        "outputAssessments": {"gr1": [output]},
    }
    if input_characters is not None:
        metrics = _invocation_metrics(
            input_characters, 262, contentPolicyUnits=1, topicPolicyUnits=1, wordPolicyUnits=1
        )
        guardrail["inputAssessment"] = {"gr1": {"invocationMetrics": metrics}}
    return {"guardrail": guardrail}
