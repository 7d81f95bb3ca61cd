"""Ledger tags for the LlamaIndex classes: per instance (``ledger_tags=``) and per call.

Calls that take keyword arguments (``chat``, ``achat``, ``stream_chat``, ``astream_chat``,
``complete``..., the agent's ``run``) take ``ledger_tags={"tenant": "acme"}`` too: it is
merged over the instance's tags (a key given per call wins) and charged with the call on
the instance's ledger (see :mod:`bedrock_kit.core.budget.tags`). Streams carry their tags,
and those of an enclosing ``tagged()`` block, into every step.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Callable,
    Generator,
    Iterable,
    Mapping,
)
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from llama_index.core.bridge.pydantic import BaseModel, Field, field_validator

from bedrock_kit.core.budget.tags import (
    acarry_tags,
    active_tags,
    carry_tags,
    check_tags,
    merge_tags,
    tags_applied,
)

__all__ = ["CALL_KEYWORD", "LedgerTags", "acarry", "call_tags", "carry", "tagged_call"]

T = TypeVar("T")

CALL_KEYWORD = "ledger_tags"
"""The per-call keyword argument holding ``{key: value}`` ledger tags."""


def call_tags(instance: Mapping[str, str] | None, given: object = None) -> dict[str, str]:
    """Checked per-call tags merged over the (checked) instance tags."""
    if given is None:  # the usual call: no per-call tags
        return dict(instance) if instance else {}
    return merge_tags(instance, check_tags(given, where=CALL_KEYWORD))


def tagged_call(
    ledger: Any, instance: Mapping[str, str] | None, given: object = None
) -> AbstractContextManager[None]:
    """A block charging a call's tags to ``ledger`` (nothing without one)."""
    return tags_applied(ledger, call_tags(instance, given))


def carry(
    ledger: Any,
    instance: Mapping[str, str] | None,
    make: Callable[[], Iterable[T]],
    given: object = None,
) -> Generator[T, None, None]:
    """``make()``'s stream with the call's tags, and the enclosing block's, on every step."""
    tags = call_tags(instance, given)
    return carry_tags(ledger, tags, make, ambient=active_tags(ledger))


def acarry(
    ledger: Any,
    instance: Mapping[str, str] | None,
    make: Callable[[], AsyncIterable[T]],
    given: object = None,
) -> AsyncGenerator[T, None]:
    """Async :func:`carry`."""
    tags = call_tags(instance, given)
    return acarry_tags(ledger, tags, make, ambient=active_tags(ledger))


class LedgerTags(BaseModel):
    """The ``ledger_tags`` field of every LlamaIndex class that takes ``ledger=``."""

    ledger_tags: dict[str, Any] | None = Field(
        default=None,
        description="Ledger tags charged with every call of this instance "
        '({"tenant": "acme"}); a call\'s ledger_tags= wins for the same key.',
    )

    @field_validator("ledger_tags")
    @classmethod
    def _check_ledger_tags(cls, value: Any) -> Any:
        return check_tags(value) if value is not None else None

    def _tagged(self, given: object = None) -> AbstractContextManager[None]:
        return tagged_call(getattr(self, "ledger", None), self.ledger_tags, given)

    def _carry(
        self, make: Callable[[], Iterable[T]], given: object = None
    ) -> Generator[T, None, None]:
        return carry(getattr(self, "ledger", None), self.ledger_tags, make, given)

    def _acarry(
        self, make: Callable[[], AsyncIterable[T]], given: object = None
    ) -> AsyncGenerator[T, None]:
        return acarry(getattr(self, "ledger", None), self.ledger_tags, make, given)
