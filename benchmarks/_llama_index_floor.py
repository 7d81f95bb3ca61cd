"""The least a LlamaIndex LLM can do: a client behind ``LLM`` and its chat callbacks.

Not a product, a yardstick, like :mod:`benchmarks._langchain_floor`: its cost beyond the bare
client is what llama-index-core's own machinery (the ``llm_chat_callback`` wrapper, callback
manager events, dispatcher spans, ``ChatMessage`` / ``ChatResponse`` objects) costs every
LlamaIndex LLM, so the part of BedrockKitLLM's cost that is bedrock-kit's own can be read off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.llm import LLM


def _args(model_id: str, messages: Sequence[ChatMessage], max_tokens: int) -> dict[str, Any]:
    # The benchmark sends one user text; a real adapter converts every message type.
    return {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": str(messages[-1].content)}]}],
        "inferenceConfig": {"maxTokens": max_tokens},
    }


def _response(response: dict[str, Any]) -> ChatResponse:
    text = "".join(b.get("text", "") for b in response["output"]["message"]["content"])
    return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=response)


def _delta(event: dict[str, Any], text: str) -> tuple[str, ChatResponse | None]:
    delta = event.get("contentBlockDelta")
    if not delta or "text" not in delta["delta"]:
        return text, None
    piece = delta["delta"]["text"]
    text += piece
    message = ChatMessage(role=MessageRole.ASSISTANT, content=text)
    return text, ChatResponse(message=message, delta=piece)


class MinimalLLM(LLM):
    """Converse calls with nothing added but what llama-index-core's ``LLM`` requires."""

    model_id: str
    max_tokens: int
    client: Any
    aclient: Any  # the lean async client (one for every event loop)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model_id, is_chat_model=True)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return _response(self.client.converse(**_args(self.model_id, messages, self.max_tokens)))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        args = _args(self.model_id, messages, self.max_tokens)
        return _response(await self.aclient.converse(**args))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        args = _args(self.model_id, messages, self.max_tokens)

        def gen() -> ChatResponseGen:
            text = ""
            for event in self.client.converse_stream(**args)["stream"]:
                text, response = _delta(event, text)
                if response is not None:
                    yield response

        return gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        args = _args(self.model_id, messages, self.max_tokens)

        async def gen() -> ChatResponseAsyncGen:
            text = ""
            response = await self.aclient.converse_stream(**args)
            async for event in response["stream"]:
                text, chunk = _delta(event, text)
                if chunk is not None:
                    yield chunk

        return gen()

    # The benchmark drives chat only; completion is not part of the yardstick.
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        raise NotImplementedError("the floor measures chat only")

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        raise NotImplementedError("the floor measures chat only")

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        raise NotImplementedError("the floor measures chat only")

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        raise NotImplementedError("the floor measures chat only")
