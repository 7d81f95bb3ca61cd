"""LangChain runnables for Bedrock Guardrails: a guard step, a stream guard, a grounding check.

Thin by design: texts are pulled out of LangChain values (str, messages, prompt values,
dicts, message chunks), checked by :mod:`bedrock_kit.core`, and put back in the same shape.

Example:
    .. code-block:: python

        guard = BedrockGuardrail(guardrail_id="gr-123", guardrail_version="1")
        chain = guard | prompt | llm | StrOutputParser() | guard.stream_guard()
        for text in chain.stream({"question": "..."}):
            print(text, end="")  # every piece was checked before it arrived
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    message_chunk_to_message,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call_chunk
from langchain_core.prompt_values import ChatPromptValue, PromptValue, StringPromptValue
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from bedrock_kit._strict_arguments import check_call_arguments
from bedrock_kit.core.guardrails.apply import (
    SOURCES,
    TEXT_UNIT_CHARACTERS,
    GroundingResult,
    GuardrailClient,
)
from bedrock_kit.core.guardrails.stream_guard import StreamGuard, StreamGuardStats
from bedrock_kit.core.guardrails.texts import GuardedTexts, aguard_texts, guard_texts
from bedrock_kit.errors import BedrockKitError, ConfigurationError, GuardrailInterventionError
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._guard_stream import ChunkPieces, apieces, pieces
from bedrock_kit.langchain._serial import LangChainSerializable
from bedrock_kit.langchain._tags import LedgerTags

__all__ = ["BedrockGroundingCheck", "BedrockGuardrail", "BedrockStreamGuard"]


class _GuardrailRunnable(
    LangChainSerializable, BedrockClientArgs, LedgerTags, RunnableSerializable[Any, Any]
):
    """Guardrail identity and the client arguments every bedrock-kit class takes."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    guardrail_id: str = Field(alias="guardrail_identifier")
    """Guardrail id or ARN."""
    guardrail_version: str = "DRAFT"
    """``DRAFT`` or a version number."""
    ledger: Any = Field(default=None, exclude=True)
    """A bedrock_kit Ledger: every ApplyGuardrail call is reserved from its text length
    (BudgetExceededError when it could cross a limit) and settled to the text units billed,
    per policy."""
    guardrail_policies: list[str] | None = None
    """Policies the guardrail has configured (``content``, ``topic``, ``word``,
    ``sensitive_information``, ``contextual_grounding``, ``automated_reasoning``), so
    reservations hold only those; every priced text policy when None."""

    _core: GuardrailClient | None = PrivateAttr(default=None)

    @field_validator("guardrail_version", mode="before")
    @classmethod
    def _version_as_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def __init__(self, **kwargs: Any) -> None:
        """Validate guardrail and client arguments now, before any request.

        Raises:
            ConfigurationError: For an unknown argument, a bad guardrail version or client
                argument (raised here, outside pydantic validation, so it is not wrapped in a
                ValidationError).
        """
        super().__init__(**kwargs)  # unknown arguments: UnknownArgumentError, by name
        self._core = GuardrailClient(
            self.guardrail_id,
            self.guardrail_version,
            settings=self.client_settings(),
            client=self.client,
            async_client=self.async_client,
            ledger=self.ledger,
            policies=self.guardrail_policies,
        )

    @property
    def core(self) -> GuardrailClient:
        """The core guardrail client; its boto3 clients are built once and reused."""
        assert self._core is not None  # set in __init__
        return self._core

    def _shared(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _GuardrailRunnable.model_fields}


# ----------------------------------------------------------- LangChain value <-> texts


@dataclass
class _Slot:
    """Where one text lives: a str, a message's str content, one block of a message, or the
    name or JSON arguments of one of an AI message's tool calls."""

    message: int | None
    block: int | None
    tool_part: str | None = None


def _message_slots(
    messages: Sequence[BaseMessage], *, tool_calls: bool = False
) -> tuple[list[str], list[_Slot]]:
    texts: list[str] = []
    slots: list[_Slot] = []
    for m, message in enumerate(messages):
        if isinstance(message.content, str):
            texts.append(message.content)
            slots.append(_Slot(m, None))
        else:
            for b, block in enumerate(message.content):
                if isinstance(block, str):
                    texts.append(block)
                    slots.append(_Slot(m, b))
                elif isinstance(block, Mapping) and block.get("type") == "text":
                    texts.append(str(block.get("text", "")))
                    slots.append(_Slot(m, b))
        if tool_calls and isinstance(message, AIMessage):
            for c, call in enumerate(message.tool_calls):
                texts += [call["name"], json.dumps(call["args"], ensure_ascii=False)]
                slots += [_Slot(m, c, "name"), _Slot(m, c, "args")]
    return texts, slots


def _checked_calls(message: BaseMessage, found: dict[int, dict[str, str]]) -> BaseMessage:
    """``message`` with its tool calls as checked: masked arguments that are no longer a JSON
    object become an invalid tool call (LangChain's form for unparseable arguments)."""
    if not found or not isinstance(message, AIMessage):
        return message
    sent = [
        {"name": c["name"], "args": json.dumps(c["args"], ensure_ascii=False)}
        for c in message.tool_calls
    ]
    if [found[c] for c in range(len(sent))] == sent:
        return message  # nothing masked
    calls, invalid = [], list(message.invalid_tool_calls)
    for c, call in enumerate(message.tool_calls):
        name, args = found[c]["name"], found[c]["args"]
        try:
            parsed = json.loads(args)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            calls.append({**call, "name": name, "args": parsed})
        else:
            invalid.append(invalid_tool_call(name=name, args=args, id=call["id"], error=None))
    return message.model_copy(update={"tool_calls": calls, "invalid_tool_calls": invalid})


def _rebuild_messages(
    messages: Sequence[BaseMessage], slots: Sequence[_Slot], texts: Sequence[str]
) -> list[BaseMessage]:
    contents: list[Any] = [
        m.content if isinstance(m.content, str) else list(m.content) for m in messages
    ]
    calls: list[dict[int, dict[str, str]]] = [{} for _ in messages]
    for slot, text in zip(slots, texts, strict=True):
        assert slot.message is not None
        if slot.tool_part is not None:
            assert slot.block is not None
            calls[slot.message].setdefault(slot.block, {})[slot.tool_part] = text
            continue
        if slot.block is None:
            contents[slot.message] = text
            continue
        block = contents[slot.message][slot.block]
        contents[slot.message][slot.block] = (
            text
            if isinstance(block, str)
            else {
                **block,
                "text": text,
            }
        )
    rebuilt = [
        m if c == m.content else m.model_copy(update={"content": c})
        for m, c in zip(messages, contents, strict=True)
    ]
    return [_checked_calls(m, found) for m, found in zip(rebuilt, calls, strict=True)]


class _Shape:
    """A LangChain value taken apart into texts, and put back together."""

    def __init__(self, value: Any, input_key: str | None, *, tool_calls: bool = False) -> None:
        self.value = value
        self.key = input_key if isinstance(value, Mapping) else None
        if self.key is not None and self.key not in value:
            raise ConfigurationError(f"input dict has no key {self.key!r} (input_key)")
        inner = value[self.key] if self.key is not None else value
        self.inner = inner
        self.messages: list[BaseMessage] | None = None
        if isinstance(inner, str):
            self.texts, self.slots = [inner], [_Slot(None, None)]
        elif isinstance(inner, BaseMessage):
            self.messages = [inner]
        elif isinstance(inner, ChatPromptValue):
            self.messages = list(inner.messages)
        elif isinstance(inner, StringPromptValue):
            self.texts, self.slots = [inner.text], [_Slot(None, None)]
        elif isinstance(inner, PromptValue):
            self.messages = inner.to_messages()
        elif isinstance(inner, Sequence) and all(isinstance(m, BaseMessage) for m in inner):
            self.messages = list(inner)
        else:
            raise ConfigurationError(
                "guardrail input must be a str, message(s), PromptValue or a dict whose "
                f"input_key holds one, got {type(inner).__name__}"
            )
        if self.messages is not None:
            self.texts, self.slots = _message_slots(self.messages, tool_calls=tool_calls)

    def rebuild(self, texts: Sequence[str]) -> Any:
        inner: Any
        if self.messages is None:
            inner = (
                StringPromptValue(text=texts[0])
                if isinstance(self.inner, StringPromptValue)
                else texts[0]
            )
        else:
            messages = _rebuild_messages(self.messages, self.slots, texts)
            if isinstance(self.inner, BaseMessage):
                inner = messages[0]
            elif isinstance(self.inner, PromptValue):
                inner = ChatPromptValue(messages=messages)
            else:
                inner = messages
        return self._wrap(inner)

    def replace_all(self, text: str) -> Any:
        """The blocked message, in the input's shape."""
        if self.messages is None:
            return self.rebuild([text])
        update: dict[str, Any] = {"content": text}
        if isinstance(self.messages[-1], AIMessage):  # a blocked answer calls no tool
            update |= {"tool_calls": [], "invalid_tool_calls": []}
        if isinstance(self.messages[-1], AIMessageChunk):
            update["tool_call_chunks"] = []
        last = self.messages[-1].model_copy(update=update)
        if isinstance(self.inner, BaseMessage):
            return self._wrap(last)
        if isinstance(self.inner, PromptValue):
            return self._wrap(ChatPromptValue(messages=[last]))
        return self._wrap([last])

    def _wrap(self, inner: Any) -> Any:
        if self.key is None:
            return inner
        return {**self.value, self.key: inner}


def _attach(value: Any, checked: GuardedTexts, result_key: str) -> Any:
    """Detect-only mode: the input unchanged, with the guardrail's result attached."""
    if isinstance(value, BaseMessage):
        return value.model_copy(
            update={"response_metadata": {**value.response_metadata, "guardrail": checked}}
        )
    if isinstance(value, Mapping):
        return {**value, result_key: checked}
    return value


class BedrockGuardrail(_GuardrailRunnable):
    """An LCEL step that checks its input with ApplyGuardrail and passes it on.

    Accepts a str, a message, a list of messages, a PromptValue, or a dict holding one of
    those under ``input_key``; returns the same shape: unchanged, masked where the guardrail
    anonymized, or per ``on_block`` when it blocked. All texts of one input are checked in one
    ApplyGuardrail call. Only text is checked: image blocks in messages pass as they are.
    Empty or whitespace-only texts are not sent and are returned unchanged; an input with no
    other text makes no request (``on_result`` sees ``not_checked == "empty"``).

    Example:
        .. code-block:: python

            guard_in = BedrockGuardrail(guardrail_id="gr-123", guardrail_version="1")
            guard_out = guard_in.with_source("OUTPUT")
            chain = guard_in | prompt | llm | StrOutputParser() | guard_out
    """

    source: Literal["INPUT", "OUTPUT"] = "INPUT"
    """``INPUT`` for prompts, ``OUTPUT`` for model answers."""
    on_block: Literal["raise", "message", "detect"] = "raise"
    """Raise GuardrailInterventionError, return the guardrail's blocked message, or return
    the input unchanged with the result attached (``detect``)."""
    input_key: str = "input"
    """Key of the value to check when the input is a dict."""
    result_key: str = "guardrail"
    """Key under which ``detect`` mode attaches the result to a dict input."""
    on_result: Callable[[GuardedTexts], None] | None = Field(default=None, exclude=True)
    """Called with every check's result (the only way to see it for a str in detect mode);
    ``not_checked == "empty"`` when the input had no text to check and was not sent."""
    check_tool_calls: bool = True
    """Check the names and JSON arguments of an AI message's tool calls too (masked where
    the guardrail anonymized them); ``False`` checks text only."""

    def with_source(self, source: Literal["INPUT", "OUTPUT"]) -> BedrockGuardrail:
        """The same guardrail (and clients) checking the other side of the model."""
        if source not in SOURCES:
            raise ConfigurationError(f"source must be one of {SOURCES}, got {source!r}")
        return self.model_copy(update={"source": source})

    def stream_guard(self, **options: Any) -> BedrockStreamGuard:
        """A :class:`BedrockStreamGuard` on the same guardrail and clients."""
        options.setdefault("check_tool_calls", self.check_tool_calls)
        guard = BedrockStreamGuard(**self._shared(), **options)
        guard._core = self._core
        guard._rebuild_guard()
        return guard

    def _finish(self, shape: _Shape, checked: GuardedTexts) -> Any:
        if self.on_result is not None:
            self.on_result(checked)
        if checked.blocked:
            if self.on_block == "raise":
                checked.raise_if_blocked()
            if self.on_block == "message":
                return shape.replace_all(checked.blocked_message)
            return _attach(shape.value, checked, self.result_key)
        return shape.rebuild(checked.texts)

    def _shape(self, value: Any) -> _Shape:
        return _Shape(value, self.input_key, tool_calls=self.check_tool_calls)

    def _guard(self, value: Any) -> Any:
        shape = self._shape(value)
        with self._tagged():
            return self._finish(shape, guard_texts(self.core, shape.texts, source=self.source))

    async def _aguard(self, value: Any) -> Any:
        shape = self._shape(value)
        with self._tagged():
            checked = await aguard_texts(self.core, shape.texts, source=self.source)
        return self._finish(shape, checked)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Check ``input``; return it (masked where needed) or act per ``on_block``."""
        check_call_arguments(f"{type(self).__name__}.invoke", kwargs)
        return self._call_with_config(self._guard, input, config, run_type="chain")

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async :meth:`invoke` (aiobotocore, no threads)."""
        check_call_arguments(f"{type(self).__name__}.ainvoke", kwargs)
        return await self._acall_with_config(self._aguard, input, config, run_type="chain")

    def _split(self, shapes: list[_Shape], packed: GuardedTexts) -> list[Any]:
        out, start = [], 0
        for shape in shapes:
            end = start + len(shape.texts)
            part = GuardedTexts(tuple(shape.texts), packed.texts[start:end], packed.results)
            out.append(self._finish(shape, part))
            start = end
        return out

    def batch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Check many inputs with ONE ApplyGuardrail call (each text one content block).

        When that call blocks, one call cannot say which input was blocked: the inputs are
        then checked one by one (``1 + len(inputs)`` calls), as ``Runnable.batch`` does.
        """
        check_call_arguments(f"{type(self).__name__}.batch", kwargs)
        shapes = [self._shape(value) for value in inputs]
        texts = [text for shape in shapes for text in shape.texts]
        if not inputs or not texts:
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        try:
            with self._tagged(config if isinstance(config, Mapping) else None):
                packed = guard_texts(self.core, texts, source=self.source)
        except BedrockKitError:
            if not return_exceptions:
                raise
            # one error per input, as Runnable.batch reports them
            return super().batch(inputs, config, return_exceptions=True, **kwargs)
        if packed.blocked:
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        return self._split(shapes, packed)

    async def abatch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async :meth:`batch`."""
        check_call_arguments(f"{type(self).__name__}.abatch", kwargs)
        shapes = [self._shape(value) for value in inputs]
        texts = [text for shape in shapes for text in shape.texts]
        if not inputs or not texts:
            return await super().abatch(
                inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        try:
            with self._tagged(config if isinstance(config, Mapping) else None):
                packed = await aguard_texts(self.core, texts, source=self.source)
        except BedrockKitError:
            if not return_exceptions:
                raise
            return await super().abatch(inputs, config, return_exceptions=True, **kwargs)
        if packed.blocked:
            return await super().abatch(
                inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        return self._split(shapes, packed)


# ------------------------------------------------------------------ stream guard


class BedrockStreamGuard(_GuardrailRunnable):
    """Guards a stream of str or AIMessageChunk: text is yielded only after it was checked.

    Use it as the last step of a streamed chain (``chain | guard.stream_guard()``) or wrap a
    stream directly with :meth:`guard_stream` / :meth:`aguard_stream`. See
    :class:`bedrock_kit.core.guardrails.stream_guard.StreamGuard` for windows, overlap and cost.
    """

    window_size: int = TEXT_UNIT_CHARACTERS
    """Characters per check (default: one Bedrock text unit)."""
    overlap: int = 50
    """Characters held back and re-checked with the next window."""
    on_block: Literal["raise", "message"] = "raise"
    """Raise GuardrailInterventionError, or yield ``replacement`` (or the guardrail's
    blocked message) and stop."""
    replacement: str | None = None
    """Text yielded in place of a blocked window with ``on_block="message"``."""
    fail_open: bool = False
    """Release a window unchecked when its check fails (error, malformed or unknown answer).
    Off by default: the error is raised and nothing past the last passed window is released.
    Explicit opt-in only: each such release is logged as a warning and counted in
    ``stats.unchecked_characters``."""
    first_window_size: int | None = None
    """A smaller first window so the first text arrives sooner (about one more call)."""
    check_tool_calls: bool = True
    """Check tool-call names and arguments as text in the same windows (released as
    ``tool_call_chunks`` only after their window passed). ``False`` passes them on after the
    guarded text, unchecked and counted in ``stats.unchecked_characters``."""
    check_reasoning: bool = False
    """Check reasoning text and release it; by default reasoning is withheld (never released
    unchecked), with a warning."""

    _guard: StreamGuard | None = PrivateAttr(default=None)

    def __init__(self, **kwargs: Any) -> None:
        """Validate arguments now, before any request."""
        super().__init__(**kwargs)
        self._rebuild_guard()

    def _rebuild_guard(self) -> None:
        self._guard = StreamGuard(
            self.core,
            window_size=self.window_size,
            overlap=self.overlap,
            on_block=self.on_block,
            replacement=self.replacement,
            fail_open=self.fail_open,
            first_window_size=self.first_window_size,
        )

    @property
    def stats(self) -> StreamGuardStats:
        """Calls, text units and characters over every stream this guard checked."""
        assert self._guard is not None
        return self._guard.stats

    def _state(self) -> ChunkPieces:
        return ChunkPieces(
            check_tool_calls=self.check_tool_calls, check_reasoning=self.check_reasoning
        )

    def guard_stream(self, chunks: Iterator[Any]) -> Iterator[Any]:
        """Guard any iterator of str or AIMessageChunk (no LangChain callbacks).

        Raises:
            GuardrailInterventionError: When a window is blocked (``on_block="raise"``).
            BedrockKitError: When a check fails (typed; nothing unchecked was released).
        """
        assert self._guard is not None
        state, stats = self._state(), StreamGuardStats()
        guard = self._guard
        for released in self._carry(
            None, lambda: guard.guard_pieces(pieces(state, chunks), stats=stats)
        ):
            yield state.chunk_of(released)
        if (extra := state.finish(self._guard, stats)) is not None:
            yield extra

    async def aguard_stream(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Async :meth:`guard_stream`."""
        assert self._guard is not None
        state, stats = self._state(), StreamGuardStats()
        guard = self._guard
        async for released in self._acarry(
            None, lambda: guard.aguard_pieces(apieces(state, chunks), stats=stats)
        ):
            yield state.chunk_of(released)
        if (extra := state.finish(self._guard, stats)) is not None:
            yield extra

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Guard a stream flowing through an LCEL chain."""
        check_call_arguments(f"{type(self).__name__}.transform", kwargs)
        yield from self._transform_stream_with_config(input, self.guard_stream, config)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async :meth:`transform`."""
        check_call_arguments(f"{type(self).__name__}.atransform", kwargs)
        async for chunk in self._atransform_stream_with_config(input, self.aguard_stream, config):
            yield chunk

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Guard one value as a one-chunk stream."""
        check_call_arguments(f"{type(self).__name__}.stream", kwargs)
        return self.transform(iter([input]), config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream`."""
        check_call_arguments(f"{type(self).__name__}.astream", kwargs)

        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):
            yield chunk

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Guard a whole str or AI message; returns the released text in the same type."""
        check_call_arguments(f"{type(self).__name__}.invoke", kwargs)
        return _join(list(self.stream(_as_chunk(input), config, **kwargs)), input)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async :meth:`invoke`."""
        check_call_arguments(f"{type(self).__name__}.ainvoke", kwargs)
        chunks = [c async for c in self.astream(_as_chunk(input), config, **kwargs)]
        return _join(chunks, input)


def _as_chunk(value: Any) -> Any:
    """A whole AIMessage as the one chunk of a stream (tool calls kept as call chunks)."""
    if not isinstance(value, AIMessage) or isinstance(value, AIMessageChunk):
        return value
    calls = [
        tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
        for i, c in enumerate(value.tool_calls)
    ]
    return AIMessageChunk(
        content=value.content,
        id=value.id,
        response_metadata=value.response_metadata,
        usage_metadata=value.usage_metadata,
        tool_call_chunks=calls,
    )


def _join(chunks: list[Any], input: Any) -> Any:
    if isinstance(input, str):
        return "".join(chunks)
    merged: AIMessageChunk = AIMessageChunk(content="")
    for chunk in chunks:
        merged = merged + chunk
    if isinstance(input, AIMessageChunk):
        return merged
    return message_chunk_to_message(merged)


# ------------------------------------------------------------------ grounding


def _source_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Document):
        return [value.page_content]
    if isinstance(value, Sequence):
        return [t for item in value for t in _source_texts(item)]
    raise ConfigurationError(
        f"grounding sources must be str, Document or a list of them, got {type(value).__name__}"
    )


class BedrockGroundingCheck(_GuardrailRunnable):
    """Checks a RAG answer against the retrieved documents and the query.

    Input: a dict with the answer (str or message) under ``answer_key``, the sources (str,
    Document, or a list) under ``context_key`` and the query under ``query_key``. Output: the
    dict plus a :class:`~bedrock_kit.core.guardrails.apply.GroundingResult` under
    ``result_key``. Below a threshold it raises GuardrailInterventionError, or only flags the
    result (``on_fail="flag"``). The guardrail needs a contextual grounding policy.
    """

    answer_key: str = "answer"
    """Key of the model's answer."""
    context_key: str = "context"
    """Key of the retrieved sources."""
    query_key: str | None = "question"
    """Key of the user's query (relevance check); None to skip it."""
    result_key: str = "grounding"
    """Key under which the result is added."""
    on_fail: Literal["raise", "flag"] = "raise"
    """Raise when a score is below its threshold, or only report it."""

    def _args(self, value: Any) -> tuple[str, list[str], str | None]:
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"grounding check input must be a dict, got {type(value).__name__}"
            )
        for key in (self.answer_key, self.context_key):
            if key not in value:
                raise ConfigurationError(f"grounding check input has no key {key!r}")
        answer = value[self.answer_key]
        if isinstance(answer, BaseMessage):
            answer = answer.text
        query = value.get(self.query_key) if self.query_key else None
        return str(answer), _source_texts(value[self.context_key]), query

    def _finish(self, value: Mapping[str, Any], grounding: GroundingResult) -> dict[str, Any]:
        if not grounding.passed and self.on_fail == "raise":
            scores = ", ".join(
                f"{f.type.lower()} {f.score:.2f} (threshold {f.threshold:.2f})"
                for f in (grounding.grounding, grounding.relevance)
                if f is not None
            )
            raise GuardrailInterventionError(
                f"answer failed the contextual grounding check: {scores}",
                assessment=grounding.result.assessment,
                output_text=grounding.result.output_text,
                model_id=self.guardrail_id,
                resource="guardrail",
            )
        return {**value, self.result_key: grounding}

    def _check(self, value: Any) -> dict[str, Any]:
        with self._tagged():
            return self._finish(value, self.core.check_grounding(*self._args(value)))

    async def _acheck(self, value: Any) -> dict[str, Any]:
        with self._tagged():
            grounding = await self.core.acheck_grounding(*self._args(value))
        return self._finish(value, grounding)

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Score the answer; raise or flag below threshold."""
        check_call_arguments(f"{type(self).__name__}.invoke", kwargs)
        result: dict[str, Any] = self._call_with_config(
            self._check, input, config, run_type="chain"
        )
        return result

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Async :meth:`invoke`."""
        check_call_arguments(f"{type(self).__name__}.ainvoke", kwargs)
        result: dict[str, Any] = await self._acall_with_config(
            self._acheck, input, config, run_type="chain"
        )
        return result
