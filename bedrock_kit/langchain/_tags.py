"""Ledger tags for the LangChain classes: per instance and per call or chain (metadata).

A tag set on a chain's ``RunnableConfig`` metadata under :data:`METADATA_KEY`
(``config={"metadata": {"bedrock_kit_tags": {"tenant": "acme"}}}``) reaches every child run,
since LangChain passes metadata down; every bedrock-kit call in the chain charges it to its
ledger (see :mod:`bedrock_kit.core.budget.tags`). LangChain's own ``tags`` (a list of
strings for callbacks and tracing) are left alone: they are not ledger tags.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, TypeVar

from langchain_core.runnables.config import ensure_config, var_child_runnable_config
from pydantic import BaseModel, ConfigDict, field_validator

from bedrock_kit.core.budget.tags import (
    acarry_tags,
    active_tags,
    carry_tags,
    check_tags,
    merge_tags,
    tags_applied,
)

__all__ = [
    "METADATA_KEY",
    "ChatLedgerTags",
    "LedgerTags",
    "metadata_tags",
    "tags_in_metadata",
]

T = TypeVar("T")

# While a chat model's stream computes a step: its config (BaseChatModel.stream passes
# ``_stream`` neither the run manager nor the config) and the tags active when the stream
# was created (an enclosing tagged() block it may outlive).
_stream_config: ContextVar[tuple[Mapping[str, Any], dict[str, str]] | None] = ContextVar(
    "bedrock_kit_stream_config", default=None
)

METADATA_KEY = "bedrock_kit_tags"
"""The RunnableConfig metadata key holding ``{key: value}`` ledger tags."""


def metadata_tags(source: object = None) -> dict[str, str]:
    """The checked ledger tags of a run: ``source`` is a run or callback manager (its
    merged metadata), a RunnableConfig, or None (the config of the run in progress)."""
    metadata: Any = getattr(source, "metadata", None)
    if source is None and (streaming := _stream_config.get()) is not None:
        metadata = streaming[0].get("metadata")
    if not isinstance(metadata, Mapping):
        config = source if isinstance(source, Mapping) else None
        metadata = ensure_config(config).get("metadata")  # type: ignore[arg-type]
    return tags_in_metadata(metadata)


_WHERE = f"metadata[{METADATA_KEY!r}]"


def tags_in_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """The checked ledger tags under :data:`METADATA_KEY` of a run's metadata."""
    return check_tags((metadata or {}).get(METADATA_KEY), where=_WHERE)


class LedgerTags(BaseModel):
    """The ``ledger_tags`` field of every LangChain class that takes ``ledger=``."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    ledger_tags: dict[str, Any] | None = None
    """Ledger tags charged with every call of this instance (``{"tenant": "acme"}``), on
    top of the chain's ``bedrock_kit_tags`` metadata, which wins for the same key. Not
    LangChain's callback ``tags``."""

    @field_validator("ledger_tags")
    @classmethod
    def _check_ledger_tags(cls, value: Any) -> Any:
        return check_tags(value) if value is not None else None

    def _call_tags(self, source: object = None) -> dict[str, str]:
        """Instance tags merged with the call's (``source``: see :func:`metadata_tags`)."""
        return merge_tags(self.ledger_tags, metadata_tags(source))

    def _tagged(self, source: object = None) -> AbstractContextManager[None]:
        """A block charging this call's tags to the instance's ledger."""
        ledger = getattr(self, "ledger", None)
        if ledger is None:
            metadata = getattr(source, "metadata", None)
            if type(metadata) is dict and METADATA_KEY not in metadata:
                return tags_applied(None, None)  # no ledger, no call tags to check
        return tags_applied(ledger, self._call_tags(source))

    def _carry(self, source: object, make: Callable[[], Iterable[T]]) -> Iterator[T]:
        """``make()``'s stream with this call's tags on every step (see ``carry_tags``)."""
        ledger = getattr(self, "ledger", None)
        if ledger is None:
            self._call_tags(source)  # bad tags still fail
            return iter(make())
        return carry_tags(ledger, self._call_tags(source), make, ambient=_stream_ambient())

    def _acarry(self, source: object, make: Callable[[], AsyncIterable[T]]) -> AsyncIterator[T]:
        """Async :meth:`_carry`."""
        ledger = getattr(self, "ledger", None)
        if ledger is None:
            self._call_tags(source)
            return aiter(make())
        return acarry_tags(ledger, self._call_tags(source), make, ambient=_stream_ambient())


def _check_early(config: Mapping[str, Any] | None) -> None:
    """Refuse bad tags of the call's config, or of the run it is made in, before the call.

    The metadata ``ensure_config`` would merge, read without building a config (a call
    without tags costs a few lookups, not a copy of the parent's config).
    """
    for source in (config, var_child_runnable_config.get()):
        metadata = source.get("metadata") if source else None
        if metadata and METADATA_KEY in metadata:
            tags_in_metadata(metadata)


def _stream_ambient() -> dict[str, str]:
    streaming = _stream_config.get()
    return streaming[1] if streaming is not None else {}


def _in_config(
    config: Mapping[str, Any], ambient: dict[str, str], stream: Iterator[T]
) -> Iterator[T]:
    try:
        while True:
            token = _stream_config.set((config, ambient))
            try:
                item = next(stream)
            except StopIteration:
                return
            finally:
                _stream_config.reset(token)
            yield item
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


async def _ain_config(
    config: Mapping[str, Any], ambient: dict[str, str], stream: AsyncIterator[T]
) -> AsyncIterator[T]:
    try:
        while True:
            token = _stream_config.set((config, ambient))
            try:
                item = await anext(stream)
            except StopAsyncIteration:
                return
            finally:
                _stream_config.reset(token)
            yield item
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


class ChatLedgerTags(LedgerTags):
    """:class:`LedgerTags` for chat models, whose streams LangChain runs without the run's
    config: ``invoke``/``ainvoke``/``stream``/``astream`` check the call's tags before
    anything is sent (a profile lookup included), and the streams hand the config (and
    the tags of an enclosing ``tagged()`` block, which the stream may outlive) to every
    step."""

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """LangChain's ``invoke``; the call's ledger tags are checked before any request."""
        _check_early(config)
        return super().invoke(input, config, **kwargs)  # type: ignore[misc]

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """LangChain's ``ainvoke``; the call's ledger tags are checked before any request."""
        _check_early(config)
        return await super().ainvoke(input, config, **kwargs)  # type: ignore[misc]

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        """LangChain's ``stream``, with the call's ledger tags (see the class doc)."""
        if getattr(self, "ledger", None) is None:  # nothing to charge: no per-chunk wrapper
            _check_early(config)
            return super().stream(input, config, **kwargs)  # type: ignore[misc, no-any-return]
        config = ensure_config(config)
        metadata_tags(config)  # bad tags fail here, before any request
        ambient = active_tags(getattr(self, "ledger", None))
        inner = super().stream(input, config, **kwargs)  # type: ignore[misc]
        return _in_config(config, ambient, inner)

    def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        """LangChain's ``astream``, with the call's ledger tags (see the class doc)."""
        if getattr(self, "ledger", None) is None:  # nothing to charge: no per-chunk wrapper
            _check_early(config)
            return super().astream(input, config, **kwargs)  # type: ignore[misc, no-any-return]
        config = ensure_config(config)
        metadata_tags(config)
        ambient = active_tags(getattr(self, "ledger", None))
        inner = super().astream(input, config, **kwargs)  # type: ignore[misc]
        return _ain_config(config, ambient, inner)
