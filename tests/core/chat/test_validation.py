"""Validation on the build side: every request builder refuses bad input before any request.

Pure tests on core types; the same inputs through both adapters and a real HTTP server are
in ``tests/reliability/test_hostile_input.py``.
"""

from __future__ import annotations

import base64

import pytest

from bedrock_kit.core.agents.requests import (
    AgentSession,
    InlineAgentConfig,
    build_inline_agent_request,
    build_invoke_agent_request,
)
from bedrock_kit.core.chat.converse import build_converse_request
from bedrock_kit.core.chat.messages import decode_base64, parse_data_url
from bedrock_kit.core.chat.models import check_model_region
from bedrock_kit.core.chat.send import build_chat_request
from bedrock_kit.core.chat.tool_config import build_json_schema_output, build_tool_spec
from bedrock_kit.core.chat.tools import tool_spec
from bedrock_kit.core.chat.types import (
    DocumentBlock,
    ImageBlock,
    InferenceConfig,
    JsonBlock,
    Message,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from bedrock_kit.core.embeddings.runtime import check_texts
from bedrock_kit.core.guardrails.apply import build_apply_guardrail_request
from bedrock_kit.core.knowledge_bases.requests import (
    build_retrieve_and_generate_request,
    build_retrieve_request,
    model_arn_for,
)
from bedrock_kit.errors import ConfigurationError

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
BAD = "caf\udce9"  # 'café' decoded with errors='surrogateescape'
TOOL = ToolSpec(
    "lookup", "Look up a word", {"type": "object", "properties": {"w": {"type": "string"}}}
)


def _user(*blocks: object) -> list[Message]:
    return [Message("user", tuple(blocks))]  # type: ignore[arg-type]


# -- unpaired surrogates in every text a Converse request carries


SURROGATE_CASES = {
    "prompt": lambda: build_converse_request(MODEL, _user(TextBlock(BAD))),
    "system": lambda: build_converse_request(
        MODEL, _user(TextBlock("hi")), system=[TextBlock(BAD)]
    ),
    "tool result text": lambda: build_converse_request(
        MODEL,
        [
            Message("user", (TextBlock("q"),)),
            Message("assistant", (ToolUseBlock("t1", "lookup", {"w": "x"}),)),
            Message("user", (ToolResultBlock("t1", (TextBlock(BAD),)),)),
        ],
    ),
    "tool result json": lambda: build_converse_request(
        MODEL,
        [
            Message("user", (TextBlock("q"),)),
            Message("assistant", (ToolUseBlock("t1", "lookup", {}),)),
            Message("user", (ToolResultBlock("t1", (JsonBlock({"rows": [BAD]}),)),)),
        ],
    ),
    "tool call arguments": lambda: build_converse_request(
        MODEL,
        [
            Message("user", (TextBlock("q"),)),
            Message("assistant", (ToolUseBlock("t1", "lookup", {"w": BAD}),)),
            Message("user", (ToolResultBlock("t1", (TextBlock("ok"),)),)),
        ],
    ),
    "document text": lambda: build_converse_request(
        MODEL, _user(TextBlock("read"), DocumentBlock("txt", "notes", text=BAD))
    ),
    "stop sequence": lambda: InferenceConfig(stop_sequences=(BAD,)),
    "tool description": lambda: build_chat_request(
        "converse", MODEL, _user(TextBlock("q")), tools=[ToolSpec("t", BAD, {"type": "object"})]
    ),
    "invoke api prompt": lambda: build_chat_request("invoke", MODEL, _user(TextBlock(BAD))),
    "invoke api system": lambda: build_chat_request(
        "invoke", MODEL, _user(TextBlock("q")), system=[TextBlock(BAD)]
    ),
}


@pytest.mark.parametrize("case", sorted(SURROGATE_CASES))
def test_unpaired_surrogates_are_refused(case):
    with pytest.raises(ConfigurationError, match="unpaired surrogate U\\+DCE9"):
        SURROGATE_CASES[case]()


OTHER_BUILDERS = {
    "retrieve query": lambda: build_retrieve_request("KB12345678", BAD),
    "retrieve_and_generate query": lambda: build_retrieve_and_generate_request(
        BAD, model=MODEL, region="us-east-1", knowledge_base_id="KB12345678"
    ),
    "invoke_agent input": lambda: build_invoke_agent_request("AGENT12345", "ALIAS12345", BAD),
    "invoke_agent session attribute": lambda: build_invoke_agent_request(
        "AGENT12345", "ALIAS12345", "hi", AgentSession(session_attributes={"k": BAD})
    ),
    "inline agent instruction": lambda: build_inline_agent_request(
        InlineAgentConfig(MODEL, "You are a helpful assistant who answers briefly. " + BAD),
        "hi",
    ),
    "embedding text": lambda: check_texts(["fine", BAD]),
    "guardrail content": lambda: build_apply_guardrail_request("gr-1", "1", ["ok", BAD]),
}


@pytest.mark.parametrize("case", sorted(OTHER_BUILDERS))
def test_every_feature_refuses_surrogates(case):
    with pytest.raises(ConfigurationError, match="unpaired surrogate"):
        OTHER_BUILDERS[case]()


def test_the_error_names_where_the_text_is():
    with pytest.raises(ConfigurationError) as info:
        build_converse_request(MODEL, _user(TextBlock("fine"), TextBlock(BAD)))
    assert "request.messages[0].content[1].text" in str(info.value)


# -- inference parameters: Converse's documented ranges


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"temperature": 1.5}, "temperature must be between 0 and 1"),
        ({"temperature": -0.01}, "temperature must be between 0 and 1"),
        ({"top_p": 1.01}, "top_p must be between 0 and 1"),
        ({"top_p": "0.9"}, "top_p must be a number"),
        ({"max_tokens": 0}, "max_tokens must be >= 1"),
        ({"max_tokens": 10.0}, "max_tokens must be an integer"),
        ({"max_tokens": True}, "max_tokens must be an integer"),
        ({"stop_sequences": "END"}, "stop sequences must be a list of strings"),
        ({"stop_sequences": ("",)}, "non-empty strings"),
        ({"stop_sequences": (3,)}, "non-empty strings"),
        ({"stop_sequences": ("x",) * 2501}, "at most 2500"),
    ],
)
def test_inference_ranges(kwargs, expected):
    with pytest.raises(ConfigurationError, match=expected):
        InferenceConfig(**kwargs)


def test_inference_bounds_are_inclusive():
    config = InferenceConfig(max_tokens=1, temperature=0, top_p=1, stop_sequences=("END",))
    request = build_converse_request(MODEL, _user(TextBlock("q")), inference=config)
    assert request["inferenceConfig"] == {
        "maxTokens": 1,
        "temperature": 0,
        "topP": 1,
        "stopSequences": ["END"],
    }


# -- tool schemas


def test_tool_spec_refuses_an_invalid_schema():
    with pytest.raises(ConfigurationError, match="tool 'lookup': invalid JSON Schema: properties"):
        tool_spec("lookup", "d", {"type": "object", "properties": ["w"]})


def test_a_tool_spec_built_by_hand_is_checked_too():
    spec = ToolSpec("lookup", "d", {"type": "object", "properties": {"w": {"type": "word"}}})
    with pytest.raises(ConfigurationError, match=r"properties\.w\.type names unknown types"):
        build_tool_spec(spec)
    with pytest.raises(ConfigurationError, match="input schema must be a JSON Schema dict"):
        build_tool_spec(ToolSpec("lookup", "d", [1, 2]))  # type: ignore[arg-type]


def test_structured_output_schema_is_checked():
    with pytest.raises(ConfigurationError, match="structured output schema"):
        build_json_schema_output({"type": "object", "required": "a"})


def test_valid_tools_still_build():
    request = build_chat_request("converse", MODEL, _user(TextBlock("q")), tools=[TOOL])
    assert request["toolConfig"]["tools"][0]["toolSpec"]["name"] == "lookup"


# -- image and document sources


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (ImageBlock("png"), "image block has no source"),
        (ImageBlock("png", b""), "image block has no source"),
        (ImageBlock("png", "aGk="), "must be raw bytes"),  # type: ignore[arg-type]
        (DocumentBlock("pdf", "report"), "document block has no source"),
        (DocumentBlock("pdf", "report", b""), "document block has no source"),
    ],
)
def test_media_without_a_source(block, expected):
    with pytest.raises(ConfigurationError, match=expected):
        build_converse_request(MODEL, _user(TextBlock("look"), block))


def test_media_with_a_source_builds():
    request = build_converse_request(
        MODEL,
        _user(
            ImageBlock("png", b"\x89PNG"),
            ImageBlock("jpeg", s3_uri="s3://bucket/a.jpg"),
            DocumentBlock("txt", "notes", text="hello"),
        ),
    )
    content = request["messages"][0]["content"]
    assert content[0]["image"]["source"] == {"bytes": b"\x89PNG"}
    assert content[1]["image"]["source"] == {"s3Location": {"uri": "s3://bucket/a.jpg"}}
    assert content[2]["document"]["source"] == {"text": "hello"}


# -- base64 and data URLs


@pytest.mark.parametrize("data", ["!!!!", "aGk", "a GV sbG8=x", "é", "aGVsbG8=="])
def test_invalid_base64_is_a_configuration_error(data):
    with pytest.raises(ConfigurationError, match="image"):
        decode_base64(data, "image")


def test_base64_with_line_breaks_decodes():
    encoded = base64.encodebytes(b"x" * 100).decode()  # MIME-style, newline every 76 chars
    assert "\n" in encoded.strip()
    assert decode_base64(encoded, "image") == b"x" * 100


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, "the url is missing"),
        ("", "the url is missing"),
        ("https://example.com/cat.png", "must be a base64 data URL"),
        ("data:image/png,rawtext", "must be a base64 data URL"),
        ("data:image/png;base64", "must be a base64 data URL"),
        ("data:image/png;base64,%%%", "invalid base64"),
    ],
)
def test_data_urls(url, expected):
    with pytest.raises(ConfigurationError, match=expected):
        parse_data_url(url, "image_url")


def test_a_good_data_url():
    url = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    assert parse_data_url(url, "image_url") == ("image/png", b"\x89PNG")


# -- model ARNs the client cannot reach

CN_ARN = "arn:aws-cn:bedrock:cn-north-1::foundation-model/" + MODEL


def test_model_region_check():
    with pytest.raises(ConfigurationError, match="partition 'aws-cn'"):
        check_model_region(CN_ARN, "us-east-1")
    check_model_region(CN_ARN, "cn-north-1")
    check_model_region(MODEL, "cn-north-1")


def test_retrieve_and_generate_model_arn_must_be_reachable():
    with pytest.raises(ConfigurationError, match="partition 'aws-cn'"):
        model_arn_for(CN_ARN, "us-east-1")
    with pytest.raises(ConfigurationError, match="region 'us-west-2'"):
        build_retrieve_and_generate_request(
            "q",
            model="arn:aws:bedrock:us-west-2::foundation-model/" + MODEL,
            region="us-east-1",
            knowledge_base_id="KB12345678",
        )
