"""dumpd / dumps / loads of bedrock-kit's LangChain runnables: configuration round-trips,
credentials never appear in the dump, runnables holding code say they cannot be saved."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps, load, loads
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from bedrock_kit.core.knowledge_bases.filters import F
from bedrock_kit.langchain import (
    LOAD_MAPPINGS,
    BedrockAgentRunnable,
    BedrockGroundingCheck,
    BedrockGuardrail,
    BedrockKnowledgeBaseRetriever,
    BedrockRetrieveAndGenerate,
    BedrockStreamGuard,
    ChatBedrockKit,
)
from bedrock_kit.testing import LocalBedrock, ScriptedModel

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
SECRETS = {
    "aws_access_key_id": "AKIAEXAMPLESECRET01",
    "aws_secret_access_key": "very-secret-access-key-000",
    "aws_session_token": "session-token-secret-000",
}
CLIENT = {"region_name": "us-west-2", "max_retries": 3, "timeout": 12.5}


def _load(text: str, **kwargs: Any) -> Any:
    return loads(
        text,
        allowed_objects="core",
        valid_namespaces=["bedrock_kit"],
        additional_import_mappings=LOAD_MAPPINGS,
        **kwargs,
    )


def _no_secrets(text: str) -> None:
    for value in (*SECRETS.values(), "br-api-key-secret"):
        assert value not in text


def test_chat_model_round_trips_with_its_configuration_and_no_secrets():
    llm = ChatBedrockKit(
        model=MODEL,
        **CLIENT,
        **SECRETS,
        api_key="br-api-key-secret",
        temperature=0.3,
        max_tokens=256,
        guardrails={"guardrailIdentifier": "gr-1", "guardrailVersion": "2"},
        system=["Be brief."],
        service_tier="flex",
        additional_model_request_fields={"top_k": 5},
        output_version="v1",
    )
    assert ChatBedrockKit.is_lc_serializable()
    text = dumps(llm)
    _no_secrets(text)
    kwargs = json.loads(text)["kwargs"]
    assert kwargs["aws_secret_access_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_SECRET_ACCESS_KEY"],
    }
    assert kwargs["bedrock_api_key"]["id"] == ["AWS_BEARER_TOKEN_BEDROCK"]
    back = _load(text)
    assert isinstance(back, ChatBedrockKit)
    for name in (
        "model_id",
        "region_name",
        "max_retries",
        "timeout",
        "temperature",
        "max_tokens",
        "guardrail_config",
        "system",
        "service_tier",
        "additional_model_request_fields",
        "output_version",
    ):
        assert getattr(back, name) == getattr(llm, name), name
    assert back.aws_access_key_id is None and back.bedrock_api_key is None


def test_secrets_come_back_only_from_the_secrets_map():
    text = dumps(ChatBedrockKit(model=MODEL, **CLIENT, **SECRETS))
    back = _load(
        text,
        secrets_map={"AWS_ACCESS_KEY_ID": "AKIANEW", "AWS_SECRET_ACCESS_KEY": "new-secret"},
    )
    assert back.aws_access_key_id.get_secret_value() == "AKIANEW"
    assert back.aws_secret_access_key.get_secret_value() == "new-secret"


def test_a_chain_holding_the_model_round_trips_and_still_runs():
    with LocalBedrock() as server:
        ScriptedModel().install(server)
        llm = ChatBedrockKit(model=MODEL, endpoint_url=server.endpoint_url, **CLIENT, **SECRETS)
        chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | llm | StrOutputParser()
        data = dumpd(chain)
        _no_secrets(json.dumps(data))
        back = _load(json.dumps(data))
        assert back.invoke({"q": "ping"}) == chain.invoke({"q": "ping"}) == "echo: ping"


def test_pickles_carry_no_api_key():
    llm = ChatBedrockKit(model=MODEL, **CLIENT, **SECRETS, api_key="br-api-key-secret")
    data = pickle.dumps(llm)
    for value in (*SECRETS.values(), "br-api-key-secret"):
        assert value.encode() not in data
    assert pickle.loads(data).model_id == MODEL


@pytest.mark.parametrize(
    "runnable",
    [
        lambda: BedrockGuardrail(guardrail_id="gr-1", guardrail_version=3, source="OUTPUT"),
        lambda: BedrockStreamGuard(guardrail_id="gr-1", window_size=500, overlap=20),
        lambda: BedrockGroundingCheck(guardrail_id="gr-1", on_fail="flag"),
        lambda: BedrockKnowledgeBaseRetriever(
            knowledge_base_id="KB12345678", filter=F.eq("year", 2024), max_results=20
        ),
        lambda: BedrockRetrieveAndGenerate(
            knowledge_base_id="KB12345678", model_id="anthropic.claude-3-haiku-20240307-v1:0"
        ),
        lambda: BedrockAgentRunnable(agent_id="AGENT12345", agent_alias_id="ALIAS12345"),
    ],
    ids=["guardrail", "stream-guard", "grounding", "retriever", "rag", "agent"],
)
def test_configuration_only_runnables_round_trip(runnable):
    original = runnable()
    configured = type(original)(**{**_fields(original), **CLIENT, **SECRETS})
    text = dumps(configured)
    _no_secrets(text)
    back = _load(text)
    assert type(back) is type(configured)
    assert _fields(back) == {**_fields(configured), **{k: None for k in SECRETS}}


def _fields(obj: Any) -> dict[str, Any]:
    skip = {"client", "async_client", "on_result", "name"}
    out = {}
    for name in type(obj).model_fields:
        if name in skip:
            continue
        value = getattr(obj, name)
        out[name] = value.to_wire() if hasattr(value, "to_wire") else value
    return {k: v for k, v in out.items() if k not in SECRETS or v is None}


def test_an_agent_holding_local_tools_is_not_serializable():
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    agent = BedrockAgentRunnable(agent_id="AGENT12345", agent_alias_id="ALIAS12345", tools=[lookup])
    assert dumpd(agent)["type"] == "not_implemented"


def test_the_standard_suites_serdes_check_passes_with_bedrock_kits_mappings(monkeypatch):
    # langchain-tests' test_serdes, with the loader admitting bedrock-kit's classes.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    model = ChatBedrockKit(model=MODEL, region_name="us-east-1", temperature=0, max_tokens=100)
    loaded = load(
        dumpd(model),
        valid_namespaces=["bedrock_kit"],
        allowed_objects="core",
        additional_import_mappings=LOAD_MAPPINGS,
        secrets_from_env=True,
    )
    assert model.asdict() == loaded.asdict()  # .dict() is deprecated in langchain-core 1.4
