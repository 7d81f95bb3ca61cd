"""AI21 Jamba bodies: the OpenAI-style chat format."""

from __future__ import annotations

from bedrock_kit.core.chat.invoke._base import Codec
from bedrock_kit.core.chat.invoke._chat import build_chat_body, chat_chunk_events, parse_chat_body

CODEC = Codec(
    "ai21",
    lambda r: build_chat_body(r, "AI21 Jamba"),
    parse_chat_body,
    chat_chunk_events,
    supports_tools=True,
)
