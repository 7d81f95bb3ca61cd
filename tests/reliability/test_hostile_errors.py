"""Every failure leaves a public method as a bedrock-kit error: gateways, stalls, profiles.

Real HTTP against a HostileServer, both frameworks, sync and async, invoke and stream.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from bedrock_kit import errors
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM
from tests.support.hostile import DUMMY_KEYS, EVENT_STREAM, HostileServer, Script, event

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MODES = ("invoke", "ainvoke", "stream", "astream")
FRAMEWORKS = ("langchain", "llama_index")
PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def _model(framework: str, server: HostileServer, **kwargs: Any) -> Any:
    settings = {**DUMMY_KEYS, "endpoint_url": server.url, "max_retries": 0, "timeout": 1}
    cls = ChatBedrockKit if framework == "langchain" else BedrockKitLLM
    return cls(model=MODEL, **{**settings, **kwargs})


def _call(llm: Any, mode: str) -> None:
    if isinstance(llm, ChatBedrockKit):
        if mode == "invoke":
            llm.invoke([HumanMessage("hi")])
        elif mode == "stream":
            list(llm.stream([HumanMessage("hi")]))
        else:

            async def run_lc() -> None:
                if mode == "ainvoke":
                    await llm.ainvoke([HumanMessage("hi")])
                else:
                    async for _ in llm.astream([HumanMessage("hi")]):
                        pass

            asyncio.run(run_lc())
        return
    messages = [ChatMessage(role=MessageRole.USER, content="hi")]
    if mode == "invoke":
        llm.chat(messages)
    elif mode == "stream":
        list(llm.stream_chat(messages))
    else:

        async def run_li() -> None:
            if mode == "ainvoke":
                await llm.achat(messages)
            else:
                async for _ in await llm.astream_chat(messages):
                    pass

        asyncio.run(run_li())


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_gateway_errors_are_service_unavailable(hostile, framework, mode, status):
    # A load balancer or proxy in front of the endpoint: an HTML page, no AWS error code.
    hostile.always(Script(status=status, headers={"content-type": "text/html"}, body=PROXY_PAGE))
    with pytest.raises(errors.ServiceUnavailableError) as info:
        _call(_model(framework, hostile), mode)
    assert info.value.status_code == status
    assert info.value.__cause__ is not None
    assert len(hostile.requests) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_stall_is_a_model_timeout_streaming_or_not(hostile, framework, mode):
    # The server answers the headers, sends the first event, then goes silent for longer
    # than the read timeout (1 s). Streams used to raise BedrockConnectionError here.
    first = event("messageStart", {"role": "assistant"})
    if "stream" in mode:
        script = Script(headers={"content-type": EVENT_STREAM}, chunks=[(first, 0), (first, 4)])
    else:
        script = Script(headers={"content-type": "application/json"}, chunks=[(b"{", 0), (b"}", 4)])
    hostile.always(script)
    with pytest.raises(errors.ModelTimeoutError) as info:
        _call(_model(framework, hostile), mode)
    assert not isinstance(info.value, errors.DeadlineExceededError)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_missing_profile_is_a_configuration_error(
    hostile, framework, mode, tmp_path, monkeypatch
):
    # An empty AWS config: the profile cannot exist. botocore raises ProfileNotFound when the
    # client is built, at the first call; nothing is sent.
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    llm = _model(
        framework,
        hostile,
        credentials_profile_name="no-such-profile",
        aws_access_key_id=None,
        aws_secret_access_key=None,
    )
    with pytest.raises(errors.ConfigurationError) as info:
        _call(llm, mode)
    assert "no-such-profile" in str(info.value)
    assert type(info.value.__cause__).__name__ == "ProfileNotFound"
    assert hostile.requests == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    "url", ["127.0.0.1:8000", "bedrock-runtime.us-east-1.amazonaws.com", "htp//x"]
)
def test_an_endpoint_without_a_scheme_fails_at_construction(hostile, framework, url):
    with pytest.raises(errors.ConfigurationError, match="needs a scheme and a host"):
        _model(framework, hostile, endpoint_url=url)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_nothing_untyped_escapes_a_garbage_reply(hostile, framework, mode):
    # Whatever the parse side decides about a body like this, it must be a bedrock-kit type.
    hostile.always(Script(status=200, headers={"content-type": "text/html"}, body=PROXY_PAGE))
    with pytest.raises(errors.BedrockKitError):
        _call(_model(framework, hostile), mode)
