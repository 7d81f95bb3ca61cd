"""The LlamaIndex guard on empty or whitespace-only text: not sent, returned unchanged,
reported as not checked (``on_result``; ``stream_stats`` for streams)."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.base.response.schema import Response
from llama_index.core.schema import NodeWithScore, TextNode

from bedrock_kit.core.guardrails.texts import GuardedTexts
from bedrock_kit.llama_index import BedrockGuardrail, BedrockGuardrailNodePostprocessor
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.builders import guardrail_pass


def _guard(server: LocalBedrock, seen: list[GuardedTexts]) -> BedrockGuardrail:
    return BedrockGuardrail(
        guardrail_id="gr-empty", guardrail_version="1", on_result=seen.append,
        **server.client_kwargs(),
    )  # fmt: skip


@pytest.mark.parametrize("text", ["", "  ", "\n\t"])
def test_check_returns_empty_text_unchanged_without_a_request(
    server: LocalBedrock, text: str
) -> None:
    seen: list[GuardedTexts] = []
    guard = _guard(server, seen)
    assert guard.check(text) == text
    assert asyncio.run(guard.acheck(text, "OUTPUT")) == text
    assert server.requests == []
    assert [s.not_checked for s in seen] == ["empty", "empty"]


def test_empty_answers_and_nodes_are_not_sent(server: LocalBedrock) -> None:
    seen: list[GuardedTexts] = []
    guard = _guard(server, seen)
    answer = guard.guard_response(Response(response=" "))
    nodes = [NodeWithScore(node=TextNode(text=" "), score=1.0)]
    kept = BedrockGuardrailNodePostprocessor(guardrail=guard).postprocess_nodes(nodes)
    assert answer.response == " " and kept == nodes
    assert server.requests == []
    assert [s.not_checked for s in seen] == ["empty", "empty"]  # the answer, then the nodes


def test_only_nodes_with_text_are_sent(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.json(guardrail_pass(4)))
    nodes = [NodeWithScore(node=TextNode(text=t), score=1.0) for t in ("", "tide")]
    kept = BedrockGuardrailNodePostprocessor(guardrail=_guard(server, [])).postprocess_nodes(nodes)
    (sent,) = server.requests_for("ApplyGuardrail")
    assert sent.body["content"] == [{"text": {"text": "tide"}}]
    assert [n.node.get_content() for n in kept] == ["", "tide"]


def test_stream_guard_releases_whitespace_without_a_call(server: LocalBedrock) -> None:
    guard = _guard(server, [])

    async def consume() -> str:
        return "".join([t async for t in guard.aguard_stream(_agen(["  ", "\n"]))])

    assert "".join(guard.guard_stream(iter(["   "]))) == "   "
    assert asyncio.run(consume()) == "  \n"
    assert server.requests == []
    assert guard.stream_stats.calls == 0 and guard.stream_stats.not_checked == "empty"


async def _agen(items: list[str]):  # type: ignore[no-untyped-def]
    for item in items:
        yield item
