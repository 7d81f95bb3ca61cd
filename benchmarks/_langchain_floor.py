"""The least a LangChain chat model can do: raw clients behind ``BaseChatModel``.

Not a product, a yardstick: its cost beyond raw boto3/aiobotocore is what langchain-core's
own machinery (callbacks, run managers, message and chunk objects) costs every LangChain
chat model, so the part of ChatBedrockKit's cost that is bedrock-kit's own can be read off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


def _args(model_id: str, messages: list[BaseMessage], max_tokens: int) -> dict[str, Any]:
    # The benchmark sends one user text; a real adapter converts every message type.
    text = str(messages[-1].content)
    return {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": max_tokens},
    }


class MinimalChatModel(BaseChatModel):
    """Raw Converse calls with nothing added but what ``BaseChatModel`` requires."""

    model_id: str
    max_tokens: int
    client: Any
    aio: Any  # benchmarks.contenders._AioClients

    @property
    def _llm_type(self) -> str:
        return "minimal-converse"

    @staticmethod
    def _result(response: dict[str, Any]) -> ChatResult:
        text = "".join(b.get("text", "") for b in response["output"]["message"]["content"])
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return self._result(self.client.converse(**_args(self.model_id, messages, self.max_tokens)))

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        client = await self.aio.get()
        return self._result(
            await client.converse(**_args(self.model_id, messages, self.max_tokens))
        )

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        args = _args(self.model_id, messages, self.max_tokens)
        for event in self.client.converse_stream(**args)["stream"]:
            delta = event.get("contentBlockDelta")
            if delta and "text" in delta["delta"]:
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta["delta"]["text"]))

    async def _astream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        client = await self.aio.get()
        args = _args(self.model_id, messages, self.max_tokens)
        response = await client.converse_stream(**args)
        async for event in response["stream"]:
            delta = event.get("contentBlockDelta")
            if delta and "text" in delta["delta"]:
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta["delta"]["text"]))
