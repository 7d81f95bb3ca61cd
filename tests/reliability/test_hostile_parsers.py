"""Hostile servers against every response parser, over real HTTP, both frameworks.

A stdlib server on 127.0.0.1 (``tests/support/hostile.py``) answers HTTP 200 with what
Bedrock never sends: HTML from a captive proxy, an empty body, text, JSON of the wrong
shape or nested 50,000 levels deep, event-stream frames whose payload is not JSON, a
stream that goes on after ``messageStop`` and ``metadata``, a tool-call delta for a block
that never started. Every case, sync and async, through ChatBedrockKit (LangChain) and
BedrockKitLLM (LlamaIndex), and through the Knowledge Base, RetrieveAndGenerate, agent,
CountTokens and embeddings entry points, must end in a typed ``MalformedResponseError``
naming the model (or resource) and the request id. Streams must not have handed out a
result (no usage chunk, no final LlamaIndex response) before the error.

Each case also has a control: the same entry point given the documented shape succeeds,
so a test cannot pass by failing for another reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage

from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import MalformedResponseError
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockKitEmbeddings,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
    ChatBedrockKit,
)
from bedrock_kit.llama_index import (
    BedrockAgentQueryEngine,
    BedrockKitLLM,
    BedrockRetrieveAndGenerateQueryEngine,
)
from bedrock_kit.llama_index import BedrockKnowledgeBaseRetriever as LIRetriever
from tests.support.hostile import (
    DUMMY_KEYS,
    EVENT_STREAM,
    HostileServer,
    Script,
    event,
    json_reply,
    raw_event,
    stream_reply,
)

MODEL = "amazon.nova-micro-v1:0"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
KB = "KB12345678"
REQUEST_ID = "hostile-request-1"
USAGE = {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}
DEEP = b"[" * 50_000 + b"]" * 50_000
HTML = b"<html><body><h1>Sign in to the hotel Wi-Fi</h1></body></html>"
MESSAGES = [ChatMessage(role="user", content="q")]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server: HostileServer) -> Iterator[None]:
    yield
    leftover = list(server._scripts)  # the support server has no clear()
    server._scripts.clear()
    assert not leftover, "a scripted reply was never requested"


def _client_args(server: HostileServer) -> dict[str, Any]:
    return {"endpoint_url": server.url, "max_retries": 0, "timeout": 5, **DUMMY_KEYS}


def _malformed(call: Any, *, resource: str | None = MODEL) -> MalformedResponseError:
    with pytest.raises(MalformedResponseError) as info:
        call()
    error = info.value
    assert error.request_id == REQUEST_ID, error
    if resource is not None:
        assert error.model_id == resource, error
    return error


def _html(status: int = 200) -> Script:
    return Script(status=status, body=HTML, headers={"content-type": "text/html"})


# ====================================================================== Converse bodies

CONVERSE_OK = {
    "output": {"message": {"role": "assistant", "content": [{"text": "fine"}]}},
    "stopReason": "end_turn",
    "usage": USAGE,
    "metrics": {"latencyMs": 10},
}


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in CONVERSE_OK.items() if k != key}


CONVERSE_BODIES: dict[str, Script] = {
    "html": _html(),
    "empty": Script(body=b"", headers={"content-type": "application/json"}),
    "not-json": Script(body=b"upstream said no", headers={"content-type": "application/json"}),
    "json-array": json_reply([CONVERSE_OK]),
    "json-string": json_reply("ok"),
    "empty-object": json_reply({}),
    "nested-50000": Script(body=DEEP, headers={"content-type": "application/json"}),
    "no-usage": json_reply(_without("usage")),
    "usage-without-counts": json_reply({**CONVERSE_OK, "usage": {"totalTokens": 5}}),
    "no-stop-reason": json_reply(_without("stopReason")),
    "output-wrong-type": json_reply({**CONVERSE_OK, "output": 1}),
    "content-block-without-member": json_reply(
        {**CONVERSE_OK, "output": {"message": {"role": "assistant", "content": [{}]}}}
    ),
    "tool-use-without-name": json_reply(
        {
            **CONVERSE_OK,
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [{"toolUse": {"toolUseId": "t1", "input": {}}}],
                }
            },
        }
    ),
}
CHAT_MODES = ("langchain-invoke", "langchain-ainvoke", "llama-chat", "llama-achat")


def _chat(server: HostileServer, mode: str, api: str = "converse", model: str = MODEL) -> Any:
    args = {**_client_args(server), "api": api}
    if mode.startswith("langchain"):
        lc = ChatBedrockKit(model=model, **args)
        if mode == "langchain-invoke":
            return lc.invoke("q")

        async def run_lc() -> Any:
            try:
                return await lc.ainvoke("q")
            finally:
                await lc.aclose()

        return asyncio.run(run_lc())
    li = BedrockKitLLM(model=model, **args)
    if mode == "llama-chat":
        return li.chat(MESSAGES)

    async def run_li() -> Any:
        try:
            return await li.achat(MESSAGES)
        finally:
            await li.aclose()

    return asyncio.run(run_li())


@pytest.mark.parametrize("mode", CHAT_MODES)
@pytest.mark.parametrize("case", list(CONVERSE_BODIES))
def test_converse_body(server, case, mode):
    server.push(CONVERSE_BODIES[case])
    _malformed(lambda: _chat(server, mode))


@pytest.mark.parametrize("mode", CHAT_MODES)
def test_converse_body_control(server, mode):
    server.push(json_reply(CONVERSE_OK))
    answer = _chat(server, mode)
    text = answer.content if mode.startswith("langchain") else answer.message.content
    assert text == "fine"


# ====================================================================== InvokeModel bodies

CLAUDE_OK = {
    "content": [{"type": "text", "text": "fine"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 3, "output_tokens": 2},
}
INVOKE_BODIES: dict[str, Script] = {
    "html": _html(),
    "empty": Script(body=b""),
    "nested-50000": Script(body=DEEP),
    "no-stop-reason": json_reply({"content": [{"type": "text", "text": "x"}]}),
    "no-usage-anywhere": json_reply({k: v for k, v in CLAUDE_OK.items() if k != "usage"}),
    "content-not-a-list": json_reply({**CLAUDE_OK, "content": "fine"}),
}


@pytest.mark.parametrize("mode", CHAT_MODES)
@pytest.mark.parametrize("case", list(INVOKE_BODIES))
def test_invoke_model_body(server, case, mode):
    server.push(INVOKE_BODIES[case])
    _malformed(lambda: _chat(server, mode, api="invoke", model=CLAUDE), resource=CLAUDE)


@pytest.mark.parametrize("mode", CHAT_MODES)
def test_invoke_model_body_control(server, mode):
    server.push(json_reply(CLAUDE_OK))
    answer = _chat(server, mode, api="invoke", model=CLAUDE)
    text = answer.content if mode.startswith("langchain") else answer.message.content
    assert text == "fine"


# ====================================================================== ConverseStream

START = event("messageStart", {"role": "assistant"})
STOP = event("messageStop", {"stopReason": "end_turn"})
METADATA = event("metadata", {"usage": USAGE, "metrics": {"latencyMs": 10}})


def _text(index: int, text: str) -> bytes:
    return event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": text}})


def _tool_start(index: int) -> bytes:
    start = {"toolUse": {"toolUseId": "t1", "name": "weather"}}
    return event("contentBlockStart", {"contentBlockIndex": index, "start": start})


def _tool_input(index: int, text: str) -> bytes:
    delta = {"toolUse": {"input": text}}
    return event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})


BLOCK_STOP = event("contentBlockStop", {"contentBlockIndex": 0})
OK_FRAMES = [START, _text(0, "Hel"), _text(0, "lo"), BLOCK_STOP, STOP, METADATA]

STREAMS: dict[str, Script] = {
    "delta-payload-not-json": stream_reply(
        [START, _text(0, "Hel"), raw_event("contentBlockDelta", b"lo, not json"), STOP, METADATA]
    ),
    "metadata-payload-not-json": stream_reply(
        [START, _text(0, "Hello"), STOP, raw_event("metadata", b"<html>quota</html>")]
    ),
    "stop-payload-not-json": stream_reply(
        [START, _text(0, "Hello"), raw_event("messageStop", b"end_turn"), METADATA]
    ),
    "stop-and-metadata-twice": stream_reply([*OK_FRAMES, STOP, METADATA]),
    "metadata-twice": stream_reply([*OK_FRAMES, METADATA]),
    "text-after-metadata": stream_reply([*OK_FRAMES, _text(0, " and more")]),
    "tool-delta-for-a-block-never-started": stream_reply(
        [START, _tool_input(1, '{"city": "Oslo"}'), STOP, METADATA]
    ),
    "payload-json-array": stream_reply([START, raw_event("contentBlockDelta", b"[1, 2]")]),
    "payload-union-with-two-members": stream_reply(
        [
            START,
            raw_event(
                "contentBlockDelta",
                b'{"contentBlockIndex": 0, "delta": {"text": "a", "toolUse": {"input": "x"}}}',
            ),
        ]
    ),
    "payload-nested-50000": stream_reply([START, raw_event("contentBlockDelta", DEEP)]),
    "payload-not-utf8": stream_reply([START, raw_event("contentBlockDelta", b"\xff\xfe\xfd")]),
    "tool-input-nested-50000": stream_reply(
        [START, _tool_start(0), *[_tool_input(0, "[" * 10_000)] * 5, STOP, METADATA]
    ),
    "metadata-without-usage": stream_reply(
        [*OK_FRAMES[:-1], event("metadata", {"metrics": {"latencyMs": 10}})]
    ),
    "metadata-before-stop": stream_reply([START, _text(0, "Hello"), METADATA, STOP]),
    "html-instead-of-a-stream": _html(),
    "json-instead-of-a-stream": json_reply({"message": "use /converse"}),
}
STREAM_MODES = (
    "langchain-stream",
    "langchain-astream",
    "llama-stream_chat",
    "llama-astream_chat",
)


def _stream(server: HostileServer, mode: str, seen: list[Any], **kwargs: Any) -> None:
    """Run a stream to its end, keeping every chunk it yields in ``seen``."""
    args = {**_client_args(server), **kwargs}
    model = args.pop("model", MODEL)
    if mode.startswith("langchain"):
        lc = ChatBedrockKit(model=model, **args)
        if mode == "langchain-stream":
            seen.extend(lc.stream("q"))
            return

        async def run_lc() -> None:
            try:
                async for chunk in lc.astream("q"):
                    seen.append(chunk)
            finally:
                await lc.aclose()

        asyncio.run(run_lc())
        return
    li = BedrockKitLLM(model=model, **args)
    if mode == "llama-stream_chat":
        seen.extend(li.stream_chat(MESSAGES))
        return

    async def run_li() -> None:
        try:
            async for response in await li.astream_chat(MESSAGES):
                seen.append(response)
        finally:
            await li.aclose()

    asyncio.run(run_li())


def _gave_no_result(mode: str, seen: list[Any]) -> None:
    if mode.startswith("langchain"):
        # The usage chunk comes only with the result: none means usage was not counted.
        assert all(chunk.usage_metadata is None for chunk in seen), seen
    else:
        assert all(response.raw is None for response in seen), seen


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("case", list(STREAMS))
def test_converse_stream(server, case, mode):
    server.push(STREAMS[case])
    seen: list[Any] = []
    _malformed(lambda: _stream(server, mode, seen))
    _gave_no_result(mode, seen)


@pytest.mark.parametrize("mode", STREAM_MODES)
def test_converse_stream_control_counts_usage_once(server, mode):
    server.push(stream_reply(OK_FRAMES))
    seen: list[Any] = []
    _stream(server, mode, seen)
    if mode.startswith("langchain"):
        merged = seen[0]
        for chunk in seen[1:]:
            merged += chunk
        assert merged.content == "Hello"
        assert merged.usage_metadata["input_tokens"] == 3
        assert merged.usage_metadata["total_tokens"] == 5
    else:
        assert seen[-1].message.content == "Hello" and seen[-1].raw is not None


# ====================================================================== InvokeModel streams


def _chunk(value: Any) -> bytes:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return event("chunk", {"bytes": base64.b64encode(raw).decode()})


CLAUDE_METRICS = {"amazon-bedrock-invocationMetrics": {"inputTokenCount": 3, "outputTokenCount": 2}}
CLAUDE_FRAMES = [
    _chunk({"type": "message_start", "message": {}}),
    _chunk(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
    ),
    _chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    _chunk({"type": "message_stop", **CLAUDE_METRICS}),
]
INVOKE_STREAMS: dict[str, Script] = {
    "chunk-payload-not-json": stream_reply([CLAUDE_FRAMES[0], raw_event("chunk", b"oops")]),
    "chunk-bytes-not-json": stream_reply([CLAUDE_FRAMES[0], _chunk(b"<html>oops</html>")]),
    "chunk-bytes-nested-50000": stream_reply([CLAUDE_FRAMES[0], _chunk(DEEP)]),
    "metrics-before-a-stop-reason": stream_reply([CLAUDE_FRAMES[0], CLAUDE_FRAMES[3]]),
    "chunk-after-the-metrics": stream_reply([*CLAUDE_FRAMES, CLAUDE_FRAMES[1]]),
    "html-instead-of-a-stream": _html(),
}


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("case", list(INVOKE_STREAMS))
def test_invoke_model_stream(server, case, mode):
    server.push(INVOKE_STREAMS[case])
    seen: list[Any] = []
    _malformed(lambda: _stream(server, mode, seen, api="invoke", model=CLAUDE), resource=CLAUDE)
    _gave_no_result(mode, seen)


@pytest.mark.parametrize("mode", STREAM_MODES)
def test_invoke_model_stream_control(server, mode):
    server.push(stream_reply(CLAUDE_FRAMES))
    seen: list[Any] = []
    _stream(server, mode, seen, api="invoke", model=CLAUDE)
    text = "".join(str(c.content) if mode.startswith("langchain") else c.delta for c in seen)
    assert text == "Hi"


# ====================================================================== CountTokens

COUNT_TOKENS: dict[str, Script] = {
    "html": _html(),
    "empty-object": json_reply({}),
    "negative": json_reply({"inputTokens": -4}),
}


@pytest.mark.parametrize("mode", ("sync", "async"))
@pytest.mark.parametrize("case", list(COUNT_TOKENS))
def test_count_tokens(server, case, mode):
    server.push(COUNT_TOKENS[case])
    if mode == "sync":
        lc = ChatBedrockKit(model=MODEL, **_client_args(server))
        _malformed(lambda: lc.get_num_tokens_from_messages([HumanMessage("q")]))
        return
    settings = ClientSettings(endpoint_url=server.url, max_retries=0, **DUMMY_KEYS)
    request = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "q"}]}]}

    async def run() -> int:
        runtime = ConverseRuntime(settings)
        try:
            return await runtime.acount_tokens(request)
        finally:
            await runtime.pool.aclose()

    _malformed(lambda: asyncio.run(run()))


def test_count_tokens_control(server):
    server.push(json_reply({"inputTokens": 7}))
    lc = ChatBedrockKit(model=MODEL, **_client_args(server))
    assert lc.get_num_tokens_from_messages([HumanMessage("q")]) == 7


# ====================================================================== Retrieve

RETRIEVE_OK = {"retrievalResults": [{"content": {"text": "tides"}, "score": 0.9}]}
RETRIEVE_BODIES: dict[str, Script] = {
    "html": _html(),
    "empty": Script(body=b""),
    "empty-object": json_reply({}),
    "results-not-a-list": json_reply({"retrievalResults": {"content": {"text": "x"}}}),
    "nested-50000": Script(body=DEEP),
    "unknown-guardrail-action": json_reply({**RETRIEVE_OK, "guardrailAction": "BLOCKED"}),
    "score-not-a-number": json_reply({"retrievalResults": [{"content": {}, "score": "high"}]}),
}
RETRIEVER_MODES = ("langchain-invoke", "langchain-ainvoke", "llama-retrieve", "llama-aretrieve")


def _retrieve(server: HostileServer, mode: str) -> list[Any]:
    if mode.startswith("langchain"):
        lc = BedrockKnowledgeBaseRetriever(knowledge_base_id=KB, **_client_args(server))
        if mode == "langchain-invoke":
            return lc.invoke("q")

        async def run_lc() -> list[Any]:
            try:
                return await lc.ainvoke("q")
            finally:
                await lc.runtime.pool.aclose()

        return asyncio.run(run_lc())
    li = LIRetriever(KB, **_client_args(server))
    if mode == "llama-retrieve":
        return li.retrieve("q")

    async def run_li() -> list[Any]:
        try:
            return await li.aretrieve("q")
        finally:
            await li.runtime.pool.aclose()

    return asyncio.run(run_li())


@pytest.mark.parametrize("mode", RETRIEVER_MODES)
@pytest.mark.parametrize("case", list(RETRIEVE_BODIES))
def test_retrieve(server, case, mode):
    server.push(RETRIEVE_BODIES[case])
    _malformed(lambda: _retrieve(server, mode), resource=KB)


@pytest.mark.parametrize("mode", RETRIEVER_MODES)
def test_retrieve_control(server, mode):
    server.push(json_reply(RETRIEVE_OK))
    (found,) = _retrieve(server, mode)
    content = found.page_content if mode.startswith("langchain") else found.node.get_content()
    assert content == "tides"


# ====================================================================== RetrieveAndGenerate

GENERATE_BODIES: dict[str, Script] = {
    "html": _html(),
    "empty-object": json_reply({}),
    "no-session-id": json_reply({"output": {"text": "x"}}),
    "output-without-text": json_reply({"output": {}, "sessionId": "s-1"}),
}
GENERATE_MODES = ("langchain-invoke", "langchain-ainvoke", "llama-query", "llama-aquery")


def _generate(server: HostileServer, mode: str, **kwargs: Any) -> Any:
    if mode.startswith("langchain"):
        # LangChain streams through .stream()/.astream(); only LlamaIndex takes streaming=
        kwargs.pop("streaming", None)
        lc = BedrockRetrieveAndGenerate(
            knowledge_base_id=KB, model_id=CLAUDE, **_client_args(server), **kwargs
        )
        if mode == "langchain-invoke":
            return lc.invoke("q")
        if mode == "langchain-stream":
            return list(lc.stream("q"))

        async def run_lc() -> Any:
            try:
                if mode == "langchain-astream":
                    return [c async for c in lc.astream("q")]
                return await lc.ainvoke("q")
            finally:
                await lc.runtime.pool.aclose()

        return asyncio.run(run_lc())
    li = BedrockRetrieveAndGenerateQueryEngine(
        knowledge_base_id=KB, model=CLAUDE, **_client_args(server), **kwargs
    )
    if mode == "llama-query":
        response = li.query("q")
        return list(response.response_gen) if kwargs.get("streaming") else response

    async def run_li() -> Any:
        try:
            response = await li.aquery("q")
            if kwargs.get("streaming"):
                return await response.get_response()
            return response
        finally:
            await li.runtime.pool.aclose()

    return asyncio.run(run_li())


@pytest.mark.parametrize("mode", GENERATE_MODES)
@pytest.mark.parametrize("case", list(GENERATE_BODIES))
def test_retrieve_and_generate(server, case, mode):
    server.push(GENERATE_BODIES[case])
    _malformed(lambda: _generate(server, mode), resource=KB)


@pytest.mark.parametrize("mode", GENERATE_MODES)
def test_retrieve_and_generate_control(server, mode):
    server.push(json_reply({"output": {"text": "25 days"}, "sessionId": "s-1"}))
    answer = _generate(server, mode)
    assert "25 days" in str(answer if mode.startswith("llama") else answer["answer"])


SESSION = {"x-amzn-bedrock-knowledge-base-session-id": "s-1"}


def _rag_stream(frames: list[bytes]) -> Script:
    return Script(
        headers={"content-type": EVENT_STREAM, **SESSION}, chunks=[(f, 0) for f in frames]
    )


OUTPUT = event("output", {"text": "25 days"})
GENERATE_STREAMS: dict[str, Script] = {
    "output-payload-not-json": _rag_stream([OUTPUT, raw_event("output", b"25 days, not json")]),
    "guardrail-without-action": _rag_stream([OUTPUT, event("guardrail", {})]),
    "payload-nested-50000": _rag_stream([OUTPUT, raw_event("citation", DEEP)]),
    "html-instead-of-a-stream": _html(),
}
GENERATE_STREAM_MODES = ("langchain-stream", "langchain-astream", "llama-query", "llama-aquery")


@pytest.mark.parametrize("mode", GENERATE_STREAM_MODES)
@pytest.mark.parametrize("case", list(GENERATE_STREAMS))
def test_retrieve_and_generate_stream(server, case, mode):
    server.push(GENERATE_STREAMS[case])
    _malformed(lambda: _generate(server, mode, streaming=True), resource=KB)


@pytest.mark.parametrize("mode", GENERATE_STREAM_MODES)
def test_retrieve_and_generate_stream_control(server, mode):
    server.push(_rag_stream([OUTPUT, event("guardrail", {"action": "NONE"})]))
    assert "25 days" in str(_generate(server, mode, streaming=True))


# ====================================================================== InvokeAgent

AGENT = "TFMZVIWXR7/ZT7YYHO8TO"
AGENT_STREAMS: dict[str, Script] = {
    "chunk-payload-not-json": stream_reply([raw_event("chunk", b"Tides rise, not json")]),
    "return-control-payload-not-json": stream_reply([raw_event("returnControl", b"call f")]),
    "return-control-of-unknown-kind": stream_reply(
        [event("returnControl", {"invocationId": "i-1", "invocationInputs": [{"future": {}}]})]
    ),
    "guardrail-trace-unknown-action": stream_reply(
        [event("trace", {"trace": {"guardrailTrace": {"action": "MAYBE"}}})]
    ),
    "payload-nested-50000": stream_reply([raw_event("chunk", DEEP)]),
    "html-instead-of-a-stream": _html(),
}
AGENT_MODES = ("langchain-invoke", "langchain-ainvoke", "llama-query", "llama-aquery")


def _agent(server: HostileServer, mode: str) -> str:
    if mode.startswith("langchain"):
        lc = BedrockAgentRunnable(
            agent_id="TFMZVIWXR7", agent_alias_id="ZT7YYHO8TO", **_client_args(server)
        )
        if mode == "langchain-invoke":
            return str(lc.invoke("q").content)

        async def run_lc() -> str:
            try:
                return str((await lc.ainvoke("q")).content)
            finally:
                await lc.aclose()

        return asyncio.run(run_lc())
    li = BedrockAgentQueryEngine("TFMZVIWXR7", "ZT7YYHO8TO", **_client_args(server))
    if mode == "llama-query":
        return str(li.query("q"))

    async def run_li() -> str:
        try:
            return str(await li.aquery("q"))
        finally:
            await li.aclose()

    return asyncio.run(run_li())


@pytest.mark.parametrize("mode", AGENT_MODES)
@pytest.mark.parametrize("case", list(AGENT_STREAMS))
def test_invoke_agent(server, case, mode):
    server.push(AGENT_STREAMS[case])
    _malformed(lambda: _agent(server, mode), resource=AGENT)


@pytest.mark.parametrize("mode", AGENT_MODES)
def test_invoke_agent_control(server, mode):
    chunk = {"bytes": base64.b64encode(b"Tides rise.").decode()}
    server.push(stream_reply([event("chunk", chunk)]))
    assert _agent(server, mode) == "Tides rise."


# ====================================================================== embeddings

TITAN = "amazon.titan-embed-text-v2:0"
EMBEDDING_BODIES: dict[str, Script] = {
    "html": _html(),
    "nested-50000": Script(body=DEEP),
    "not-numbers": json_reply({"embedding": [True, "0.1"], "inputTextTokenCount": 1}),
    "no-vector": json_reply({"inputTextTokenCount": 1}),
}


def _embed(server: HostileServer, mode: str) -> list[float]:
    lc = BedrockKitEmbeddings(model=TITAN, **_client_args(server))
    if mode == "sync":
        return lc.embed_query("q")

    async def run() -> list[float]:
        try:
            return await lc.aembed_query("q")
        finally:
            await lc.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("mode", ("sync", "async"))
@pytest.mark.parametrize("case", list(EMBEDDING_BODIES))
def test_embeddings(server, case, mode):
    server.push(EMBEDDING_BODIES[case])
    _malformed(lambda: _embed(server, mode), resource=TITAN)


def test_embeddings_control(server):
    server.push(json_reply({"embedding": [0.5, 0.25], "inputTextTokenCount": 1}))
    assert _embed(server, "sync") == [0.5, 0.25]


# ====================================================================== the counts

HOSTILE_CASES = {
    "converse": len(CONVERSE_BODIES) * len(CHAT_MODES),
    "invoke_model": len(INVOKE_BODIES) * len(CHAT_MODES),
    "converse_stream": len(STREAMS) * len(STREAM_MODES),
    "invoke_model_stream": len(INVOKE_STREAMS) * len(STREAM_MODES),
    "count_tokens": len(COUNT_TOKENS) * 2,
    "retrieve": len(RETRIEVE_BODIES) * len(RETRIEVER_MODES),
    "retrieve_and_generate": len(GENERATE_BODIES) * len(GENERATE_MODES)
    + len(GENERATE_STREAMS) * len(GENERATE_STREAM_MODES),
    "invoke_agent": len(AGENT_STREAMS) * len(AGENT_MODES),
    "embeddings": len(EMBEDDING_BODIES) * 2,
}
"""Hostile cases per parser class (each a distinct shape x entry point x sync/async)."""
