"""Token counts for the training-data validator: CountTokens when a runtime client is
available and the base model supports it, the core estimate otherwise, and which was used.

:class:`RecordTokenCounter` is a :data:`~bedrock_kit.core.customization.data.TokenCounter`
(``text -> tokens``) for :func:`~bedrock_kit.core.customization.data.validate_records` and
:meth:`CustomizationJob.start <bedrock_kit.core.customization.jobs.CustomizationJob.start>`.
Each text is counted as one user message of a Converse request to the base model through
:class:`~bedrock_kit.core.budget.counting.InputCounter`, which caches identical texts, falls
back to the estimate when CountTokens fails, and stops asking a model that refuses counting.
The message framing adds a few tokens per text, so counts err slightly high, like the
estimate. ``estimated`` says whether any count came from the estimate: the validator then
says the figures were estimated.

.. code-block:: python

    counter = RecordTokenCounter.from_settings("anthropic.claude-3-haiku-20240307-v1:0", settings)
    report = validate_records(records, profile, count_tokens=counter)
    report.estimated   # False when CountTokens counted every record
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bedrock_kit.core.budget.counting import InputCounter, TokenCountingRuntime
from bedrock_kit.core.chat.models import supports_count_tokens
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.transport.clients import ClientSettings


class RecordTokenCounter:
    """Counts the tokens of training texts for one base model.

    Args:
        model_id: The base model (CountTokens counts with its tokenizer).
        runtime: A runtime with ``count_tokens`` (a :class:`ConverseRuntime`); None: the
            estimate for every text.
        counter: The :class:`InputCounter` to share (a new one when None).
    """

    def __init__(
        self,
        model_id: str,
        runtime: TokenCountingRuntime | None = None,
        *,
        counter: InputCounter | None = None,
    ) -> None:
        self.model_id = model_id
        """The base model."""
        self.runtime = runtime
        """Where CountTokens is asked (None: never)."""
        self.counter = counter or InputCounter()
        """Caching, fallback and refusal memory."""
        self.sources: Counter[str] = Counter()
        """Texts counted per source: ``count_tokens``, ``cache`` or ``estimate``."""

    @classmethod
    def from_settings(
        cls, model_id: str, settings: ClientSettings, *, client: Any = None
    ) -> RecordTokenCounter:
        """A counter asking CountTokens through a ``bedrock-runtime`` client on ``settings``."""
        return cls(model_id, ConverseRuntime(settings, client=client))

    @property
    def uses_count_tokens(self) -> bool:
        """True when CountTokens will be asked (a runtime, and a model that supports it)."""
        return self.runtime is not None and supports_count_tokens(self.model_id)

    @property
    def estimated(self) -> bool:
        """True when any count so far came from the estimate (or nothing was counted yet
        and CountTokens will not be asked)."""
        if not self.sources:
            return not self.uses_count_tokens
        return self.sources["estimate"] > 0

    def __call__(self, text: str) -> int:
        """Tokens of ``text`` (never below 1 for a non-empty text)."""
        request = {
            "modelId": self.model_id,
            "messages": [{"role": "user", "content": [{"text": text}]}],
        }
        counted = self.counter.count(self.runtime, request)
        self.sources[counted.source] += 1
        return counted.tokens


__all__ = ["RecordTokenCounter"]
