"""AIMessageChunk streams <-> the core stream guard's tagged pieces.

Text, tool-call names and arguments and (when asked) reasoning are fed to
:class:`~bedrock_kit.core.guardrails.stream_guard.StreamGuard` as pieces tagged with where they
came from, checked in the same windows, and each released piece is put back in its place: a
text piece in ``content``, a tool-call piece in ``tool_call_chunks`` (same index, the call id
with its first released piece). Nothing the guard did not pass is released; what cannot be
checked (images, redacted reasoning, reasoning unless ``check_reasoning``) is withheld and
reported in a warning. Usage and response metadata follow the last checked text.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk

from bedrock_kit.core.guardrails.stream_guard import TEXT, Piece, StreamGuard, StreamGuardStats
from bedrock_kit.errors import ConfigurationError

_log = logging.getLogger("bedrock_kit.langchain.guardrails")

SEPARATOR = "\n"
"""Checked before each tool call (never released), so a name does not run into the text."""

# reasoning block type -> key of its text
_REASONING = {
    "reasoning_content": "reasoning_content",
    "reasoning": "reasoning",
    "thinking": "thinking",
}
_CALL_KWARGS = ("tool_calls", "function_call")


@dataclass
class _Call:
    id: str | None = None
    started: bool = False
    id_released: bool = False


def _str(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigurationError(f"stream guard: {what} must be a str, got {type(value).__name__}")
    return value


class ChunkPieces:
    """One guarded stream of str or AIMessageChunk: pieces in, chunks out.

    Args:
        check_tool_calls: Check tool-call names and arguments as text (else they are passed
            on after the guarded text, unchecked and counted as such).
        check_reasoning: Check reasoning text and release it (else it is withheld).
    """

    def __init__(self, *, check_tool_calls: bool = True, check_reasoning: bool = False) -> None:
        self.check_tool_calls = check_tool_calls
        self.check_reasoning = check_reasoning
        self.messages = False
        self.id: str | None = None
        self.extra: AIMessageChunk | None = None
        self.withheld = 0
        self.unchecked = 0
        self.calls: dict[Any, _Call] = {}
        self._unindexed = 0

    # -- in

    def pieces_of(self, chunk: Any) -> list[Piece]:
        """The pieces of one upstream chunk (extras kept aside for the end)."""
        if isinstance(chunk, str):
            return [Piece(chunk)]
        if not isinstance(chunk, AIMessageChunk):
            raise ConfigurationError(
                f"stream guard chunks must be str or AIMessageChunk, got {type(chunk).__name__}"
            )
        self.messages = True
        self.id = self.id or chunk.id
        later: list[Any] = []
        pieces = self._content(chunk.content, later)
        if self.check_tool_calls:
            for call in chunk.tool_call_chunks:
                pieces += self._tool(call)
        self._keep_extra(chunk, later)
        return pieces

    def _content(self, content: Any, later: list[Any]) -> list[Piece]:
        if isinstance(content, str):
            return [Piece(content)]
        pieces = []
        for block in content:
            if isinstance(block, str):
                pieces.append(Piece(block))
            elif isinstance(block, Mapping) and block.get("type") == "text":
                index = block.get("index")
                slot = TEXT if index is None else ("text", index)
                pieces.append(Piece(_str(block.get("text"), "a text block's text"), slot))
            elif (
                isinstance(block, Mapping)
                and block.get("type") in _REASONING
                and self.check_reasoning
            ):
                pieces += self._reasoning(block, later)
            else:
                # images, documents, reasoning unless asked: not text a guardrail can check
                self.withheld += 1
        return pieces

    def _reasoning(self, block: Mapping[str, Any], later: list[Any]) -> list[Piece]:
        kind = str(block["type"])
        index = block.get("index")
        body = block.get(_REASONING[kind])
        inner = body if isinstance(body, Mapping) else {}
        if "redacted_content" in inner:
            self.withheld += 1  # encrypted: nothing to check, never released unchecked
            return []
        text = inner.get("text") if kind == "reasoning_content" else body
        signature = inner.get("signature") if kind == "reasoning_content" else None
        signature = (
            signature or block.get("signature") or (block.get("extras") or {}).get("signature")
        )
        if signature:  # an opaque token, not text: follows the checked reasoning at the end
            later.append(_reasoning_block(kind, index, None, signature))
        return [Piece(_str(text, "reasoning text"), ("reasoning", kind, index))]

    def _tool(self, chunk: Mapping[str, Any]) -> list[Piece]:
        index = chunk.get("index")
        if index is None:  # LangChain merges call chunks by index: each unindexed one alone
            self._unindexed -= 1
            index = self._unindexed
        call = self.calls.setdefault(index, _Call())
        call.id = call.id or chunk.get("id")
        pieces = []
        for part in ("name", "args"):
            text = _str(chunk.get(part), f"a tool call's {part}")
            if text:
                if not call.started:
                    pieces.append(Piece(SEPARATOR, None))
                    call.started = True
                pieces.append(Piece(text, ("tool", index, part)))
        return pieces

    def _keep_extra(self, chunk: AIMessageChunk, later: list[Any]) -> None:
        update: dict[str, Any] = {"content": later or ""}
        if self.check_tool_calls:
            update |= {"tool_call_chunks": [], "tool_calls": [], "invalid_tool_calls": []}
            update["additional_kwargs"] = {
                k: v for k, v in chunk.additional_kwargs.items() if k not in _CALL_KWARGS
            }
        else:
            for call in chunk.tool_call_chunks:
                self.unchecked += len(call.get("name") or "") + len(call.get("args") or "")
        rest = chunk.model_copy(update=update)
        if rest.tool_call_chunks or rest.usage_metadata or rest.response_metadata or later:
            self.extra = rest if self.extra is None else self.extra + rest

    # -- out

    def chunk_of(self, released: tuple[Piece, ...]) -> Any:
        """One chunk (or str, for a str stream) holding what one window released."""
        if not self.messages:
            return "".join(p.text for p in released)
        content: list[Any] = []
        calls: dict[Any, dict[str, Any]] = {}
        for piece in released:
            slot = piece.slot
            if slot == TEXT:
                if content and isinstance(content[-1], str):
                    content[-1] += piece.text
                else:
                    content.append(piece.text)
            elif isinstance(slot, tuple) and slot[0] == "text":
                content.append({"type": "text", "text": piece.text, "index": slot[1]})
            elif isinstance(slot, tuple) and slot[0] == "reasoning":
                content.append(_reasoning_block(slot[1], slot[2], piece.text, None))
            elif isinstance(slot, tuple) and slot[0] == "tool":
                self._call_chunk(calls, slot, piece.text)
        text: Any = content[0] if len(content) == 1 and isinstance(content[0], str) else content
        chunks: list[Any] = list(calls.values())
        return AIMessageChunk(content=text or "", id=self.id, tool_call_chunks=chunks)

    def _call_chunk(
        self, calls: dict[Any, dict[str, Any]], slot: tuple[Any, ...], text: str
    ) -> None:
        index, part = slot[1], slot[2]
        entry = calls.get(index)
        if entry is None:
            call = self.calls[index]
            entry = calls[index] = {"name": None, "args": None, "id": None, "index": index}
            entry["type"] = "tool_call_chunk"
            if not call.id_released:
                entry["id"], call.id_released = call.id, True
        entry[part] = (entry[part] or "") + text

    def finish(self, guard: StreamGuard, stats: StreamGuardStats) -> Any:
        """The extras chunk to yield after the last checked text (None when there is none).

        Nothing follows a block: the stream stopped there, tool calls and metadata included.
        """
        if self.withheld:
            _log.warning("stream guard withheld %d non-text content blocks", self.withheld)
        if stats.blocked:
            return None
        if self.unchecked:
            guard.note_unchecked(self.unchecked, stats)
        late: list[Any] = [
            {"name": None, "args": None, "id": c.id, "index": i, "type": "tool_call_chunk"}
            for i, c in self.calls.items()
            if c.id and c.started and not c.id_released
        ]
        if late:
            ids = AIMessageChunk(content="", tool_call_chunks=late)
            self.extra = ids if self.extra is None else self.extra + ids
        return self.extra


def _reasoning_block(kind: str, index: Any, text: str | None, signature: str | None) -> Any:
    block: dict[str, Any] = {"type": kind}
    if kind == "reasoning_content":
        inner: dict[str, Any] = {}
        if text is not None:
            inner["text"] = text
        if signature is not None:
            inner["signature"] = signature
        block["reasoning_content"] = inner
    else:
        block[kind] = text or ""
        if signature is not None:
            block["signature"] = signature
    if index is not None:
        block["index"] = index
    return block


def pieces(state: ChunkPieces, chunks: Iterator[Any]) -> Iterator[Piece]:
    """The pieces of every chunk; closes ``chunks`` when the guard stops early."""
    try:
        for chunk in chunks:
            yield from state.pieces_of(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


async def apieces(state: ChunkPieces, chunks: AsyncIterator[Any]) -> AsyncIterator[Piece]:
    """Async :func:`pieces`."""
    try:
        async for chunk in chunks:
            for piece in state.pieces_of(chunk):
                yield piece
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
