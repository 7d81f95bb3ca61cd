"""Every public AWS-facing class pickles before and after use, without its secrets.

Clients are rebuilt lazily on the other side. An object that was given explicit keys (or an
injected client) does not carry them in the pickle, so its unpickled copy refuses its first
call with ConfigurationError naming the fix, instead of silently signing with whatever
credentials the other process finds. Calls go to LocalBedrock over real HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any

import boto3
import pytest

from bedrock_kit import ClientSettings
from bedrock_kit.core.transport.lifecycle import owned_pools
from bedrock_kit.errors import ConfigurationError
from tests.support.catalogue import CASES, Case, serve

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENforPICKLEtests"
KEYS = {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET, "aws_session_token": TOKEN}

PARAMS = [pytest.param(case, id=case.name) for case in CASES]


def _clean_pickle(obj: Any) -> bytes:
    data = pickle.dumps(obj)
    for secret in (KEY_ID, SECRET, TOKEN):
        assert secret.encode() not in data, f"{secret[:4]}... is in the pickle"
    return data


def _assert_names_the_fix(error: ConfigurationError) -> None:
    text = str(error)
    assert "unpickled" in text
    assert "aws_access_key_id" in text and "client=" in text  # pass them again
    assert "credentials_profile_name" in text and "IAM role" in text  # or need none


@pytest.mark.parametrize("case", PARAMS)
def test_pickles_before_use_without_secrets(case: Case) -> None:
    with serve(case) as (_, args):
        obj = case.build({**args, **KEYS})
        copy_ = pickle.loads(_clean_pickle(obj))
        assert type(copy_) is type(obj)


@pytest.mark.parametrize("case", PARAMS)
def test_pickles_after_sync_and_async_use_without_secrets(case: Case) -> None:
    with serve(case) as (server, args):
        obj = case.build({**args, **KEYS})
        case.call(obj)
        asyncio.run(case.acall(obj))
        assert len(server.requests) >= 2
        copy_ = pickle.loads(_clean_pickle(obj))
        assert type(copy_) is type(obj)
        # The original keeps working after being pickled (its clients were not touched).
        case.call(obj)


@pytest.mark.parametrize("case", PARAMS)
def test_unpickled_copy_with_explicit_keys_refuses_sync_call(case: Case) -> None:
    with serve(case) as (server, args):
        obj = case.build({**args, **KEYS})
        case.call(obj)  # used first: built clients must not travel either
        copy_ = pickle.loads(_clean_pickle(obj))
        sent = len(server.requests)
        with pytest.raises(ConfigurationError) as info:
            case.call(copy_)
        _assert_names_the_fix(info.value)
        assert len(server.requests) == sent, "a request was sent with other credentials"


@pytest.mark.parametrize("case", PARAMS)
def test_unpickled_copy_with_explicit_keys_refuses_async_call(case: Case) -> None:
    with serve(case) as (server, args):
        copy_ = pickle.loads(_clean_pickle(case.build({**args, **KEYS})))  # never used
        with pytest.raises(ConfigurationError) as info:
            asyncio.run(case.acall(copy_))
        _assert_names_the_fix(info.value)
        assert len(server.requests) == 0


@pytest.mark.parametrize("case", PARAMS)
def test_unpickled_copy_without_keys_rebuilds_its_clients(case: Case) -> None:
    # No explicit keys: the default chain (the test plugin's fake environment keys) is what
    # the object used all along, so its copy may use it too.
    with serve(case) as (server, args):
        obj = case.build(args)
        case.call(obj)
        asyncio.run(case.acall(obj))
        copy_ = pickle.loads(pickle.dumps(obj))
        before = len(server.requests)
        case.call(copy_)
        asyncio.run(case.acall(copy_))
        assert len(server.requests) > before


def _runtime_client(args: dict[str, Any], service: str = "bedrock-runtime") -> Any:
    return boto3.client(service, **{k: v for k, v in args.items() if k != "max_retries"})


def _injected() -> list[Any]:
    from bedrock_kit import ConverseRuntime
    from bedrock_kit import langchain as lc
    from bedrock_kit import llama_index as li
    from bedrock_kit.core.transport.clients import client_settings_from

    model, kb, embed = "amazon.nova-micro-v1:0", "KB12345678", "amazon.titan-embed-text-v2:0"
    request = {"modelId": model, "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    cases = [
        (
            "core.ConverseRuntime",
            lambda a, c: ConverseRuntime(client_settings_from(**a), client=c),
            "bedrock-runtime",
            lambda o: o.converse(request),
        ),
        (
            "langchain.ChatBedrockKit",
            lambda a, c: lc.ChatBedrockKit(model=model, client=c, **a),
            "bedrock-runtime",
            lambda o: o.invoke("hi"),
        ),
        (
            "langchain.BedrockKnowledgeBaseRetriever",
            lambda a, c: lc.BedrockKnowledgeBaseRetriever(knowledge_base_id=kb, client=c, **a),
            "bedrock-agent-runtime",
            lambda o: o.invoke("q"),
        ),
        (
            "llama_index.BedrockKitLLM",
            lambda a, c: li.BedrockKitLLM(model=model, client=c, **a),
            "bedrock-runtime",
            lambda o: o.complete("hi"),
        ),
        (
            "llama_index.BedrockKnowledgeBaseRetriever",
            lambda a, c: li.BedrockKnowledgeBaseRetriever(kb, client=c, **a),
            "bedrock-agent-runtime",
            lambda o: o.retrieve("q"),
        ),
        (
            "llama_index.BedrockKitEmbedding",
            lambda a, c: li.BedrockKitEmbedding(model=embed, client=c, **a),
            "bedrock-runtime",
            lambda o: o.get_query_embedding("q"),
        ),
    ]
    return [pytest.param(b, s, c, id=name) for name, b, s, c in cases]


@pytest.mark.parametrize(("build", "service", "call"), _injected())
def test_unpickled_copy_of_an_injected_client_refuses_instead_of_building_another(
    build: Any, service: str, call: Any
) -> None:
    # Nothing listens on port 9: a request would fail as a connection error, not a refusal.
    args = {"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:9"}
    injected = _runtime_client(args, service)
    obj = build(args, injected)
    copy_ = pickle.loads(pickle.dumps(obj))  # a boto3 client cannot pickle: it is left out
    with pytest.raises(ConfigurationError) as info:
        call(copy_)
    assert "injected client" in str(info.value) and "client=" in str(info.value)
    # Pickling left the original untouched (LlamaIndex's own __getstate__ would delete it).
    pools = owned_pools(obj)  # none yet when the runtime is built on the first call
    kept = pools[0]._client if pools else obj.client
    assert kept is injected


def test_client_settings_copies_keep_keys_and_pickles_drop_them() -> None:
    settings = ClientSettings(region_name="us-east-1", **KEYS)
    assert copy.copy(settings) is settings and copy.deepcopy(settings) is settings
    assert settings.has_explicit_credentials
    unpickled = pickle.loads(_clean_pickle(settings))
    assert unpickled.aws_access_key_id is None and unpickled.has_explicit_credentials
    assert unpickled == ClientSettings(region_name="us-east-1")  # the flag is not compared
    with pytest.raises(ConfigurationError):
        unpickled.create_client("bedrock-runtime")
    plain = pickle.loads(pickle.dumps(ClientSettings(region_name="us-east-1")))
    assert not plain.has_explicit_credentials
    plain.check_usable()


def test_deep_copy_of_a_used_model_keeps_working_with_its_keys() -> None:
    from bedrock_kit.langchain import ChatBedrockKit
    from bedrock_kit.testing import LocalBedrock

    with LocalBedrock() as server:
        args = {"region_name": "us-east-1", "endpoint_url": server.endpoint_url, **KEYS}
        llm = ChatBedrockKit(model="amazon.nova-micro-v1:0", **args)
        llm.invoke("hi")
        twin = copy.deepcopy(llm)  # a copy in memory, not a pickle: keys may stay
        assert twin.invoke("again").content == "echo: again"
        assert twin.runtime.pool is not llm.runtime.pool
        headers = {k.lower(): v for k, v in server.requests[-1].headers.items()}
        assert KEY_ID in headers["authorization"]  # signed with its own keys
