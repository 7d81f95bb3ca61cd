"""Switching from langchain-aws is a change of import.

Each snippet below is code from langchain-aws's ChatBedrockConverse documentation (its class
docstring: constructor, invoke, stream, tool calling, structured output, extended thinking,
image input, token usage, response metadata; plus its guardrail, prompt-caching and client
arguments). Every snippet runs twice against the same LocalBedrock, once with
``from langchain_aws import ChatBedrockConverse`` and once with
``from bedrock_kit.langchain import ChatBedrockKit as ChatBedrockConverse``; the requests the
server receives and the results the snippet reads must be the same.

The only edits to the documented code: ``region_name``/``base_url`` point at LocalBedrock, and
the image snippet's download (``httpx.get``) is a local PNG.
"""

from __future__ import annotations

import base64
import json
import os
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import build_usage, converse_reply

IMPORTS = {
    "langchain-aws": "from langchain_aws import ChatBedrockConverse",
    "bedrock-kit": "from bedrock_kit.langchain import ChatBedrockKit as ChatBedrockConverse",
}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PRELUDE = """
from typing import Optional
from botocore.config import Config
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field
"""

SNIPPETS: dict[str, str] = {
    "invoke": """
        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0",
            temperature=0,
            max_tokens=None,
            region_name=REGION, base_url=ENDPOINT,
        )
        messages = [
            ("system", "You are a helpful translator. Translate the user sentence to French."),
            ("human", "I love programming."),
        ]
        ai_msg = model.invoke(messages)
        result = {
            "content": ai_msg.content,
            "usage": ai_msg.usage_metadata,
            "stopReason": ai_msg.response_metadata["stopReason"],
            "latencyMs": ai_msg.response_metadata["metrics"]["latencyMs"],
            "status": ai_msg.response_metadata["ResponseMetadata"]["HTTPStatusCode"],
            "request_id": ai_msg.response_metadata["ResponseMetadata"]["RequestId"],
            "model_name": ai_msg.response_metadata["model_name"],
        }
    """,
    "stream": """
        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0", region_name=REGION, base_url=ENDPOINT
        )
        messages = [("human", "I love programming.")]
        stream = model.stream(messages)
        full = next(stream)
        for chunk in stream:
            full += chunk
        result = {
            "text": full.text,
            "usage": full.usage_metadata,
            "stopReason": full.response_metadata["stopReason"],
            "latencyMs": full.response_metadata["metrics"]["latencyMs"],
            "request_id": full.response_metadata["ResponseMetadata"]["RequestId"],
        }
    """,
    "tool_calling": """
        class GetWeather(BaseModel):
            '''Get the current weather in a given location'''

            location: str = Field(..., description="The city and state, e.g. San Francisco, CA")

        class GetPopulation(BaseModel):
            '''Get the current population in a given location'''

            location: str = Field(..., description="The city and state, e.g. San Francisco, CA")

        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0", region_name=REGION, base_url=ENDPOINT
        )
        model_with_tools = model.bind_tools([GetWeather, GetPopulation])
        ai_msg = model_with_tools.invoke(
            "Which city is hotter today and which is bigger: LA or NY?"
        )
        result = {
            "tool_calls": ai_msg.tool_calls,
            "stopReason": ai_msg.response_metadata["stopReason"],
        }
    """,
    "structured_output": """
        class Joke(BaseModel):
            '''Joke to tell user.'''

            setup: str = Field(description="The setup of the joke")
            punchline: str = Field(description="The punchline to the joke")
            rating: Optional[int] = Field(description="How funny the joke is, from 1 to 10")

        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0", region_name=REGION, base_url=ENDPOINT
        )
        structured_model = model.with_structured_output(Joke)
        result = {"joke": structured_model.invoke("Tell me a joke about cats")}
    """,
    "structured_output_json_schema": """
        class Joke(BaseModel):
            '''Joke to tell user.'''

            setup: str = Field(description="The setup of the joke")
            punchline: str = Field(description="The punchline to the joke")
            rating: Optional[int] = Field(description="How funny the joke is, from 1 to 10")

        model = ChatBedrockConverse(
            model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            region_name=REGION, base_url=ENDPOINT,
        )
        structured_model = model.with_structured_output(Joke, method="json_schema")
        result = {"joke": structured_model.invoke("Tell me a joke about cats")}
    """,
    "extended_thinking": """
        thinking_params= {
            "thinking": {
                "type": "enabled",
                "budget_tokens": 2000
            }
        }

        model = ChatBedrockConverse(
            model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            max_tokens=5000,
            region_name=REGION, base_url=ENDPOINT,
            additional_model_request_fields=thinking_params,
        )

        response = model.invoke("What is the cube root of 50.653?")
        result = {"content": response.content}
    """,
    "image_input": """
        image_data = base64.b64encode(PNG).decode("utf-8")
        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0", region_name=REGION, base_url=ENDPOINT
        )
        message = HumanMessage(
            content=[
                {"type": "text", "text": "describe the weather in this image"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": image_data},
                },
            ],
        )
        ai_msg = model.invoke([message])
        result = {"content": ai_msg.content}
    """,
    "guardrails": """
        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0",
            region_name=REGION, base_url=ENDPOINT,
            guardrails={
                "guardrailIdentifier": "gr-abc123",
                "guardrailVersion": "1",
                "trace": "enabled",
            },
        )
        ai_msg = model.invoke("Tell me about tides and my card 4111-1111-1111-1111")
        result = {
            "text": ai_msg.text,
            "stopReason": ai_msg.response_metadata["stopReason"],
            "trace": ai_msg.response_metadata["trace"],
        }
    """,
    "cache_points": """
        model = ChatBedrockConverse(
            model="anthropic.claude-3-7-sonnet-20250219-v1:0", region_name=REGION, base_url=ENDPOINT
        )
        cache_point = ChatBedrockConverse.create_cache_point()
        messages = [
            SystemMessage(content=["You answer questions about this long manual ...", cache_point]),
            HumanMessage(content=["What does chapter 1 say?", cache_point]),
        ]
        ai_msg = model.invoke(messages)
        result = {"usage": ai_msg.usage_metadata, "text": ai_msg.text}
    """,
    "client_and_request_options": """
        model = ChatBedrockConverse(
            model="arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc",
            provider="anthropic",
            base_model_id="anthropic.claude-3-haiku-20240307-v1:0",
            region_name=REGION, base_url=ENDPOINT,
            system=["You are terse."],
            stop_sequences=["\\n\\nHuman:"],
            top_p=0.9,
            performance_config={"latency": "optimized"},
            service_tier="priority",
            request_metadata={"team": "search"},
            additional_model_response_field_paths=["/stop_sequence"],
            config=Config(connect_timeout=5, retries={"max_attempts": 2}),
            supports_tool_choice_values=("auto", "any", "tool"),
        )
        ai_msg = model.invoke("Hi")
        result = {
            "text": ai_msg.text,
            "model_name": ai_msg.response_metadata["model_name"],
            "model": model.model,
        }
    """,
    "api_key": """
        model = ChatBedrockConverse(
            model="anthropic.claude-3-sonnet-20240229-v1:0",
            region_name=REGION, base_url=ENDPOINT,
            api_key="bedrock-api-key-for-tests",
        )
        result = {"text": model.invoke("Hi").text}
    """,
}

# Replies both runs get, for snippets whose documented answer a scripted model cannot guess.
SCRIPTED: dict[str, dict[str, Any]] = {
    "tool_calling": converse_reply(
        tool_uses=[
            {"name": "GetWeather", "input": {"location": "Los Angeles, CA"}, "toolUseId": "t1"},
            {"name": "GetWeather", "input": {"location": "New York, NY"}, "toolUseId": "t2"},
            {"name": "GetPopulation", "input": {"location": "Los Angeles, CA"}, "toolUseId": "t3"},
            {"name": "GetPopulation", "input": {"location": "New York, NY"}, "toolUseId": "t4"},
        ]
    ),
    "guardrails": converse_reply(
        "Sorry, I cannot share card numbers.",
        stop_reason="guardrail_intervened",
        trace={"guardrail": {"actionReason": "Guardrail blocked."}},
    ),
    "cache_points": converse_reply(
        "Chapter 1 covers setup.", usage=build_usage(12, 6, cache_read=1800, cache_write=0)
    ),
}

# Results that differ between runs by nature (one uuid per request).
_PER_REQUEST = ("request_id",)


_BEARER_ENV = "AWS_BEARER_TOKEN_BEDROCK"


@pytest.fixture(autouse=True)
def _bearer_env_stays_local() -> Iterator[None]:
    # langchain-aws passes api_key on as a process-wide environment variable, which botocore
    # then uses for every client; no run (and no later test) may inherit it.
    before = os.environ.pop(_BEARER_ENV, None)
    yield
    os.environ.pop(_BEARER_ENV, None)
    if before is not None:
        os.environ[_BEARER_ENV] = before


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


def _run(name: str, library: str, server: LocalBedrock) -> tuple[dict[str, Any], list[Any]]:
    os.environ.pop(_BEARER_ENV, None)
    server.clear()
    if name in SCRIPTED:
        server.script("Converse", Reply.json(SCRIPTED[name]))
    namespace: dict[str, Any] = {
        "REGION": "us-west-2",
        "ENDPOINT": server.endpoint_url,
        "PNG": PNG,
        "base64": base64,
    }
    source = PRELUDE + IMPORTS[library] + "\n" + textwrap.dedent(SNIPPETS[name])
    code = compile(source, f"<{library}:{name}>", "exec", dont_inherit=True)
    exec(code, namespace)
    return namespace["result"], server.requests_for("Converse") + server.requests_for(
        "ConverseStream"
    )


def _normal(value: Any) -> Any:
    """A request body compared for meaning: empty members dropped, schema strings parsed,
    JSON Schema titles (pydantic's and LangChain's converters differ on them) left out.

    One intended difference is folded: langchain-aws drops the ``null`` branch of optional
    tool arguments (``anyOf: [X, null]`` -> ``X``, to stay under Bedrock's limit of 16 union
    parameters per request); bedrock-kit sends the schema as the tool declares it.
    """
    if isinstance(value, dict):
        branches = value.get("anyOf")
        if isinstance(branches, list):
            concrete = [b for b in branches if b != {"type": "null"}]
            if len(concrete) == 1 and len(concrete) < len(branches):
                value = {**{k: v for k, v in value.items() if k != "anyOf"}, **concrete[0]}
        out = {}
        for key, item in value.items():
            if key == "schema" and isinstance(item, str):
                item = json.loads(item)
            if key == "title" and isinstance(item, str):
                continue
            found = _normal(item)
            if found not in ([], {}, None):
                out[key] = found
        return out
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    # Each run defines its own pydantic classes: compare their class name and values.
    return {
        k: (type(v).__name__, v.model_dump()) if hasattr(v, "model_dump") else v
        for k, v in result.items()
        if k not in _PER_REQUEST
    }


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_documented_snippet_runs_unchanged_with_the_same_results(server, name):
    theirs, their_requests = _run(name, "langchain-aws", server)
    ours, our_requests = _run(name, "bedrock-kit", server)
    assert _comparable(ours) == _comparable(theirs)
    assert [r.operation for r in our_requests] == [r.operation for r in their_requests]
    assert [r.path_params for r in our_requests] == [r.path_params for r in their_requests]
    for mine, yours in zip(our_requests, their_requests, strict=True):
        assert _normal(mine.body) == _normal(yours.body)
    if "request_id" in ours:  # a real id each time, not a placeholder
        assert ours["request_id"] and ours["request_id"] != theirs["request_id"]


def test_the_api_key_is_sent_as_a_bearer_token_by_both(server):
    _, theirs = _run("api_key", "langchain-aws", server)
    _, ours = _run("api_key", "bedrock-kit", server)
    expected = "Bearer bedrock-api-key-for-tests"
    assert theirs[-1].headers["Authorization"] == expected
    assert ours[-1].headers["Authorization"] == expected
    assert _BEARER_ENV not in os.environ  # bedrock-kit keeps the key to its own client


def test_the_request_options_reach_the_wire(server):
    _, requests = _run("client_and_request_options", "bedrock-kit", server)
    body = requests[-1].body
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["serviceTier"] == {"type": "priority"}
    assert body["requestMetadata"] == {"team": "search"}
    assert body["additionalModelResponseFieldPaths"] == ["/stop_sequence"]
    assert body["system"] == [{"text": "You are terse."}]
    assert requests[-1].path_params["modelId"].endswith("application-inference-profile/abc")
