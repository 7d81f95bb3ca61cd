"""Token counting of both chat models against scripted CountTokens bytes (HostileServer).

A refusal of the model id or the request, missing permission, throttling, a malformed or cut
answer: each raises its typed error, sync and async, LangChain and LlamaIndex. Only Bedrock's
"doesn't support counting tokens" falls back to the estimate, once per model object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from bedrock_kit import errors
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM
from tests.support.hostile import DUMMY_KEYS, HostileServer, Script, json_reply

CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
INVALID = "The provided model identifier is invalid."
NOT_COUNTABLE = "The provided model doesn't support counting tokens."


def _error(status: int, code: str | None, message: str) -> Script:
    headers = {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return json_reply({"message": message}, status=status, **(headers if code else {}))


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


def _counter(framework: str, mode: str, server: HostileServer) -> Callable[[], int]:
    args: dict[str, Any] = {"endpoint_url": server.url, "max_retries": 0, **DUMMY_KEYS}
    if framework == "langchain":
        lc = ChatBedrockKit(model=CLAUDE, **args)
        messages = [HumanMessage("How many tokens?")]
        if mode == "sync":
            return lambda: lc.get_num_tokens_from_messages(messages)

        async def lc_run() -> int:
            try:
                return await lc.aget_num_tokens_from_messages(messages)
            finally:
                await lc.aclose()

        return lambda: asyncio.run(lc_run())
    li = BedrockKitLLM(model=CLAUDE, **args)
    chat = [ChatMessage(role=MessageRole.USER, content="How many tokens?")]
    if mode == "sync":
        return lambda: li.count_tokens(chat)

    async def li_run() -> int:
        try:
            return await li.acount_tokens(chat)
        finally:
            await li.aclose()

    return lambda: asyncio.run(li_run())


CASES: dict[str, tuple[Script, type[Exception], str | None]] = {
    "invalid-model": (
        _error(400, "ValidationException", INVALID),
        errors.BedrockValidationError,
        "identifier is invalid",
    ),
    # pydantic-ai's recorder strips x-amzn-ErrorType: the status still says what it is.
    "invalid-model-no-error-type": (
        _error(400, None, INVALID),
        errors.BedrockValidationError,
        "identifier is invalid",
    ),
    "invalid-request": (
        _error(400, "ValidationException", "messages: at least one message is required"),
        errors.BedrockValidationError,
        "at least one message",
    ),
    "access-denied": (
        _error(403, "AccessDeniedException", "not authorized to perform bedrock:CountTokens"),
        errors.AccessDeniedError,
        "not authorized",
    ),
    "throttled": (
        _error(429, "ThrottlingException", "Too many requests"),
        errors.ThrottlingError,
        "Too many",
    ),
    "not-a-count": (
        json_reply({"inputTokens": "many"}),
        errors.MalformedResponseError,
        "inputTokens",
    ),
    "html": (
        Script(headers={"content-type": "text/html"}, body=b"<html>Wi-Fi login</html>"),
        errors.MalformedResponseError,
        None,
    ),
    "cut": (
        Script(
            headers={"content-type": "application/json"}, body=b'{"inputTokens": 1234', cut_after=8
        ),
        errors.BedrockKitError,
        None,
    ),
}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
@pytest.mark.parametrize("case", list(CASES))
def test_refusals_raise_typed(hostile_server, case, framework, mode):
    script, error, match = CASES[case]
    hostile_server.push(script)
    with pytest.raises(error, match=match) as info:
        _counter(framework, mode, hostile_server)()
    assert not isinstance(info.value, errors.ConfigurationError)
    assert len(hostile_server.requests) == 1  # asked once, not retried into an estimate
    assert hostile_server.requests[0].path.endswith("/count-tokens")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_not_countable_falls_back_to_the_estimate_once(hostile_server, framework, mode):
    hostile_server.push(_error(400, "ValidationException", NOT_COUNTABLE))
    count = _counter(framework, mode, hostile_server)
    first = count()
    assert first > 0
    if mode == "sync":  # the same model object remembers the refusal
        assert count() == first
    assert len(hostile_server.requests) == 1


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_counted(hostile_server, framework):
    hostile_server.push(json_reply({"inputTokens": 375}))
    assert _counter(framework, "sync", hostile_server)() == 375
    sent = hostile_server.requests[0].json()
    assert sent["input"]["converse"]["messages"][0]["role"] == "user"
