"""BedrockKitLLM with server-side tools (Converse ``systemTool``) and the current Converse
request fields, sync and async, chat and stream.

Server tool calls and results Bedrock ran stay in the message (``additional_kwargs
["bedrock_blocks"]`` with their positions), are never tool selections, go back as history in
their place, and ``usage.serverToolUsage`` is kept in ``raw`` and the typed usage.

Cassettes under cassettes/llama_index/test_chat_server_tools/ were recorded through
LocalBedrock with the scripted replies below (``--record-mode=once``); the request-side tests
run against LocalBedrock itself.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.tools import FunctionTool

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import converse_reply, converse_stream_events, server_tool

MODEL = "us.amazon.nova-2-lite-v1:0"
PROMPT = "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234:1"
CODE = server_tool(
    "nova_code_interpreter",
    {"code": "print(6 * 7)"},
    [{"json": {"stdout": "42\n", "exit_code": 0}}],
    tool_use_id="tooluse_srv_1",
)
USAGE = {"nova_code_interpreter": {"invocations": 1}}
QUESTION = [ChatMessage(role="user", content="What is 6 * 7? Use code.")]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _check(response: ChatResponse, llm: BedrockKitLLM) -> None:
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    kept = response.message.additional_kwargs["bedrock_blocks"]
    assert kept[0]["toolUse"] == {
        "toolUseId": "tooluse_srv_1",
        "name": "nova_code_interpreter",
        "input": {"code": "print(6 * 7)"},
        "type": "server_tool_use",
    }
    assert kept[1]["toolResult"]["type"] == "nova_code_interpreter_result"
    assert response.message.additional_kwargs["bedrock_block_positions"] == [0, 1]
    assert response.message.content == "6 times 7 is 42."
    assert response.raw["server_tool_usage"] == USAGE
    assert response.additional_kwargs["usage"].server_tool_usage == USAGE


# ------------------------------------------------------------------------ cassettes


@pytest.fixture
def llm(bedrock):
    return BedrockKitLLM(
        model=MODEL,
        endpoint_url=bedrock.endpoint_url,
        region_name=bedrock.region,
        max_retries=0,
        system_tools=["nova_code_interpreter"],
    )


def _reply() -> Reply:
    return Reply.json(
        converse_reply("6 times 7 is 42.", server_tools=[CODE], server_tool_usage=USAGE)
    )


def _events() -> Reply:
    return Reply.events(
        converse_stream_events(
            "6 times 7 is 42.", server_tools=[CODE], server_tool_usage=USAGE, chunk_chars=5
        )
    )


@pytest.mark.vcr
def test_chat_keeps_server_blocks_out_of_tool_selections(bedrock, llm):
    bedrock.script("Converse", _reply())
    _check(llm.chat(QUESTION), llm)


@pytest.mark.vcr
async def test_achat_keeps_server_blocks_out_of_tool_selections(bedrock, llm):
    bedrock.script("Converse", _reply())
    _check(await llm.achat(QUESTION), llm)


@pytest.mark.vcr
def test_stream_chat_last_chunk_keeps_server_blocks(bedrock, llm):
    bedrock.script("ConverseStream", _events())
    chunks = list(llm.stream_chat(QUESTION))
    assert all(
        llm.get_tool_calls_from_response(c, error_on_no_tool_call=False) == [] for c in chunks
    )
    _check(chunks[-1], llm)


@pytest.mark.vcr
async def test_astream_chat_last_chunk_keeps_server_blocks(bedrock, llm):
    bedrock.script("ConverseStream", _events())
    chunks = [c async for c in await llm.astream_chat(QUESTION)]
    _check(chunks[-1], llm)


# ------------------------------------------------------------------------ requests


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _llm(server: LocalBedrock, **kwargs) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=kwargs.pop("model", MODEL),
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        **kwargs,
    )


def test_chat_with_tools_sends_system_tools_after_client_tools(server):
    llm = _llm(server)
    llm.chat_with_tools([FunctionTool.from_defaults(add)], "hello", system_tools=["nova_grounding"])
    tools = server.requests[-1].body["toolConfig"]["tools"]
    assert [next(iter(t)) for t in tools] == ["toolSpec", "systemTool"]
    assert tools[1] == {"systemTool": {"name": "nova_grounding"}}


def test_bad_system_tools_fail_at_construction():
    with pytest.raises(ConfigurationError, match="system tool"):
        BedrockKitLLM(model=MODEL, region_name="us-east-1", system_tools=["has space"])


def test_history_goes_back_with_the_server_blocks_in_place(server):
    llm = _llm(server, system_tools=["nova_code_interpreter"])
    first = llm.chat([ChatMessage(role="user", content="compute 2+2")])
    llm.chat(
        [
            ChatMessage(role="user", content="compute 2+2"),
            first.message,
            ChatMessage(role="user", content="thanks"),
        ]
    )
    sent = server.requests[-1].body["messages"][1]["content"]
    assert [next(iter(b)) for b in sent] == ["toolUse", "toolResult", "text"]
    assert sent[0]["toolUse"]["type"] == "server_tool_use"
    assert sent[2] == {"text": "echo: compute 2+2"}


def test_a_streamed_answer_goes_back_as_history(server):
    llm = _llm(server, system_tools=["nova_code_interpreter"])
    last = list(llm.stream_chat([ChatMessage(role="user", content="compute 3")]))[-1]
    llm.chat(
        [
            ChatMessage(role="user", content="compute 3"),
            last.message,
            ChatMessage(role="user", content="thanks"),
        ]
    )
    sent = server.requests[-1].body["messages"][1]["content"]
    assert [next(iter(b)) for b in sent] == ["toolUse", "toolResult", "text"]


def test_request_fields_reach_bedrock(server):
    llm = _llm(
        server,
        service_tier="flex",
        performance_config={"latency": "optimized"},
        request_metadata={"team": "search"},
        additional_model_response_field_paths=["/stop_sequence"],
    )
    llm.chat([ChatMessage(role="user", content="hi")])
    body = server.requests[-1].body
    assert body["serviceTier"] == {"type": "flex"}
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["requestMetadata"] == {"team": "search"}
    assert body["additionalModelResponseFieldPaths"] == ["/stop_sequence"]


def test_per_call_fields_win(server):
    llm = _llm(server, service_tier="flex")
    llm.chat([ChatMessage(role="user", content="hi")], service_tier="priority")
    assert server.requests[-1].body["serviceTier"] == {"type": "priority"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service_tier": "gold"}, "service_tier"),
        ({"performance_config": {"latency": "fast"}}, "performance_config"),
        ({"request_metadata": {"bad key!": "v"}}, "request_metadata"),
        ({"additional_model_response_field_paths": [""]}, "not a JSON pointer"),
        ({"base_model_id": "not a model"}, "model id"),
    ],
)
def test_bad_fields_fail_at_construction(kwargs, message):
    with pytest.raises((ConfigurationError, ValueError), match=message):
        BedrockKitLLM(model=MODEL, region_name="us-east-1", **kwargs)


def test_prompt_variables_with_a_prompt_arn(server):
    server.script("Converse", Reply.json(converse_reply("A tide poem.")))
    llm = _llm(server, model=PROMPT, prompt_variables={"topic": "tides"})
    assert llm.chat([ChatMessage(role="user", content="go")]).message.content == "A tide poem."
    body = server.requests[-1].body
    assert body["promptVariables"] == {"topic": {"text": "tides"}}
    assert "inferenceConfig" not in body
    assert server.requests[-1].path_params["modelId"] == PROMPT


def test_prompt_variables_without_a_prompt_arn_are_refused_before_any_request(server):
    llm = _llm(server, prompt_variables={"topic": "tides"})
    with pytest.raises(ConfigurationError, match="prompt ARN"):
        llm.chat([ChatMessage(role="user", content="go")])
    assert server.requests == []


def test_base_model_id_sets_the_context_window():
    profile = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    llm = BedrockKitLLM(
        model=profile, region_name="us-east-1", base_model_id="amazon.nova-micro-v1:0"
    )
    assert llm.metadata.context_window == 128_000


# ------------------------------------------------------------------------ API keys


def test_api_key_is_sent_as_a_bearer_token_instead_of_sigv4(server):
    llm = _llm(server, api_key="bedrock-api-key-abc")
    llm.chat([ChatMessage(role="user", content="hi")])
    headers = {k.lower(): v for k, v in server.requests[-1].headers.items()}
    assert headers["authorization"] == "Bearer bedrock-api-key-abc"


async def test_api_key_is_sent_by_the_async_client_too(server):
    llm = _llm(server, api_key="bedrock-api-key-abc")
    await llm.achat([ChatMessage(role="user", content="hi")])
    headers = {k.lower(): v for k, v in server.requests[-1].headers.items()}
    assert headers["authorization"] == "Bearer bedrock-api-key-abc"
    await llm.aclose()


def test_api_key_is_never_printed_serialised_or_pickled(server):
    llm = _llm(server, api_key="bedrock-api-key-abc")
    assert "bedrock-api-key-abc" not in repr(llm)
    assert "bedrock-api-key-abc" not in llm.to_json()
    assert "bedrock-api-key-abc" not in json.dumps(llm.to_dict(), default=str)
    assert b"bedrock-api-key-abc" not in pickle.dumps(llm)


def test_an_unpickled_llm_that_had_an_api_key_refuses_its_first_call(server):
    llm = pickle.loads(pickle.dumps(_llm(server, api_key="bedrock-api-key-abc")))
    with pytest.raises(ConfigurationError, match="unpickled without its credentials"):
        llm.chat([ChatMessage(role="user", content="hi")])
    assert server.requests == []
