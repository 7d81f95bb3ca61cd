"""A batch's charge on a :class:`~bedrock_kit.core.budget.ledger.Ledger`.

``BedrockBatchJob.submit(..., ledger=...)`` reserves the whole batch's worst case before the
first S3 upload or CreateModelInvocationJob, as one reservation under the row id
``batch:<model id>`` (priced with :func:`~bedrock_kit.core.budget.pricing.batch_price`, so
:func:`~bedrock_kit.core.budget.summary.summarize` shows the ``batch`` operation type and its
savings against on-demand):

* input: every record's InvokeModel body estimated with the ledger's documented estimate
  (:func:`~bedrock_kit.core.chat.token_estimate.estimate_invoke_tokens`, which errs high);
* output: every record's own max tokens (``max_tokens``, ``max_gen_len``,
  ``inferenceConfig.maxTokens``/``max_new_tokens``, ``textGenerationConfig.maxTokenCount``),
  or ``default_max_tokens`` for a body that sets none.

When it does not fit, :class:`~bedrock_kit.errors.BudgetExceededError` is raised and nothing
is sent. The reservation is settled when the job ends (``wait``/``async_wait`` returning a
final status) to the manifests' token totals, which count what Bedrock bills, records with
errors included (a job without a manifest: its records' own usage). A submit that fails
before any job is created releases it; one that fails after some jobs started charges the
whole reservation (those jobs run and bill, and this handle is lost). Below the per-job
minimum with ``below_minimum="online"`` the records run as InvokeModel calls: reserved at the
on-demand price under the bare model id and settled to their reported usage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bedrock_kit.core.batch.outputs import BatchManifest
from bedrock_kit.core.budget.ledger import Ledger, Reservation
from bedrock_kit.core.chat.token_estimate import estimate_invoke_tokens
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_TOKENS", "check_ledger", "record_max_tokens", "reserve_batch", "settle"]

DEFAULT_MAX_TOKENS = 4096
"""Output tokens reserved for a record whose body sets no max tokens (as for Converse)."""

_TOP_KEYS = ("max_tokens", "max_gen_len", "maxTokens", "max_completion_tokens")
_NESTED = {
    "inferenceConfig": ("maxTokens", "max_new_tokens"),
    "textGenerationConfig": ("maxTokenCount",),
}


def check_ledger(ledger: Any, model_id: str) -> Ledger | None:
    """``ledger`` itself when it is a Ledger or None; anything else is refused by name."""
    if ledger is not None and not isinstance(ledger, Ledger):
        raise ConfigurationError(
            f"ledger must be a bedrock_kit Ledger, got {type(ledger).__name__}",
            model_id=model_id,
        )
    return ledger


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def record_max_tokens(body: Mapping[str, Any], default: int = DEFAULT_MAX_TOKENS) -> int:
    """The output cap of one InvokeModel body (provider keys), or ``default``."""
    for key in _TOP_KEYS:
        found = _whole(body.get(key))
        if found is not None:
            return found
    for section, keys in _NESTED.items():
        nested = body.get(section)
        if isinstance(nested, Mapping):
            for key in keys:
                found = _whole(nested.get(key))
                if found is not None:
                    return found
    return default


def reserve_batch(
    ledger: Ledger,
    model_id: str,
    bodies: Sequence[Mapping[str, Any]],
    *,
    online: bool = False,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
) -> Reservation:
    """Hold the worst case of every record (see the module doc), or refuse the batch.

    Raises:
        BudgetExceededError: the batch could cross a limit; nothing was sent.
    """
    input_tokens = sum(estimate_invoke_tokens(json.dumps(body)) for body in bodies)
    output_tokens = sum(record_max_tokens(body, default_max_tokens) for body in bodies)
    row_id = model_id if online else f"batch:{model_id}"
    return ledger.reserve(row_id, input_tokens, output_tokens)


def settle(reservation: Reservation, manifest: BatchManifest) -> Decimal:
    """Settle to a batch's billed token totals (the whole reservation if it billed none
    while records were processed: usage missing)."""
    if manifest.input_tokens + manifest.output_tokens <= 0:
        if manifest.processed_records > 0:
            return reservation.settle_reserved()
        return reservation.settle(Usage(0, 0), error=manifest.error_records > 0)
    usage = Usage(manifest.input_tokens, manifest.output_tokens)
    return reservation.settle(usage, error=manifest.error_records > 0)
