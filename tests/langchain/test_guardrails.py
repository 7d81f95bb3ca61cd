"""LangChain guardrail runnables against LocalBedrock with real boto3 / aiobotocore clients."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompt_values import ChatPromptValue
from langchain_core.prompts import ChatPromptTemplate

from bedrock_kit.core.guardrails.texts import GuardedTexts
from bedrock_kit.errors import ConfigurationError, GuardrailInterventionError, ThrottlingError
from bedrock_kit.langchain.chat import ChatBedrockKit
from bedrock_kit.langchain.guardrails import (
    BedrockGroundingCheck,
    BedrockGuardrail,
    BedrockStreamGuard,
)
from bedrock_kit.testing import LocalBedrock, Reply
from tests.support.scenarios import client_args
from tests.support.scenarios.guardrails import (
    BLOCKED,
    GID,
    blocked,
    grounding,
    masked,
    none,
    sent_texts,
)

MODEL = "amazon.nova-micro-v1:0"


def _guard(server: LocalBedrock, **kwargs: Any) -> BedrockGuardrail:
    return BedrockGuardrail(guardrail_id=GID, guardrail_version=1, **client_args(server), **kwargs)


# ------------------------------------------------------------------ BedrockGuardrail


def test_str_passes_masks_and_blocks(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", none(), masked("mail {EMAIL}"), blocked())
    guard = _guard(server)
    assert guard.invoke("hello") == "hello"
    assert guard.invoke("mail a@b.com") == "mail {EMAIL}"
    with pytest.raises(GuardrailInterventionError) as info:
        guard.invoke("buy stocks?")
    assert info.value.output_text == BLOCKED
    assert info.value.assessment is not None and info.value.assessment.topics[0].name == "Investing"
    assert [r.body["source"] for r in server.requests] == ["INPUT"] * 3
    assert server.requests[0].path_params["guardrailVersion"] == "1"


def test_on_block_message_and_detect(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", blocked(), blocked(), blocked())
    assert _guard(server, on_block="message").invoke("buy?") == BLOCKED
    seen: list[GuardedTexts] = []
    detect = _guard(server, on_block="detect", on_result=seen.append)
    assert detect.invoke("buy?") == "buy?"
    assert seen[0].blocked
    out = detect.invoke({"input": "buy?", "other": 1})
    assert out["input"] == "buy?" and out["other"] == 1
    assert out["guardrail"].blocked and out["guardrail"].blocked_message == BLOCKED


def test_messages_are_checked_in_one_call_and_masked_in_place(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", masked("be nice", "write {EMAIL}"))
    messages = [SystemMessage("be nice"), HumanMessage("write a@b.com")]
    out = _guard(server).invoke(messages)
    assert [type(m) for m in out] == [SystemMessage, HumanMessage]
    assert [m.content for m in out] == ["be nice", "write {EMAIL}"]
    assert len(server.requests) == 1 and sent_texts(server) == ["be nice", "write a@b.com"]


def test_unmatched_outputs_fall_back_to_one_call_per_text(server: LocalBedrock) -> None:
    # one output for two blocks: cannot tell which message it belongs to
    server.script("ApplyGuardrail", masked("??"), none(), masked("write {EMAIL}"))
    content: list[str | dict[str, Any]] = [{"type": "text", "text": "write a@b.com"}]
    messages = [HumanMessage("hi"), HumanMessage(content=content)]
    out = _guard(server).invoke(ChatPromptValue(messages=messages))
    assert isinstance(out, ChatPromptValue)
    assert out.messages[0].content == "hi"
    assert out.messages[1].content == [{"type": "text", "text": "write {EMAIL}"}]
    assert [sent_texts(server, i) for i in range(3)] == [["hi", "write a@b.com"], ["hi"],
                                                    ["write a@b.com"]]  # fmt: skip


def test_lcel_chain_guards_input_and_output(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", masked("my mail is {EMAIL}"), none())
    guard_in = _guard(server)
    guard_out = guard_in.with_source("OUTPUT")
    llm = ChatBedrockKit(model=MODEL, **client_args(server))
    prompt = ChatPromptTemplate.from_messages([("human", "{input}")])
    chain = guard_in | prompt | llm | StrOutputParser() | guard_out
    answer = chain.invoke({"input": "my mail is a@b.com"})
    assert answer == "echo: my mail is {EMAIL}"
    assert [r.operation for r in server.requests] == ["ApplyGuardrail", "Converse",
                                                      "ApplyGuardrail"]  # fmt: skip
    converse = server.requests[1].body
    assert converse["messages"][0]["content"][0]["text"] == "my mail is {EMAIL}"
    assert [r.body["source"] for r in server.requests_for("ApplyGuardrail")] == [
        "INPUT",
        "OUTPUT",
    ]
    assert sent_texts(server) == ["echo: my mail is {EMAIL}"]
    assert guard_out.core is guard_in.core  # with_source shares the clients


async def test_async_chain_blocks_before_the_model(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", blocked())
    guard = _guard(server)
    llm = ChatBedrockKit(model=MODEL, **client_args(server))
    try:
        with pytest.raises(GuardrailInterventionError):
            await (guard | llm).ainvoke("buy stocks?")
    finally:
        await guard.aclose()
    assert [r.operation for r in server.requests] == ["ApplyGuardrail"]
    assert "aiohttp" in server.requests[0].headers.get("User-Agent", "").lower()  # native async


def test_constructor_errors_are_configuration_errors(server: LocalBedrock) -> None:
    with pytest.raises(ConfigurationError, match="guardrail_version"):
        BedrockGuardrail(guardrail_id=GID, guardrail_version="v2")
    with pytest.raises(ConfigurationError, match="source"):
        _guard(server).with_source("BOTH")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="input_key"):
        _guard(server).invoke({"question": "x"})
    with pytest.raises(ConfigurationError, match="guardrail_versoin"):
        BedrockGuardrail(guardrail_id=GID, guardrail_versoin="1")
    with pytest.raises(ConfigurationError, match="overlap"):
        BedrockStreamGuard(guardrail_id=GID, overlap=2000)
    assert server.requests == []


def test_secrets_are_not_printed() -> None:
    guard = BedrockGuardrail(
        guardrail_id=GID, aws_access_key_id="AKIDSECRET", aws_secret_access_key="s3cr3t"
    )
    assert "s3cr3t" not in repr(guard) and "AKIDSECRET" not in repr(guard)
    assert "s3cr3t" not in repr(guard.core)


# ------------------------------------------------------------------ stream guard


def _long_answer_server() -> LocalBedrock:
    return LocalBedrock(default_text="The tide rises and falls twice a day. " * 60)


def test_chain_stream_releases_only_checked_text() -> None:
    with _long_answer_server() as server:
        answer = server.answers.answer({})
        server.script("ApplyGuardrail", *[none() for _ in range(3)])
        llm = ChatBedrockKit(model=MODEL, **client_args(server))
        guard = BedrockGuardrail(guardrail_id=GID, **client_args(server)).stream_guard()
        chain = llm | guard
        released = ""
        chunks = []
        for chunk in chain.stream("tides?"):
            assert isinstance(chunk, AIMessageChunk)
            text = chunk.text
            if text:
                assert text in sent_texts(server)[0]  # the window holding it was checked first
            released += text
            chunks.append(chunk)
        assert released == answer
        assert [len(sent_texts(server, i)[0]) for i in range(3)] == [1000, 1000, len(answer) - 1900]
        # usage metadata of the model's last chunk is passed on, after the text
        assert chunks[-1].usage_metadata is not None and chunks[-1].text == ""
        assert guard.stats.calls == 3 and guard.stats.text_units == 3


async def test_async_chain_stream_blocked_window_releases_nothing_of_it() -> None:
    with _long_answer_server() as server:
        answer = server.answers.answer({})
        server.script("ApplyGuardrail", none(), blocked())
        llm = ChatBedrockKit(model=MODEL, **client_args(server))
        guard = BedrockStreamGuard(guardrail_id=GID, **client_args(server))
        released = ""
        with pytest.raises(GuardrailInterventionError):
            async for chunk in (llm | StrOutputParser() | guard).astream("tides?"):
                assert isinstance(chunk, str)
                released += chunk
        assert released == answer[:950]
        await guard.aclose()
        await llm.aclose()


def test_stream_guard_fails_closed_and_replaces_on_request(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", Reply.error(429, "ThrottlingException", "slow down"))
    guard = BedrockStreamGuard(guardrail_id=GID, **client_args(server))
    with pytest.raises(ThrottlingError):
        list(guard.stream("some model answer"))
    server.script("ApplyGuardrail", blocked())
    replacing = BedrockStreamGuard(
        guardrail_id=GID, on_block="message", replacement="[removed]", **client_args(server)
    )
    assert replacing.invoke("bad answer") == "[removed]"
    server.script("ApplyGuardrail", masked("hi {EMAIL}"))
    message = replacing.invoke(AIMessage("hi a@b.com", id="m1"))
    assert type(message) is AIMessage and message.content == "hi {EMAIL}"
    assert message.id == "m1"


# ------------------------------------------------------------------ grounding


def test_grounding_check_flags_and_raises(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", grounding(0.95), grounding(0.2))
    docs = [Document(page_content="Paris has 2.1 million inhabitants.")]
    value = {"question": "How big is Paris?", "context": docs, "answer": AIMessage("2.1 million")}
    flagged = BedrockGroundingCheck(guardrail_id=GID, on_fail="flag", **client_args(server)).invoke(
        value
    )
    assert flagged["grounding"].passed and flagged["grounding"].grounding.score == 0.95
    body = server.requests[0].body
    assert [(b["text"]["text"], b["text"]["qualifiers"]) for b in body["content"]] == [
        ("Paris has 2.1 million inhabitants.", ["grounding_source"]),
        ("How big is Paris?", ["query"]),
        ("2.1 million", ["guard_content"]),
    ]
    with pytest.raises(GuardrailInterventionError, match=r"grounding 0\.20"):
        BedrockGroundingCheck(guardrail_id=GID, **client_args(server)).invoke(value)


# ------------------------------------------------------------------ batch, chunk content


def test_batch_packs_every_input_into_one_call(server: LocalBedrock) -> None:
    server.script("ApplyGuardrail", masked("one", "two {EMAIL}", "three"))
    inputs = ["one", [HumanMessage("two a@b.com")], {"input": "three"}]
    out = _guard(server).batch(inputs)
    assert out[0] == "one"
    assert out[1][0].content == "two {EMAIL}"
    assert out[2] == {"input": "three"}
    assert len(server.requests) == 1
    assert sent_texts(server) == ["one", "two a@b.com", "three"]


async def test_abatch_falls_back_to_one_call_per_input_when_blocked(
    server: LocalBedrock,
) -> None:
    server.script("ApplyGuardrail", blocked(), none(), blocked())
    guard = _guard(server, on_block="message")
    try:
        # one at a time, so the scripted replies meet the requests in input order
        out = await guard.abatch(["fine", "buy stocks?"], {"max_concurrency": 1})
    finally:
        await guard.aclose()
    assert out == ["fine", BLOCKED]
    assert [sent_texts(server, i) for i in range(3)] == [["fine", "buy stocks?"], ["fine"],
                                                    ["buy stocks?"]]  # fmt: skip


def test_stream_guard_withholds_non_text_blocks_and_keeps_tool_calls(
    server: LocalBedrock, caplog: pytest.LogCaptureFixture
) -> None:
    server.script("ApplyGuardrail", none())
    guard = BedrockStreamGuard(guardrail_id=GID, **client_args(server))
    reasoning: list[str | dict[str, Any]] = [
        {"type": "reasoning_content", "reasoning_content": {"text": "secret thoughts"}},
        {"type": "text", "text": "visible"},
    ]
    chunks = [
        AIMessageChunk(content=reasoning, id="r1"),
        AIMessageChunk(content="", tool_call_chunks=[
            {"name": "f", "args": "{}", "id": "t1", "index": 0, "type": "tool_call_chunk"}]),
    ]  # fmt: skip
    out = list(guard.guard_stream(iter(chunks)))
    # the tool call is checked in the same window as the text and released with it
    assert sent_texts(server) == ["visible\nf{}"]
    assert [c.content for c in out] == ["visible"]
    assert out[0].id == "r1"
    assert out[0].tool_call_chunks[0]["id"] == "t1" and out[0].tool_calls[0]["name"] == "f"
    assert "secret thoughts" not in str([c.content for c in out])
    assert "withheld 1 non-text" in caplog.text
