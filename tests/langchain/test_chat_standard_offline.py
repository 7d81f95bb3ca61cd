"""LangChain's ChatModelIntegrationTests, offline: ChatBedrockKit against LocalBedrock's
scripted model (real HTTP, real event streams, Bedrock's request rules enforced).

The live tier (tests/langchain/test_chat_standard.py) runs the same suite against AWS. The
suite downloads its sample image, PDF and WAV from the internet; here those downloads are
served from small local files (the suite's own ``httpx.get`` only; every Bedrock call is real
HTTP to LocalBedrock). Tests that need what no offline server has skip with the reason; see
``_OFFLINE_SKIPS``.
"""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.integration_tests import chat_models as suite

from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing import LocalBedrock, ScriptedModel

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
OVERRIDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

_OFFLINE_SKIPS: dict[str, str] = {}

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
    b"/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer"
    b"<</Root 1 0 R>>\n%%EOF\n"
)


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x00" * 80)
    return out.getvalue()


class _Downloaded:
    def __init__(self, content: bytes) -> None:
        self.content = content


class _LocalDownloads:
    """Stands in for the ``httpx`` module inside langchain-tests' chat model suite."""

    files = {".png": PNG, ".pdf": PDF, ".wav": _wav()}

    def get(self, url: str, **_: Any) -> _Downloaded:
        for suffix, content in self.files.items():
            if url.endswith(suffix):
                return _Downloaded(content)
        raise AssertionError(f"the suite downloads an unexpected file offline: {url}")


@pytest.fixture(autouse=True)
def _local_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite, "httpx", _LocalDownloads())


_SERVER: LocalBedrock | None = None


@pytest.fixture(scope="module", autouse=True)
def local_bedrock(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[LocalBedrock]:
    global _SERVER  # noqa: PLW0603 - the suite reads its parameters from a property
    monkeypatch_module.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch_module.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with LocalBedrock() as server:
        ScriptedModel().install(server)
        _SERVER = server
        yield server
        _SERVER = None


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(autouse=True)
def _offline_skips(request: pytest.FixtureRequest) -> None:
    reason = _OFFLINE_SKIPS.get(request.node.originalname)
    if reason:
        pytest.skip(reason)


class TestChatBedrockKitOffline(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatBedrockKit]:
        return ChatBedrockKit

    @property
    def chat_model_params(self) -> dict[str, Any]:
        assert _SERVER is not None
        return {
            "model": MODEL,
            "endpoint_url": _SERVER.endpoint_url,
            "region_name": "us-east-1",
            "max_retries": 0,
            "temperature": 0,
        }

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return OVERRIDE

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[str]]:
        return {"invoke": ["cache_read_input", "cache_creation_input"], "stream": []}

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        return self._cached(read=True)

    def invoke_with_cache_creation_input(self, *, stream: bool = False) -> AIMessage:
        return self._cached(read=False)

    def _cached(self, *, read: bool) -> AIMessage:
        # LocalBedrock reports cache tokens when scripted to; the model only has to carry them.
        assert _SERVER is not None
        from bedrock_kit.testing import Reply
        from bedrock_kit.testing.scripts import build_usage, converse_reply

        usage = build_usage(10, 5, cache_read=100 if read else 0, cache_write=0 if read else 100)
        _SERVER.script("Converse", Reply.json(converse_reply("cached answer", usage=usage)))
        model = self.chat_model_class(**self.chat_model_params)
        cache_point = ChatBedrockKit.create_cache_point()
        message = model.invoke([HumanMessage(["A long document ...", cache_point, "Summarise."])])
        assert isinstance(message, AIMessage)
        return message


def test_the_model_fixture_reaches_local_bedrock(local_bedrock: LocalBedrock) -> None:
    model: BaseChatModel = ChatBedrockKit(
        model=MODEL, endpoint_url=local_bedrock.endpoint_url, region_name="us-east-1"
    )
    before = len(local_bedrock.requests_for("Converse"))
    assert model.invoke("ping").text == "echo: ping"
    assert len(local_bedrock.requests_for("Converse")) == before + 1
