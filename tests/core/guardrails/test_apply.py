"""ApplyGuardrail and the stream guard over real HTTP: real boto3 / aiobotocore clients
against LocalBedrock, replies shaped like the recorded AWS responses."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bedrock_kit.core.guardrails.apply import GuardrailClient, GuardrailImage, GuardrailText
from bedrock_kit.core.guardrails.stream_guard import StreamGuard
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    ConfigurationError,
    GuardrailInterventionError,
    InternalServerError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply

GID = "gr7abc123"
BLOCKED_MESSAGE = "Sorry, the model cannot answer this question."


def _guardrail(server: LocalBedrock, version: str = "1") -> GuardrailClient:
    settings = ClientSettings(
        region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0
    )
    return GuardrailClient(GID, version, settings=settings)


def _usage(units: int = 1) -> dict[str, int]:
    return {
        "automatedReasoningPolicies": 0,
        "automatedReasoningPolicyUnits": 0,
        "contentPolicyImageUnits": 0,
        "contentPolicyUnits": units,
        "contextualGroundingPolicyUnits": 0,
        "sensitiveInformationPolicyFreeUnits": units,
        "sensitiveInformationPolicyUnits": units,
        "topicPolicyUnits": units,
        "wordPolicyUnits": units,
    }


def none_reply(chars: int = 10) -> Reply:
    return Reply.json(
        {
            "action": "NONE",
            "actionReason": "No action.",
            "outputs": [],
            "assessments": [
                {
                    "invocationMetrics": {
                        "guardrailCoverage": {"textCharacters": {"guarded": chars, "total": chars}},
                        "guardrailProcessingLatency": 120,
                        "usage": _usage(),
                    }
                }
            ],
            "guardrailCoverage": {"textCharacters": {"guarded": chars, "total": chars}},
            "usage": _usage(),
        }
    )


def blocked_reply() -> Reply:
    return Reply.json(
        {
            "action": "GUARDRAIL_INTERVENED",
            "actionReason": "Guardrail blocked.",
            "outputs": [{"text": BLOCKED_MESSAGE}],
            "assessments": [
                {
                    "appliedGuardrailDetails": {"guardrailId": GID, "guardrailVersion": "1"},
                    "topicPolicy": {
                        "topics": [
                            {"name": "Investing", "type": "DENY", "action": "BLOCKED",
                             "detected": True}
                        ]
                    },
                }
            ],
            "usage": _usage(),
        }
    )  # fmt: skip


def masked_reply(masked: str, match: str) -> Reply:
    return Reply.json(
        {
            "action": "GUARDRAIL_INTERVENED",
            "actionReason": "Guardrail masked.",
            "outputs": [{"text": masked}],
            "assessments": [
                {
                    "sensitiveInformationPolicy": {
                        "piiEntities": [
                            {"action": "ANONYMIZED", "detected": True, "match": match,
                             "type": "EMAIL"}
                        ]
                    }
                }
            ],
            "usage": _usage(),
        }
    )  # fmt: skip


def _sent_text(request: Any) -> str:
    return "".join(block["text"]["text"] for block in request.body["content"])


# ------------------------------------------------------------------ apply


def test_input_intervened(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", blocked_reply())
    result = _guardrail(server).apply("Which stocks should I buy?", source="INPUT")
    assert result.blocked and result.action == "GUARDRAIL_INTERVENED"
    assert result.output_text == BLOCKED_MESSAGE
    assert result.assessment.topics[0].name == "Investing"
    assert result.request_id  # LocalBedrock sends x-amzn-RequestId like AWS
    (request,) = server.requests_for("ApplyGuardrail")
    assert request.path_params == {"guardrailIdentifier": GID, "guardrailVersion": "1"}
    assert request.body["source"] == "INPUT"
    assert request.body["content"] == [{"text": {"text": "Which stocks should I buy?"}}]


def test_input_none_with_full_scope(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", none_reply(5))
    guard = GuardrailClient(
        GID,
        "DRAFT",
        settings=ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url),
        output_scope="FULL",
    )
    result = guard.apply("hello")
    assert not result.intervened and result.released_text("hello") == "hello"
    assert result.usage.topic_policy_units == 1 and result.total_characters == 5
    assert result.assessment.processing_latency_ms == 120
    assert server.requests[0].body["outputScope"] == "FULL"
    assert server.requests[0].path_params["guardrailVersion"] == "DRAFT"


def test_output_anonymized_and_image_content(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", masked_reply("Mail {EMAIL} now", "a@b.com"))
    image = GuardrailImage(b"\x89PNG\r\n", "png")
    result = _guardrail(server).apply(["Mail a@b.com now", image], source="OUTPUT")
    assert result.anonymized and result.released_text("Mail a@b.com now") == "Mail {EMAIL} now"
    body = server.requests[0].body
    assert body["source"] == "OUTPUT"
    assert body["content"][1] == {
        "image": {"format": "png", "source": {"bytes": base64.b64encode(b"\x89PNG\r\n").decode()}}
    }


async def test_async_apply_is_native_async(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", blocked_reply(), none_reply())
    guard = _guardrail(server)
    try:
        blocked = await guard.aapply("buy stocks?")
        passed = await guard.aapply("hi", source="OUTPUT")
    finally:
        await guard.aclose()
    assert blocked.blocked and not passed.intervened
    assert [r.body["source"] for r in server.requests] == ["INPUT", "OUTPUT"]
    assert "aiohttp" in server.requests[0].headers.get("User-Agent", "").lower()  # native async


def test_throttling_is_translated(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.error(429, "ThrottlingException", "Too many requests"))
    with pytest.raises(ThrottlingError) as info:
        _guardrail(server).apply("hi")
    assert info.value.model_id == GID and info.value.status_code == 429


def test_grounding_check_sends_qualifiers_and_reads_scores(server: LocalBedrock) -> None:
    server.script(
        "ApplyGuardrail",
        Reply.json(
            {
                "action": "GUARDRAIL_INTERVENED",
                "outputs": [{"text": "Sorry."}],
                "assessments": [
                    {
                        "contextualGroundingPolicy": {
                            "filters": [
                                {"type": "GROUNDING", "threshold": 0.8, "score": 0.31,
                                 "action": "BLOCKED", "detected": True},
                                {"type": "RELEVANCE", "threshold": 0.5, "score": 0.92,
                                 "action": "NONE", "detected": False},
                            ]
                        }
                    }
                ],
                "usage": _usage(),
            }
        ),
    )  # fmt: skip
    grounding = _guardrail(server).check_grounding(
        "Paris has 90 million people.", ["Paris has 2.1 million inhabitants."], "Paris size?"
    )
    assert not grounding.passed
    assert grounding.grounding is not None and grounding.grounding.score == 0.31
    assert grounding.relevance is not None and grounding.relevance.threshold == 0.5
    body = server.requests[0].body
    assert body["source"] == "OUTPUT" and body["outputScope"] == "FULL"
    assert [b["text"]["qualifiers"] for b in body["content"]] == [
        ["grounding_source"],
        ["query"],
        ["guard_content"],
    ]


async def test_grounding_without_policy_is_a_configuration_error(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", none_reply())
    guard = _guardrail(server)
    try:
        with pytest.raises(ConfigurationError, match="contextual grounding"):
            await guard.acheck_grounding("answer", "source")
    finally:
        await guard.aclose()


def test_bad_arguments_fail_before_any_request(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match="guardrail_version"):
        GuardrailClient(GID, "latest")
    with pytest.raises(ConfigurationError, match="qualifiers"):
        _guardrail(server).apply([GuardrailText("x", ("nope",))])
    assert server.requests == []


# ------------------------------------------------------------------ stream guard


def _stream(text: str, size: int = 5) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


async def _astream(text: str, size: int = 5) -> AsyncIterator[str]:
    for chunk in _stream(text, size):
        yield chunk


TEXT = "".join(f"sentence number {i:03d} of the answer. " for i in range(70))  # 2,450 chars


def _assert_checked_before_release(server: LocalBedrock, piece: str, released: str) -> None:
    requests = server.requests_for("ApplyGuardrail")
    assert requests, "text released before any guardrail call"
    assert piece in _sent_text(requests[-1]), "released text was not in the last checked window"


def test_stream_guard_releases_only_checked_text(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", *[none_reply() for _ in range(3)])
    guard = StreamGuard(_guardrail(server))
    released = ""
    for piece in guard.guard(_stream(TEXT)):
        _assert_checked_before_release(server, piece, released)
        released += piece
    assert released == TEXT
    windows = [_sent_text(r) for r in server.requests_for("ApplyGuardrail")]
    assert [len(w) for w in windows] == [1000, 1000, len(TEXT) - 1900]  # 950 new + 50 again
    assert all(r.body["source"] == "OUTPUT" for r in server.requests)
    assert guard.stats.calls == 3 and guard.stats.text_units == 3
    assert guard.stats.usage.topic_policy_units == 3  # what Bedrock reported


def test_stream_guard_releases_masked_window(server: LocalBedrock) -> None:
    text = TEXT[:400] + "write to a@b.com " + TEXT[417:1400]
    first_masked = text[:1000].replace("a@b.com", "{EMAIL}")
    server.script("ApplyGuardrail", masked_reply(first_masked, "a@b.com"), none_reply())
    released = "".join(StreamGuard(_guardrail(server)).guard(_stream(text)))
    assert "a@b.com" not in released and "{EMAIL}" in released
    assert released == text.replace("a@b.com", "{EMAIL}")


def test_stream_guard_blocked_window_releases_nothing_of_it(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", none_reply(), blocked_reply())
    guard = StreamGuard(_guardrail(server))
    released = ""
    with pytest.raises(GuardrailInterventionError) as info:
        for piece in guard.guard(_stream(TEXT)):
            released += piece
    assert info.value.output_text == BLOCKED_MESSAGE
    second = _sent_text(server.requests_for("ApplyGuardrail")[1])
    assert released == TEXT[:950]  # the first window only, its held-back tail excluded
    assert second == TEXT[950:1950]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply.error(500, "InternalServerException", "boom"), InternalServerError),
        (Reply.error(429, "ThrottlingException", "Too many requests"), ThrottlingError),
    ],
)
def test_stream_guard_fails_closed_mid_stream(
    server: LocalBedrock, reply: Reply, error: type[Exception]
) -> None:
    server.script("ApplyGuardrail", none_reply(), reply)
    released = ""
    with pytest.raises(error):
        for piece in StreamGuard(_guardrail(server)).guard(_stream(TEXT)):
            released += piece
    assert released == TEXT[:950]


async def test_async_stream_guard_order_block_and_failure(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", none_reply(), none_reply(), none_reply())
    client = _guardrail(server)
    try:
        released = ""
        async for piece in StreamGuard(client).aguard(_astream(TEXT)):
            _assert_checked_before_release(server, piece, released)
            released += piece
        assert released == TEXT

        server.clear()
        server.script("ApplyGuardrail", blocked_reply())
        seen = ""
        with pytest.raises(GuardrailInterventionError):
            async for piece in StreamGuard(client).aguard(_astream(TEXT)):
                seen += piece
        assert seen == ""

        server.script("ApplyGuardrail", Reply.error(500, "InternalServerException", "boom"))
        replaced: list[str] = []
        with pytest.raises(InternalServerError):
            async for piece in StreamGuard(client).aguard(_astream("short answer")):
                replaced.append(piece)
        assert replaced == []
    finally:
        await client.aclose()


def test_stream_guard_message_mode_substitutes_blocked_message(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", none_reply(), blocked_reply())
    guard = StreamGuard(_guardrail(server), on_block="message")
    pieces = list(guard.guard(_stream(TEXT)))
    assert pieces == [TEXT[:950], BLOCKED_MESSAGE]
