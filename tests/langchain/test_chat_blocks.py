"""Converse content blocks beyond text and images, both ways through ChatBedrockKit: audio,
video, search results (with citations back into them), and every block of botocore's
current ContentBlock the kit has no type for, kept as sent (round trip, never dropped)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import converse_reply

MODEL = "us.amazon.nova-2-lite-v1:0"
WAV = b"RIFF\x00\x00WAVEfmt "
SEARCH_CITATION = {
    "title": "Tides",
    "source": "https://example.com/tides",
    "sourceContent": [{"text": "Tides rise twice a day."}],
    "location": {"searchResultLocation": {"searchResultIndex": 0, "start": 0, "end": 1}},
}


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


@pytest.fixture
def llm(server) -> ChatBedrockKit:
    return ChatBedrockKit(model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1")


def _sent(llm: ChatBedrockKit, content) -> list[dict]:
    return llm.build_request([HumanMessage(content=content)])["messages"][0]["content"]


def test_standard_audio_and_video_blocks_become_converse_blocks(llm):
    blocks = _sent(
        llm,
        [
            {"type": "audio", "base64": base64.b64encode(WAV).decode(), "mime_type": "audio/wav"},
            {"type": "video", "url": "s3://bucket/clip.mp4", "mime_type": "video/mp4"},
            {"type": "text", "text": "describe both"},
        ],
    )
    assert blocks[0] == {"audio": {"format": "wav", "source": {"bytes": WAV}}}
    assert blocks[1] == {
        "video": {"format": "mp4", "source": {"s3Location": {"uri": "s3://bucket/clip.mp4"}}}
    }


def test_an_audio_format_bedrock_lacks_is_refused_by_name(llm):
    with pytest.raises(ConfigurationError, match="audio type 'audio/midi'"):
        _sent(llm, [{"type": "audio", "base64": "AAAA", "mime_type": "audio/midi"}])


def test_search_results_are_sent_as_converse_search_results(llm):
    blocks = _sent(
        llm,
        [
            {
                "type": "search_result",
                "source": "https://example.com/tides",
                "title": "Tides",
                "content": [{"type": "text", "text": "Tides rise twice a day."}],
                "citations": {"enabled": True},
            },
            {"type": "text", "text": "When are tides?"},
        ],
    )
    assert blocks[0] == {
        "searchResult": {
            "source": "https://example.com/tides",
            "title": "Tides",
            "content": [{"text": "Tides rise twice a day."}],
            "citations": {"enabled": True},
        }
    }


def test_a_search_result_without_a_title_is_refused(llm):
    with pytest.raises(ConfigurationError, match="source and a title"):
        _sent(llm, [{"type": "search_result", "source": "s", "content": "x"}])


def test_citations_into_search_results_come_back_and_go_back(server, llm):
    body = converse_reply("unused")
    body["output"]["message"]["content"] = [
        {
            "citationsContent": {
                "content": [{"text": "Twice a day."}],
                "citations": [SEARCH_CITATION],
            }
        }
    ]
    server.script("Converse", Reply.json(body))
    message = llm.invoke("When are tides?")
    block = message.content[0]
    assert block["citations"][0]["location"] == {
        "search_result_location": {"search_result_index": 0, "start": 0, "end": 1}
    }
    annotations = message.content_blocks[0]["annotations"]
    assert annotations[0]["title"] == "Tides"
    llm.invoke([HumanMessage("When are tides?"), message, HumanMessage("thanks")])
    sent = server.requests[-1].body["messages"][1]["content"][0]
    assert sent["citationsContent"]["citations"][0]["location"] == SEARCH_CITATION["location"]


@pytest.mark.parametrize(
    "block",
    [
        {"toolAddition": {"tool": {"name": "lookup"}}},
        {"toolRemoval": {"tool": {"name": "lookup"}}},
        {"searchResult": {"source": "s", "title": "t", "content": [{"text": "x"}]}},
        {"brandNewBlock": {"anything": [1, 2, {"deep": True}]}},
    ],
)
def test_blocks_the_kit_has_no_type_for_come_back_and_go_back_unchanged(server, llm, block):
    body = converse_reply("unused")
    body["output"]["message"]["content"] = [block, {"text": "after"}]
    server.script("Converse", Reply.json(body))
    message = llm.invoke("hi")
    if next(iter(block)) == "brandNewBlock":
        # Newer than botocore's model: botocore's parser keeps only the member's name
        # (SDK_UNKNOWN_MEMBER); the kit keeps that, never a crash or a silent drop.
        assert message.content[0] == {"brandNewBlock": None}
        assert message.text == "after"
        return
    assert message.content[0] == block
    llm.invoke([HumanMessage("hi"), message, HumanMessage("ok")])
    assert server.requests[-1].body["messages"][1]["content"][0] == block


def test_an_unknown_key_in_history_is_refused_not_dropped(llm):
    history = AIMessage(content=[{"brandNewBlock": {"a": 1}}])
    with pytest.raises(ConfigurationError, match="no type"):
        llm.build_request([HumanMessage("hi"), history, HumanMessage("ok")])
