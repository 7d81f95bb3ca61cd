"""LlamaIndex audio and video blocks as Converse ``audio`` / ``video`` blocks, and Converse
blocks LlamaIndex has no type for (search results, tool additions...) kept in
``additional_kwargs["bedrock_blocks"]`` in their place, round trip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import AudioBlock, ChatMessage, TextBlock, VideoBlock

from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing import LocalBedrock, Reply, ScriptedModel
from bedrock_kit.testing.scripts import converse_reply

MODEL = "us.amazon.nova-2-lite-v1:0"
WAV = b"RIFF\x00\x00WAVEfmt "
MP4 = b"\x00\x00\x00\x18ftypmp42"


@pytest.fixture
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock() as local:
        ScriptedModel().install(local)
        yield local


@pytest.fixture
def llm(server) -> BedrockKitLLM:
    return BedrockKitLLM(model=MODEL, endpoint_url=server.endpoint_url, region_name="us-east-1")


def _sent(llm: BedrockKitLLM, blocks) -> list[dict]:
    message = ChatMessage(role="user", blocks=blocks)
    return llm.build_request([message])["messages"][0]["content"]


def test_audio_and_video_bytes_and_s3(llm):
    sent = _sent(
        llm,
        [
            AudioBlock(audio=WAV, format="wav"),
            VideoBlock(video=MP4, video_mimetype="video/mp4"),
            VideoBlock(url="s3://bucket/clip.mov", video_mimetype="video/quicktime"),
            TextBlock(text="describe"),
        ],
    )
    assert sent[0] == {"audio": {"format": "wav", "source": {"bytes": WAV}}}
    assert sent[1] == {"video": {"format": "mp4", "source": {"bytes": MP4}}}
    assert sent[2] == {
        "video": {"format": "mov", "source": {"s3Location": {"uri": "s3://bucket/clip.mov"}}}
    }


def test_audio_from_a_path_takes_the_format_from_the_name(llm, tmp_path):
    path = tmp_path / "note.mp3"
    path.write_bytes(b"ID3\x03")
    assert _sent(llm, [AudioBlock(path=path)])[0] == {
        "audio": {"format": "mp3", "source": {"bytes": b"ID3\x03"}}
    }


def test_a_remote_url_is_refused_not_fetched(llm):
    with pytest.raises(ConfigurationError, match="does not fetch remote video URLs"):
        _sent(llm, [VideoBlock(url="https://example.com/a.mp4", video_mimetype="video/mp4")])


def test_a_format_bedrock_lacks_is_refused_by_name(llm):
    with pytest.raises(ConfigurationError, match="audio type 'midi'"):
        _sent(llm, [AudioBlock(audio=b"x", format="midi")])


def test_audio_reaches_bedrock_as_bytes(server, llm):
    llm.chat(
        [
            ChatMessage(
                role="user", blocks=[AudioBlock(audio=WAV, format="wav"), TextBlock(text="hi")]
            )
        ]
    )
    block = server.requests[-1].body["messages"][0]["content"][0]
    assert block["audio"]["format"] == "wav"


@pytest.mark.parametrize(
    "block",
    [
        {"toolAddition": {"tool": {"name": "lookup"}}},
        {"searchResult": {"source": "s", "title": "t", "content": [{"text": "x"}]}},
    ],
)
def test_unknown_blocks_are_kept_in_place_and_go_back(server, llm, block):
    body = converse_reply("unused")
    body["output"]["message"]["content"] = [{"text": "before"}, block, {"text": "after"}]
    server.script("Converse", Reply.json(body))
    answer = llm.chat([ChatMessage(role="user", content="hi")])
    assert answer.message.additional_kwargs["bedrock_blocks"] == [block]
    assert answer.message.additional_kwargs["bedrock_block_positions"] == [1]
    llm.chat(
        [
            ChatMessage(role="user", content="hi"),
            answer.message,
            ChatMessage(role="user", content="ok"),
        ]
    )
    sent = server.requests[-1].body["messages"][1]["content"]
    assert sent == [{"text": "before"}, block, {"text": "after"}]
