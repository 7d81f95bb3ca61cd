"""LlamaIndex LLM streams (ChatResponse / CompletionResponse) <-> the core guard's pieces.

Mirrors :mod:`bedrock_kit.langchain._guard_stream`. The text delta, the tool calls of
``message.blocks`` (name, and the arguments as they grow) and, when asked, the thinking
blocks are fed to :class:`~bedrock_kit.core.guardrails.stream_guard.StreamGuard` as tagged
pieces and checked in the same windows; each response yielded is rebuilt from released pieces
only. A last response carries the upstream's ``raw`` and ``additional_kwargs`` (usage,
stop reason, guardrail trace) after everything passed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from bedrock_kit.core.guardrails.stream_guard import TEXT, Piece, StreamGuard, StreamGuardStats
from bedrock_kit.errors import ConfigurationError

_log = logging.getLogger("bedrock_kit.llama_index.guardrails")

SEPARATOR = "\n"
"""Checked before each tool call (never released), so a name does not run into the text."""

# additional_kwargs never passed on from the upstream: they would carry unchecked text
_UNCHECKED_KWARGS = ("tool_calls", "thinking_delta")


@dataclass
class _Seen:
    """What of one upstream tool call or thinking block was fed to the guard."""

    name: str = ""
    text: str = ""


@dataclass
class _Out:
    """What of one tool call was released."""

    id: str | None
    name: str = ""
    args: str = ""


def _grown(seen: str, now: str) -> str:
    """The new end of a text that grows; "" when it did not grow (or was rewritten)."""
    return now[len(seen) :] if now.startswith(seen) else ""


class ResponsePieces:
    """One guarded LLM stream: responses in, rebuilt responses out.

    Args:
        check_tool_calls: Check tool-call names and arguments (else they are passed on in
            the last response, unchecked and counted as such).
        check_reasoning: Check thinking text and release it (else it is withheld).
    """

    def __init__(self, *, check_tool_calls: bool = True, check_reasoning: bool = False) -> None:
        self.check_tool_calls = check_tool_calls
        self.check_reasoning = check_reasoning
        self.last: ChatResponse | None = None
        self.chat = False
        self.text = ""
        self.thinking: dict[int, str] = {}
        self.seen_calls: dict[int, _Seen] = {}
        self.seen_thinking: dict[int, _Seen] = {}
        self.calls: dict[int, _Out] = {}
        self.withheld = 0

    # -- in

    def pieces_of(self, response: Any) -> list[Piece]:
        """The pieces of one upstream response."""
        if isinstance(response, CompletionResponse):
            return [Piece(_text(response.delta))]
        if not isinstance(response, ChatResponse):
            raise ConfigurationError(
                "LLM stream items must be CompletionResponse or ChatResponse, "
                f"got {type(response).__name__}"
            )
        self.chat, self.last = True, response
        pieces = [Piece(_text(response.delta))]
        calls = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
        thoughts = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
        if self.check_reasoning:
            for k, block in enumerate(thoughts):
                seen = self.seen_thinking.setdefault(k, _Seen())
                grown = _grown(seen.text, block.content or "")
                seen.text += grown
                pieces.append(Piece(grown, ("thinking", k)))
        elif thoughts:
            self.withheld = max(self.withheld, len(thoughts))
        if self.check_tool_calls:
            for k, call in enumerate(calls):
                pieces += self._tool(k, call)
        return pieces

    def _tool(self, k: int, block: ToolCallBlock) -> list[Piece]:
        seen = self.seen_calls.get(k)
        pieces = []
        if seen is None:
            seen = self.seen_calls[k] = _Seen()
            self.calls[k] = _Out(block.tool_call_id)
            pieces.append(Piece(SEPARATOR, None))
        self.calls[k].id = self.calls[k].id or block.tool_call_id
        name = _grown(seen.name, _text(block.tool_name))
        seen.name += name
        args = block.tool_kwargs
        if isinstance(args, str):
            grown = _grown(seen.text, args)
        elif seen.text:  # the parsed arguments of the last response: streamed already
            grown = ""
        else:  # a call that arrives whole
            grown = json.dumps(args, ensure_ascii=False)
        seen.text += grown
        pieces += [Piece(name, ("tool", k, "name")), Piece(grown, ("tool", k, "args"))]
        return pieces

    # -- out

    def response_of(self, released: tuple[Piece, ...]) -> ChatResponse | CompletionResponse:
        """One response holding what one window released."""
        delta, thinking = "", ""
        for piece in released:
            slot = piece.slot
            if slot == TEXT:
                delta += piece.text
            elif isinstance(slot, tuple) and slot[0] == "thinking":
                self.thinking[slot[1]] = self.thinking.get(slot[1], "") + piece.text
                thinking += piece.text
            elif isinstance(slot, tuple) and slot[0] == "tool":
                call = self.calls[slot[1]]
                setattr(call, slot[2], getattr(call, slot[2]) + piece.text)
        self.text += delta
        if not self.chat:
            return CompletionResponse(text=self.text, delta=delta)
        kwargs = {"thinking_delta": thinking} if thinking else {}
        return ChatResponse(
            message=self._message(final=False), delta=delta, additional_kwargs=kwargs
        )

    def _message(self, *, final: bool) -> ChatMessage:
        blocks: list[Any] = [ThinkingBlock(content=t) for _, t in sorted(self.thinking.items())]
        if self.text:
            blocks.append(TextBlock(text=self.text))
        if self.check_tool_calls:
            blocks += [
                ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=_args(c.args, final))
                for _, c in sorted(self.calls.items())
                if c.name or c.args
            ]
        elif final and self.last is not None:
            blocks += [b for b in self.last.message.blocks if isinstance(b, ToolCallBlock)]
        role = self.last.message.role if self.last is not None else MessageRole.ASSISTANT
        return ChatMessage(role=role, blocks=blocks)

    def finish(self, guard: StreamGuard, stats: StreamGuardStats) -> ChatResponse | None:
        """The last response, after everything passed: the upstream's ``raw`` and
        ``additional_kwargs`` (usage, stop reason...) on the released message. Nothing
        follows a block: the stream stopped there."""
        if self.withheld:
            _log.warning("stream guard withheld %d thinking blocks", self.withheld)
        if self.last is None or stats.blocked:
            return None
        kwargs = {
            k: v for k, v in self.last.additional_kwargs.items() if k not in _UNCHECKED_KWARGS
        }
        unchecked = [] if self.check_tool_calls else self._upstream_calls()
        if unchecked:
            guard.note_unchecked(sum(len(t) for t in unchecked), stats)
        if not (kwargs or self.last.raw or self.calls or unchecked):
            return None
        return ChatResponse(
            message=self._message(final=True), delta="", raw=self.last.raw, additional_kwargs=kwargs
        )

    def _upstream_calls(self) -> list[str]:
        assert self.last is not None
        return [
            _text(b.tool_name)
            + (b.tool_kwargs if isinstance(b.tool_kwargs, str) else json.dumps(b.tool_kwargs))
            for b in self.last.message.blocks
            if isinstance(b, ToolCallBlock)
        ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigurationError(f"stream guard: expected str, got {type(value).__name__}")
    return value


def _args(text: str, final: bool) -> Any:
    """Arguments as LlamaIndex holds them: the JSON so far, parsed once complete."""
    if not final:
        return text
    try:
        parsed = json.loads(text or "{}")
    except ValueError:
        return text
    return parsed if isinstance(parsed, dict) else text


def pieces(state: ResponsePieces, responses: Iterator[Any]) -> Iterator[Piece]:
    """The pieces of every response; closes ``responses`` when the guard stops early."""
    try:
        for response in responses:
            yield from state.pieces_of(response)
    finally:
        close = getattr(responses, "close", None)
        if close is not None:
            close()


async def apieces(state: ResponsePieces, responses: AsyncIterator[Any]) -> AsyncIterator[Piece]:
    """Async :func:`pieces`."""
    try:
        async for response in responses:
            for piece in state.pieces_of(response):
                yield piece
    finally:
        aclose = getattr(responses, "aclose", None)
        if aclose is not None:
            await aclose()
