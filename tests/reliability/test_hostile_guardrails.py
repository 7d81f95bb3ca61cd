"""Guardrails against a hostile ApplyGuardrail endpoint: every failure is typed, nothing leaks.

Real boto3 / aiobotocore clients talk to :class:`tests.support.hostile.HostileServer`, which
answers the ApplyGuardrail calls with what Bedrock never sends: a 200 whose body is not JSON,
empty, an HTML login page, JSON without ``action`` or with an unknown one, members of the
wrong type, throttling, 5xx, a reply slower than the read timeout, a connection cut half way.

For each reply class, sync and async, through the core, LangChain and LlamaIndex:

- a single check raises the typed error (never a bare Python error, never a result that
  reads as "passed"), and a guard step never passes its input on;
- a guarded stream whose first window passed and whose second check meets the hostile reply
  releases exactly the first window (minus its held-back overlap), raises the typed error,
  and releases no tool call and no metadata that the failed window would have covered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from langchain_core.messages import AIMessageChunk, HumanMessage
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    TextBlock,
    ToolCallBlock,
)

from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.guardrails.stream_guard import StreamGuard
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BedrockKitError,
    InternalServerError,
    MalformedResponseError,
    ModelTimeoutError,
    ServiceUnavailableError,
    ThrottlingError,
)
from bedrock_kit.langchain.guardrails import BedrockGuardrail as LCGuardrail
from bedrock_kit.langchain.guardrails import BedrockStreamGuard
from bedrock_kit.llama_index.guardrails import BedrockGuardrail as LIGuardrail
from tests.support.hostile import DUMMY_KEYS, HostileServer, Script, json_reply

GID = "grhostile01"
TIMEOUT = 0.5
TEXT = "".join(f"word{i % 97:02d} " for i in range(400))  # 3,200 characters
RELEASED_BEFORE_FAILURE = TEXT[:950]  # window 1 passed: [0, 1000) minus 50 held back
TOOL_ARGS = '{"to": "acct-0042", "amount": 10}'

NONE = {"action": "NONE", "outputs": [], "assessments": [], "usage": {"topicPolicyUnits": 1}}


def _aws_error(status: int, code: str) -> Callable[[], Script]:
    return lambda: json_reply(
        {"message": f"{code} from hostile"}, status, **{"x-amzn-ErrorType": code}
    )


# reply class -> (scripted reply, the typed error it must become)
HOSTILE: dict[str, tuple[Callable[[], Script], type[BedrockKitError]]] = {
    "non-json": (
        lambda: Script(body=b"this is not json {", headers={"content-type": "application/json"}),
        MalformedResponseError,
    ),
    "empty": (lambda: Script(body=b""), MalformedResponseError),
    "html": (
        lambda: Script(
            body=b"<!DOCTYPE html><html><body><form>Sign in to Hotel Wi-Fi</form></body></html>",
            headers={"content-type": "text/html"},
        ),
        MalformedResponseError,
    ),
    "no-action": (
        lambda: json_reply({"outputs": [], "assessments": [], "usage": {}}),
        MalformedResponseError,
    ),
    "null-action": (lambda: json_reply({**NONE, "action": None}), MalformedResponseError),
    "unknown-action": (lambda: json_reply({**NONE, "action": "ALLOW"}), MalformedResponseError),
    "action-number": (lambda: json_reply({**NONE, "action": 0}), MalformedResponseError),
    "outputs-str": (lambda: json_reply({**NONE, "outputs": "oops"}), MalformedResponseError),
    "outputs-text-int": (
        lambda: json_reply({**NONE, "action": "GUARDRAIL_INTERVENED", "outputs": [{"text": 5}]}),
        MalformedResponseError,
    ),
    "assessments-str": (
        lambda: json_reply({**NONE, "assessments": "none"}),
        MalformedResponseError,
    ),
    "topics-str": (
        lambda: json_reply({**NONE, "assessments": [{"topicPolicy": {"topics": "x"}}]}),
        MalformedResponseError,
    ),
    "usage-str": (
        lambda: json_reply({**NONE, "usage": {"topicPolicyUnits": "one"}}),
        MalformedResponseError,
    ),
    "score-str": (
        lambda: json_reply(
            {**NONE, "assessments": [{"contextualGroundingPolicy": {"filters": [{"score": "x"}]}}]}
        ),
        MalformedResponseError,
    ),
    "json-list": (lambda: json_reply([NONE]), MalformedResponseError),
    "deep-json": (
        lambda: Script(body=b"[" * 100_000, headers={"content-type": "application/json"}),
        MalformedResponseError,
    ),
    "429": (_aws_error(429, "ThrottlingException"), ThrottlingError),
    "500": (_aws_error(500, "InternalServerException"), InternalServerError),
    "503": (_aws_error(503, "ServiceUnavailableException"), ServiceUnavailableError),
    "502-html": (
        lambda: Script(
            status=502, body=b"<html>Bad Gateway</html>", headers={"content-type": "text/html"}
        ),
        BedrockKitError,
    ),
    "timeout": (lambda: Script(delay=TIMEOUT * 3, body=json.dumps(NONE)), ModelTimeoutError),
    "cut": (lambda: Script(body=json.dumps(NONE), cut_after=10), BedrockKitError),
}
CLASSES = sorted(HOSTILE)


# One server and one set of guards per module (per xdist worker), and one event loop for the
# async tests: an aiobotocore client costs far more to build than a hostile reply to serve.
ASYNC = pytest.mark.asyncio(loop_scope="module")


def _client_args(server: HostileServer) -> dict[str, Any]:
    return {"endpoint_url": server.url, "max_retries": 0, "timeout": TIMEOUT, **DUMMY_KEYS}


class Guards:
    """The guards under test, built once against the module's server."""

    def __init__(self, server: HostileServer) -> None:
        args = _client_args(server)
        self.core = GuardrailClient(GID, "1", settings=ClientSettings(**args))
        self.lc_step = LCGuardrail(guardrail_id=GID, guardrail_version="1", **args)
        self.lc_stream = BedrockStreamGuard(guardrail_id=GID, guardrail_version="1", **args)
        self.li = LIGuardrail(guardrail_id=GID, guardrail_version="1", **args)

    async def aclose(self) -> None:
        for closer in (self.core, self.lc_step, self.lc_stream, self.li):
            await closer.aclose()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_guards(shared_server: HostileServer) -> AsyncIterator[Guards]:
    guards = Guards(shared_server)
    yield guards
    await guards.aclose()


@pytest.fixture
def hostile(shared_server: HostileServer) -> Iterator[HostileServer]:
    """The module's server with nothing queued and an empty request log."""

    def reset() -> None:
        with shared_server._lock:  # test-local reset of the shared server's script queue
            shared_server._scripts.clear()
            shared_server._sticky = None
            shared_server.requests.clear()

    reset()
    yield shared_server
    reset()


@pytest.fixture
def guards(shared_guards: Guards) -> Guards:
    return shared_guards


def _script(server: HostileServer, kind: str, *, passed_first: bool) -> type[BedrockKitError]:
    reply, expected = HOSTILE[kind]
    if passed_first:
        server.push(json_reply(NONE))
    server.push(reply())
    return expected


def _assert_typed(exc: BaseException, expected: type[BedrockKitError]) -> None:
    assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
    if expected is MalformedResponseError:
        assert GID in str(exc) and "version 1" in str(exc)
        assert exc.model_id == GID  # type: ignore[attr-defined]


def _chunks(size: int = 7) -> list[str]:
    return [TEXT[i : i + size] for i in range(0, len(TEXT), size)]


# ------------------------------------------------------------------ one check


@pytest.mark.parametrize("kind", CLASSES)
def test_core_apply_raises_typed(hostile: HostileServer, guards: Guards, kind: str) -> None:
    expected = _script(hostile, kind, passed_first=False)
    with pytest.raises(BedrockKitError) as info:
        guards.core.apply("a model answer", source="OUTPUT")
    _assert_typed(info.value, expected)
    assert len(hostile.requests) == 1


@ASYNC
@pytest.mark.parametrize("kind", CLASSES)
async def test_core_aapply_raises_typed(hostile: HostileServer, guards: Guards, kind: str) -> None:
    expected = _script(hostile, kind, passed_first=False)
    with pytest.raises(BedrockKitError) as info:
        await guards.core.aapply("a model answer", source="OUTPUT")
    _assert_typed(info.value, expected)
    assert len(hostile.requests) == 1


@pytest.mark.parametrize("kind", CLASSES)
def test_langchain_guard_step_never_passes_input_on(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=False)
    seen: list[Any] = []
    guard = guards.lc_step.model_copy(update={"on_block": "detect", "on_result": seen.append})
    with pytest.raises(BedrockKitError) as info:
        guard.invoke([HumanMessage("wire 10 dollars to acct-0042")])
    _assert_typed(info.value, expected)
    assert seen == []  # not even detect mode reports an unchecked input as checked


@ASYNC
@pytest.mark.parametrize("kind", CLASSES)
async def test_langchain_guard_step_async_never_passes_input_on(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=False)
    with pytest.raises(BedrockKitError) as info:
        await guards.lc_step.ainvoke({"input": "wire 10 dollars"})
    _assert_typed(info.value, expected)


@pytest.mark.parametrize("kind", CLASSES)
def test_llama_index_check_raises_typed(hostile: HostileServer, guards: Guards, kind: str) -> None:
    expected = _script(hostile, kind, passed_first=False)
    with pytest.raises(BedrockKitError) as info:
        guards.li.check("wire 10 dollars to acct-0042")
    _assert_typed(info.value, expected)


@ASYNC
@pytest.mark.parametrize("kind", CLASSES)
async def test_llama_index_acheck_raises_typed(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=False)
    with pytest.raises(BedrockKitError) as info:
        await guards.li.acheck("wire 10 dollars to acct-0042", "OUTPUT")
    _assert_typed(info.value, expected)


# ------------------------------------------------------------------ streams


@pytest.mark.parametrize("kind", CLASSES)
def test_core_stream_releases_only_the_passed_window(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=True)
    guard = StreamGuard(guards.core)
    released = ""
    with pytest.raises(BedrockKitError) as info:
        for text in guard.guard(_chunks()):
            released += text
    _assert_typed(info.value, expected)
    assert released == RELEASED_BEFORE_FAILURE
    assert guard.stats.unchecked_characters == 0 and guard.stats.failures == 1
    assert len(hostile.requests) == 2  # the stream stopped at the failed check


@ASYNC
@pytest.mark.parametrize("kind", CLASSES)
async def test_core_astream_releases_only_the_passed_window(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=True)
    guard = StreamGuard(guards.core)
    released = ""
    with pytest.raises(BedrockKitError) as info:
        async for text in guard.aguard(_chunks()):
            released += text
    _assert_typed(info.value, expected)
    assert released == RELEASED_BEFORE_FAILURE
    assert guard.stats.unchecked_characters == 0 and guard.stats.failures == 1


def _lc_chunks() -> Iterator[AIMessageChunk]:
    for i, text in enumerate(_chunks()):
        yield AIMessageChunk(content=text, id="run-1" if i == 0 else None)
    yield AIMessageChunk(content="", tool_call_chunks=[
        {"name": "transfer", "args": TOOL_ARGS, "id": "call-1", "index": 0,
         "type": "tool_call_chunk"}])  # fmt: skip
    yield AIMessageChunk(
        content="", usage_metadata={"input_tokens": 5, "output_tokens": 800, "total_tokens": 805}
    )


async def _lc_achunks() -> AsyncIterator[AIMessageChunk]:
    for chunk in _lc_chunks():
        yield chunk


def _assert_lc_released(out: list[AIMessageChunk]) -> None:
    assert "".join(c.text for c in out) == RELEASED_BEFORE_FAILURE
    assert not any(c.tool_call_chunks or c.usage_metadata for c in out)


@pytest.mark.parametrize("kind", CLASSES)
def test_langchain_stream_guard_fails_closed(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=True)
    out: list[AIMessageChunk] = []
    with pytest.raises(BedrockKitError) as info:
        for chunk in guards.lc_stream.guard_stream(_lc_chunks()):
            out.append(chunk)
    _assert_typed(info.value, expected)
    _assert_lc_released(out)


@ASYNC
@pytest.mark.parametrize("kind", CLASSES)
async def test_langchain_astream_guard_fails_closed(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=True)
    out: list[AIMessageChunk] = []
    with pytest.raises(BedrockKitError) as info:
        async for chunk in guards.lc_stream.aguard_stream(_lc_achunks()):
            out.append(chunk)
    _assert_typed(info.value, expected)
    _assert_lc_released(out)


def _li_responses() -> Iterator[ChatResponse]:
    so_far = ""
    for text in _chunks():
        so_far += text
        message = ChatMessage(role="assistant", blocks=[TextBlock(text=so_far)])
        yield ChatResponse(message=message, delta=text)
    call = ToolCallBlock(tool_call_id="call-1", tool_name="transfer", tool_kwargs=TOOL_ARGS)
    message = ChatMessage(role="assistant", blocks=[TextBlock(text=so_far), call])
    yield ChatResponse(message=message, delta="", additional_kwargs={"usage": {"out": 800}})


async def _li_aresponses() -> AsyncIterator[ChatResponse]:
    for response in _li_responses():
        yield response


def _assert_li_released(out: list[ChatResponse]) -> None:
    assert "".join(r.delta or "" for r in out) == RELEASED_BEFORE_FAILURE
    assert not any(isinstance(b, ToolCallBlock) for r in out for b in r.message.blocks)
    assert not any(r.additional_kwargs.get("usage") for r in out)
    assert TOOL_ARGS not in str([r.message for r in out])


@pytest.mark.parametrize("kind", CLASSES)
def test_llama_index_llm_stream_fails_closed(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=True)
    out: list[ChatResponse] = []
    with pytest.raises(BedrockKitError) as info:
        for response in guards.li.guard_llm_stream(_li_responses()):
            out.append(response)
    _assert_typed(info.value, expected)
    _assert_li_released(out)


@ASYNC
@pytest.mark.parametrize("kind", CLASSES)
async def test_llama_index_allm_stream_fails_closed(
    hostile: HostileServer, guards: Guards, kind: str
) -> None:
    expected = _script(hostile, kind, passed_first=True)
    out: list[ChatResponse] = []
    with pytest.raises(BedrockKitError) as info:
        async for response in guards.li.aguard_llm_stream(_li_aresponses()):
            out.append(response)
    _assert_typed(info.value, expected)
    _assert_li_released(out)


# ------------------------------------------------------------------ the well-formed baseline


def _merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def test_a_well_formed_reply_still_passes_everything(
    hostile: HostileServer, guards: Guards
) -> None:
    """Control: with documented replies the same streams come through whole, tool call too."""
    hostile.always(json_reply(NONE))
    merged = _merged(list(guards.lc_stream.guard_stream(_lc_chunks())))
    assert merged.text == TEXT
    assert merged.tool_calls == [
        {"name": "transfer", "args": json.loads(TOOL_ARGS), "id": "call-1", "type": "tool_call"}
    ]
    assert merged.usage_metadata is not None
    sent = "".join(r.json()["content"][0]["text"]["text"] for r in hostile.requests)
    assert "transfer" + TOOL_ARGS in sent  # the tool call was checked as text
    out = list(guards.li.guard_llm_stream(_li_responses()))
    assert "".join(r.delta or "" for r in out) == TEXT
    (call,) = [b for b in out[-1].message.blocks if isinstance(b, ToolCallBlock)]
    assert (call.tool_name, call.tool_kwargs) == ("transfer", json.loads(TOOL_ARGS))
    assert out[-1].additional_kwargs == {"usage": {"out": 800}}


@ASYNC
async def test_a_well_formed_reply_still_passes_everything_async(
    hostile: HostileServer, guards: Guards
) -> None:
    hostile.always(json_reply(NONE))
    merged = _merged([c async for c in guards.lc_stream.aguard_stream(_lc_achunks())])
    assert merged.text == TEXT and merged.tool_calls[0]["id"] == "call-1"
    out = [r async for r in guards.li.aguard_llm_stream(_li_aresponses())]
    assert "".join(r.delta or "" for r in out) == TEXT
    assert any(isinstance(b, ToolCallBlock) for b in out[-1].message.blocks)
