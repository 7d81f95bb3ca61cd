"""The LangChain guard steps on empty or whitespace-only text: not sent, returned unchanged,
reported as not checked (``on_result``; ``stats`` for the stream guard)."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompt_values import StringPromptValue

from bedrock_kit.core.guardrails.texts import GuardedTexts
from bedrock_kit.langchain import BedrockGuardrail
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.builders import guardrail_pass


def _guard(server: LocalBedrock, seen: list[GuardedTexts]) -> BedrockGuardrail:
    return BedrockGuardrail(
        guardrail_id="gr-empty", guardrail_version="1", on_result=seen.append,
        **server.client_kwargs(),
    )  # fmt: skip


@pytest.mark.parametrize(
    "value",
    ["", "   ", StringPromptValue(text="\n"), HumanMessage(content=" "), [AIMessage(content="")],
     {"input": "\t"}, HumanMessage(content=[{"type": "text", "text": " "}])],
)  # fmt: skip
def test_invoke_returns_empty_input_unchanged_without_a_request(
    server: LocalBedrock, value: object
) -> None:
    seen: list[GuardedTexts] = []
    assert _guard(server, seen).invoke(value) == value
    assert server.requests == []
    assert [s.not_checked for s in seen] == ["empty"]
    assert seen[0].result is not None and seen[0].result.not_checked == "empty"


def test_ainvoke_batch_and_abatch_do_not_send_empty_text(server: LocalBedrock) -> None:
    seen: list[GuardedTexts] = []
    guard = _guard(server, seen)
    assert asyncio.run(guard.ainvoke("  ")) == "  "
    assert guard.batch(["", " "]) == ["", " "]
    assert guard.batch([]) == []
    assert asyncio.run(guard.abatch(["\n"])) == ["\n"]
    assert server.requests == []
    assert [s.not_checked for s in seen] == ["empty"] * 4


def test_a_message_list_sends_only_the_texts_with_content(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.json(guardrail_pass(5)))
    seen: list[GuardedTexts] = []
    messages = [HumanMessage(content=" "), HumanMessage(content="hello")]
    assert _guard(server, seen).invoke(messages) == messages
    (sent,) = server.requests_for("ApplyGuardrail")
    assert sent.body["content"] == [{"text": {"text": "hello"}}]
    assert seen[0].empty == (0,) and seen[0].not_checked is None


def test_stream_guard_releases_whitespace_without_a_call(server: LocalBedrock) -> None:
    guard = _guard(server, []).stream_guard(window_size=3, overlap=1)
    assert "".join(guard.stream("    ")) == "    "
    assert guard.invoke(AIMessage(content="  ")).content == "  "
    assert server.requests == []
    assert guard.stats.calls == 0 and guard.stats.not_checked == "empty"
