"""Check several texts (the messages of a prompt, the nodes of a retrieval) in one call.

Adapters hand over plain texts and get back, per text, what may be used: the original, or the
masked version. The texts travel as separate content blocks of one ApplyGuardrail request,
so a prompt of five messages costs one call. When the guardrail masks and its ``outputs`` do
not line up one-to-one with the blocks sent, each text is checked alone, so a masked text is
never attributed to the wrong message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bedrock_kit.core.guardrails.apply import (
    EMPTY,
    GuardrailResult,
    NotChecked,
    intervention_error,
    is_empty_text,
    not_checked_result,
)
from bedrock_kit.core.guardrails.assessments import GuardrailUsage
from bedrock_kit.errors import ConfigurationError

if TYPE_CHECKING:
    from bedrock_kit.core.guardrails.apply import GuardrailClient

ON_BLOCK_MODES: tuple[str, ...] = ("raise", "message", "detect")
"""What a guard step does with blocked content: raise GuardrailInterventionError, return the
guardrail's blocked message, or return the input unchanged with the result attached."""


def check_on_block(on_block: str) -> str:
    """Validate an ``on_block`` argument."""
    if on_block not in ON_BLOCK_MODES:
        raise ConfigurationError(f"on_block must be one of {ON_BLOCK_MODES}, got {on_block!r}")
    return on_block


@dataclass(frozen=True)
class GuardedTexts:
    """What a guardrail decided about several texts."""

    originals: tuple[str, ...]
    """The texts as given."""
    texts: tuple[str, ...]
    """What may be used, per text: the original or the masked text (originals when blocked)."""
    results: tuple[GuardrailResult, ...] = ()
    """ApplyGuardrail results: one for the packed call, or one per text after a fallback
    (one result with ``not_checked="empty"`` when no text was worth sending)."""

    @property
    def empty(self) -> tuple[int, ...]:
        """Indexes of the texts not sent because empty or whitespace only (used unchanged)."""
        return tuple(i for i, text in enumerate(self.originals) if is_empty_text(text))

    @property
    def not_checked(self) -> NotChecked | None:
        """``"empty"`` when no text had anything to check (none was sent), else None."""
        return EMPTY if len(self.empty) == len(self.originals) else None

    @property
    def blocked(self) -> bool:
        """True when any text was blocked."""
        return any(r.blocked for r in self.results)

    @property
    def intervened(self) -> bool:
        """True when anything was blocked or masked."""
        return any(r.intervened for r in self.results)

    @property
    def result(self) -> GuardrailResult | None:
        """The blocking result if any, else the first result (None when nothing was sent)."""
        for r in self.results:
            if r.blocked:
                return r
        return self.results[0] if self.results else None

    @property
    def blocked_message(self) -> str:
        """The guardrail's message for blocked content ("" when nothing was blocked)."""
        r = self.result
        return r.output_text if r is not None and r.blocked else ""

    @property
    def usage(self) -> GuardrailUsage:
        """Text units billed over every call."""
        total = GuardrailUsage()
        for r in self.results:
            total = total + r.usage
        return total

    def raise_if_blocked(self) -> None:
        """Raise GuardrailInterventionError when a text was blocked."""
        r = self.result
        if r is not None and r.blocked:
            raise intervention_error(r)


def _sendable(texts: Sequence[str]) -> list[int]:
    # Bedrock rejects empty text blocks; whitespace-only text has nothing to check either.
    return [i for i, t in enumerate(texts) if not is_empty_text(t)]


def _unchecked(texts: Sequence[str], source: str) -> GuardedTexts:
    return GuardedTexts(
        tuple(texts), tuple(texts), (not_checked_result(source, range(len(texts))),)
    )


def _split(result: GuardrailResult, sent: Sequence[str]) -> tuple[str, ...] | None:
    if not result.intervened or result.blocked:
        return tuple(sent)
    if len(sent) == 1:
        return (result.output_text,)
    if len(result.outputs) == len(sent):
        return result.outputs
    return None  # masked, but outputs cannot be matched to blocks: check one by one


def _merge(texts: Sequence[str], index: Sequence[int], released: Sequence[str]) -> tuple[str, ...]:
    out = list(texts)
    for i, text in zip(index, released, strict=True):
        out[i] = text
    return tuple(out)


def _from_singles(
    texts: Sequence[str], index: Sequence[int], results: Sequence[GuardrailResult]
) -> GuardedTexts:
    released = [
        r.output_text if r.anonymized else texts[i] for i, r in zip(index, results, strict=True)
    ]
    return GuardedTexts(tuple(texts), _merge(texts, index, released), tuple(results))


def guard_texts(client: GuardrailClient, texts: Sequence[str], *, source: str) -> GuardedTexts:
    """Check ``texts`` with one ApplyGuardrail call (more only when masking needs it)."""
    index = _sendable(texts)
    if not index:
        return _unchecked(texts, source)
    sent = [texts[i] for i in index]
    result = client.apply(sent, source=source)
    split = _split(result, sent)
    if split is not None:
        return GuardedTexts(tuple(texts), _merge(texts, index, split), (result,))
    return _from_singles(texts, index, [client.apply(t, source=source) for t in sent])


async def aguard_texts(
    client: GuardrailClient, texts: Sequence[str], *, source: str
) -> GuardedTexts:
    """Async :func:`guard_texts`."""
    index = _sendable(texts)
    if not index:
        return _unchecked(texts, source)
    sent = [texts[i] for i in index]
    result = await client.aapply(sent, source=source)
    split = _split(result, sent)
    if split is not None:
        return GuardedTexts(tuple(texts), _merge(texts, index, split), (result,))
    return _from_singles(texts, index, [await client.aapply(t, source=source) for t in sent])
