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

A job outlives the process that submitted it, and so does its reservation: it is made under
the id ``batch-<batch id>`` (every job is named ``<name>-<batch id>-<part>``) with a lease
of its own, the job's timeout plus three days (:func:`lease_seconds`), renewed by every
process that waits for the job. With a shared store
(:class:`~bedrock_kit.core.budget.redis_store.RedisStore`), the submitting process may exit:
``BedrockBatchJob.attach(*arns, ledger=...)`` in another process (or after a restart) finds
the reservation again (:meth:`Ledger.resume`) and settles it to the manifests when the job
ends; whichever process settles first does, the others find it finished, so it is charged
once. Nobody waiting until the lease runs out: the store charges the whole reservation. A
ledger that never held the batch (a new in-process ledger after a restart, a job submitted
without one) books the billed tokens when the job ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bedrock_kit.core.batch.outputs import BatchManifest
from bedrock_kit.core.budget.ledger import Ledger, Reservation
from bedrock_kit.core.chat.token_estimate import estimate_invoke_tokens
from bedrock_kit.core.chat.types import Usage
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "book",
    "check_ledger",
    "hold_id",
    "lease_seconds",
    "record_max_tokens",
    "reserve_batch",
    "resume",
    "settle",
]

DEFAULT_MAX_TOKENS = 4096
"""Output tokens reserved for a record whose body sets no max tokens (as for Converse)."""

_MAX_JOB_HOURS = 168  # the longest timeoutDurationInHours Bedrock takes (24-168)
_MARGIN_HOURS = 72  # queueing before the job starts, output written after it ends
_BATCH_ID = re.compile(r"-([0-9a-f]{12})-[0-9]{3,}$")  # job names: <name>-<batch id>-<part>

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
    hold_id: str | None = None,
    lease_seconds: float | None = None,
) -> Reservation:
    """Hold the worst case of every record (see the module doc), or refuse the batch.

    ``hold_id`` and ``lease_seconds`` make the hold outlive this process (see the module
    doc).

    Raises:
        BudgetExceededError: the batch could cross a limit; nothing was sent.
    """
    input_tokens = sum(estimate_invoke_tokens(json.dumps(body)) for body in bodies)
    output_tokens = sum(record_max_tokens(body, default_max_tokens) for body in bodies)
    row_id = model_id if online else f"batch:{model_id}"
    return ledger.reserve(
        row_id, input_tokens, output_tokens, hold_id=hold_id, lease_seconds=lease_seconds
    )


def hold_id(batch_id: str) -> str:
    """The ledger hold id of a batch (its jobs are named ``<name>-<batch id>-<part>``)."""
    return f"batch-{batch_id}"


def lease_seconds(timeout_hours: int | None) -> float:
    """How long a batch's hold lasts without a process renewing it: the job's timeout
    (the longest Bedrock takes when none is set) plus a margin for queueing."""
    return float(((timeout_hours or _MAX_JOB_HOURS) + _MARGIN_HOURS) * 3600)


def resume(ledger: Ledger, job_name: str, model_id: str) -> tuple[Reservation | None, Any]:
    """For ``attach(ledger=...)``: the batch's reservation found again by the job's name,
    or, when ``ledger`` never held the batch, ``(None, ledger)``: book the bill at the end.
    """
    found = _BATCH_ID.search(job_name)
    reservation = ledger.resume(hold_id(found.group(1))) if found else None
    return (reservation, None) if reservation is not None else (None, ledger)


def book(ledger: Ledger, model_id: str, manifest: BatchManifest) -> Decimal:
    """Book a batch's billed tokens on a ledger that held no reservation for it."""
    usage = Usage(manifest.input_tokens, manifest.output_tokens)
    return ledger.record(f"batch:{model_id}", usage, error=manifest.error_records > 0)


def settle(reservation: Reservation, manifest: BatchManifest) -> Decimal:
    """Settle to a batch's billed token totals (the whole reservation if it billed none
    while records were processed: usage missing)."""
    if manifest.input_tokens + manifest.output_tokens <= 0:
        if manifest.processed_records > 0:
            return reservation.settle_reserved()
        return reservation.settle(Usage(0, 0), error=manifest.error_records > 0)
    usage = Usage(manifest.input_tokens, manifest.output_tokens)
    return reservation.settle(usage, error=manifest.error_records > 0)
