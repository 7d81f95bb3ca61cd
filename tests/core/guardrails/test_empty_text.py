"""Empty or whitespace-only text: not sent, returned unchanged, recorded as not checked.

One behaviour for every core entry point (``apply``/``aapply``, a batch of texts, the stream
guard); LocalBedrock's request log proves no request left the process.
"""

from __future__ import annotations

import asyncio

import pytest

from bedrock_kit.core.guardrails.apply import GuardrailClient, GuardrailImage, GuardrailText
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.core.guardrails.stream_guard import StreamGuard, StreamGuardStats
from bedrock_kit.core.guardrails.texts import aguard_texts, guard_texts
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.builders import guardrail_mask, guardrail_pass

EMPTIES = ["", " ", "\n\t  ", "\u3000"]


def _client(server: LocalBedrock) -> GuardrailClient:
    return GuardrailClient("gr-empty", "1", settings=ClientSettings(**server.client_kwargs()))


@pytest.mark.parametrize("text", EMPTIES)
def test_apply_sends_nothing_and_says_not_checked(server: LocalBedrock, text: str) -> None:
    client = _client(server)
    result = client.apply(text)
    assert server.requests_for("ApplyGuardrail") == []
    assert result.not_checked == "empty" and not result.checked
    assert result.action == "NONE" and not result.blocked and not result.intervened
    assert result.released_text(text) == text  # returned unchanged
    assert result.text_units == 0 and result.usage == GuardrailUsage()
    assert result.empty_blocks == (0,)


def test_aapply_and_empty_list_are_not_sent(server: LocalBedrock) -> None:
    client = _client(server)
    results = asyncio.run(_both(client))
    assert server.requests_for("ApplyGuardrail") == []
    assert [r.not_checked for r in results] == ["empty", "empty", "empty"]
    assert results[1].empty_blocks == () and results[2].empty_blocks == (0, 1)


async def _both(client: GuardrailClient) -> list[object]:
    return [
        await client.aapply("  ", source="OUTPUT"),
        client.apply([]),
        await client.aapply(["", GuardrailText(" \n")]),
    ]


def test_empty_blocks_are_left_out_of_a_mixed_request(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.json(guardrail_pass(5)))
    result = _client(server).apply(["", "hello", "   "])
    (sent,) = server.requests_for("ApplyGuardrail")
    assert sent.body["content"] == [{"text": {"text": "hello"}}]
    assert result.checked and result.empty_blocks == (0, 2)


def test_an_image_alone_is_still_checked(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.json(guardrail_pass(0)))
    _client(server).apply(["", GuardrailImage(b"\x89PNG", "png")])
    (sent,) = server.requests_for("ApplyGuardrail")
    assert list(sent.body["content"][0]) == ["image"]


def test_bad_arguments_are_refused_even_for_empty_text(server: LocalBedrock) -> None:
    client = _client(server)
    with pytest.raises(ConfigurationError, match="source"):
        client.apply("", source="SIDEWAYS")
    with pytest.raises(ConfigurationError, match="qualifiers"):
        client.apply(GuardrailText("", ("nonsense",)))
    with pytest.raises(ConfigurationError, match="content must be"):
        client.apply(42)  # type: ignore[arg-type]
    assert server.requests == []


def test_batch_of_texts_reports_not_checked(server: LocalBedrock) -> None:
    client = _client(server)
    checked = guard_texts(client, ["", " \n"], source="INPUT")
    achecked = asyncio.run(aguard_texts(client, [], source="OUTPUT"))
    assert server.requests == []
    assert checked.texts == ("", " \n") and checked.not_checked == "empty"
    assert checked.result is not None and checked.result.not_checked == "empty"
    assert achecked.not_checked == "empty" and achecked.texts == ()


def test_batch_sends_only_texts_with_content(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.json(guardrail_mask("mail {EMAIL}")))
    checked = guard_texts(_client(server), [" ", "mail a@b.c"], source="INPUT")
    (sent,) = server.requests_for("ApplyGuardrail")
    assert [b["text"]["text"] for b in sent.body["content"]] == ["mail a@b.c"]
    assert checked.texts == (" ", "mail {EMAIL}")
    assert checked.empty == (0,) and checked.not_checked is None


@pytest.mark.parametrize("chunks", [[], [""], ["  ", "\n", "\t"]])
def test_stream_guard_releases_whitespace_without_a_call(
    server: LocalBedrock, chunks: list[str]
) -> None:
    guard = StreamGuard(_client(server), window_size=2, overlap=1)
    stats = StreamGuardStats()
    released = "".join(guard.guard(chunks, stats=stats))
    assert server.requests == []
    assert released == "".join(chunks)
    assert stats.calls == 0 and stats.text_units == 0 and stats.empty_windows >= 1
    assert stats.not_checked == "empty" and guard.stats.not_checked == "empty"


def test_async_stream_guard_checks_text_but_not_blank_windows(server: LocalBedrock) -> None:
    server.set_default("ApplyGuardrail", Reply.json(guardrail_pass(4)))
    guard = StreamGuard(_client(server), window_size=4, overlap=0)
    stats = StreamGuardStats()

    async def run() -> str:
        return "".join([t async for t in guard.aguard(["    ", "word", "    "], stats=stats)])

    assert asyncio.run(run()) == "    word    "
    sent = [r.body["content"][0]["text"]["text"] for r in server.requests_for("ApplyGuardrail")]
    assert sent == ["word"]
    assert stats.calls == 1 and stats.empty_windows == 2 and stats.not_checked is None


def test_grounding_refuses_an_empty_answer_by_name(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match="nothing to score"):
        _client(server).check_grounding("  ", "sources")
    assert server.requests == []
