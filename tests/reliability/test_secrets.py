"""No credential leaks through repr, str, serialisation, pickles or logs of public objects."""

from __future__ import annotations

import contextlib
import logging
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"
CREDS = {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET, "aws_session_token": TOKEN}
ARGS = {"region_name": "us-east-1", **CREDS}


def _langchain() -> list[tuple[str, Callable[[], Any]]]:
    from bedrock_kit import langchain as lc

    return [
        ("ChatBedrockKit", lambda: lc.ChatBedrockKit(model="amazon.nova-micro-v1:0", **ARGS)),
        ("BedrockGuardrail", lambda: lc.BedrockGuardrail(guardrail_identifier="g", **ARGS)),
        (
            "BedrockKnowledgeBaseRetriever",
            lambda: lc.BedrockKnowledgeBaseRetriever(knowledge_base_id="KB1", **ARGS),
        ),
        (
            "BedrockRetrieveAndGenerate",
            lambda: lc.BedrockRetrieveAndGenerate(
                knowledge_base_id="KB1", model_id="amazon.nova-micro-v1:0", **ARGS
            ),
        ),
        (
            "BedrockAgentRunnable",
            lambda: lc.BedrockAgentRunnable(agent_id="A1", agent_alias_id="L1", **ARGS),
        ),
        (
            "BedrockKitEmbeddings",
            lambda: lc.BedrockKitEmbeddings(model="amazon.titan-embed-text-v2:0", **ARGS),
        ),
    ]


def _llama_index() -> list[tuple[str, Callable[[], Any]]]:
    from bedrock_kit import llama_index as li

    return [
        ("BedrockKitLLM", lambda: li.BedrockKitLLM(model="amazon.nova-micro-v1:0", **ARGS)),
        ("BedrockGuardrail", lambda: li.BedrockGuardrail(guardrail_id="g", **ARGS)),
        (
            "BedrockKnowledgeBaseRetriever",
            lambda: li.BedrockKnowledgeBaseRetriever(knowledge_base_id="KB1", **ARGS),
        ),
        (
            "BedrockKitEmbedding",
            lambda: li.BedrockKitEmbedding(model="amazon.titan-embed-text-v2:0", **ARGS),
        ),
    ]


def _core() -> list[tuple[str, Callable[[], Any]]]:
    from bedrock_kit import ClientSettings, ConverseRuntime

    return [
        ("ClientSettings", lambda: ClientSettings(region_name="us-east-1", **CREDS)),
        (
            "ConverseRuntime",
            lambda: ConverseRuntime(ClientSettings(region_name="us-east-1", **CREDS)),
        ),
    ]


CASES = [pytest.param(f, id=f"core-{n}") for n, f in _core()]
CASES += [pytest.param(f, id=f"langchain-{n}") for n, f in _langchain()]
CASES += [pytest.param(f, id=f"llama_index-{n}") for n, f in _llama_index()]


def _no_secret(text: str) -> None:
    assert SECRET not in text and TOKEN not in text


@pytest.mark.parametrize("build", CASES)
def test_repr_str_and_serialisation_hold_no_secret(build: Callable[[], Any]) -> None:
    obj = build()
    _no_secret(repr(obj))
    _no_secret(str(obj))
    for dump in ("model_dump_json", "to_json"):
        method = getattr(obj, dump, None)
        if callable(method):
            # Not serialisable is fine; leaking is not.
            with contextlib.suppress(TypeError, ValueError, NotImplementedError):
                _no_secret(str(method()))


@pytest.mark.parametrize("build", CASES)
def test_pickles_hold_no_plain_secret(build: Callable[[], Any]) -> None:
    obj = build()
    data = pickle.dumps(obj)  # every public class pickles (tests/reliability/test_pickling.py)
    assert SECRET.encode() not in data and TOKEN.encode() not in data


def test_errors_and_logs_hold_no_secret_or_content(caplog: pytest.LogCaptureFixture) -> None:
    from bedrock_kit.errors import ThrottlingError
    from bedrock_kit.langchain import ChatBedrockKit

    caplog.set_level(logging.DEBUG, logger="bedrock_kit")
    with LocalBedrock() as server:
        server.script("Converse", Reply.error(429, "ThrottlingException", "slow down"))
        server.script("Converse", Reply.json(converse_reply("the private answer")))
        llm = ChatBedrockKit(
            model="amazon.nova-micro-v1:0", endpoint_url=server.endpoint_url, max_retries=0, **ARGS
        )
        with pytest.raises(ThrottlingError) as info:
            llm.invoke("my private question")
        _no_secret(str(info.value) + repr(info.value))
        assert llm.invoke("my private question").content == "the private answer"
    for record in caplog.records:
        message = record.getMessage()
        _no_secret(message)
        assert "my private question" not in message and "the private answer" not in message
