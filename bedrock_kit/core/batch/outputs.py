"""Batch outputs: ``.jsonl.out`` lines and ``manifest.json.out``, parsed; cost at batch rates.

Bedrock writes, per input file, an output file of lines
``{"recordId", "modelInput", "modelOutput"}`` (``modelOutput`` is the InvokeModel response
body) or ``{"recordId", "modelInput", "error": {"errorCode", "errorMessage"}}``, and one
``manifest.json.out`` with the job's counts and token totals ("View the results of a batch
inference job"). Output order is not guaranteed; records are matched by ``recordId``.

Nothing is dropped silently: a record whose line is an error, whose ``modelOutput`` is not
the model's documented shape, whose line cannot be parsed, or that has no line at all gets
a typed error in its place (:class:`~bedrock_kit.errors.BatchRecordError`,
:class:`~bedrock_kit.errors.MalformedBatchRecordError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from bedrock_kit.core.budget.pricing import PriceTable, default_prices
from bedrock_kit.core.chat.invoke import parse_invoke_response
from bedrock_kit.core.chat.types import ConverseResult, Usage
from bedrock_kit.errors import (
    BatchRecordError,
    BedrockKitError,
    MalformedBatchRecordError,
    MalformedResponseError,
)

__all__ = [
    "BATCH_DISCOUNT",
    "BatchCost",
    "BatchManifest",
    "Outcome",
    "parse_manifest",
    "parse_output_file",
]

BATCH_DISCOUNT = Decimal("0.5")
"""Batch inference bills half the on-demand price ("50% cost savings vs on-demand",
docs.aws.amazon.com/bedrock/latest/userguide/capacity-limits-cost-optimization.html)."""

Outcome = ConverseResult | BedrockKitError
"""What one record became: its parsed answer, or a typed error in its place
(:class:`BatchRecordError` for job records; the call's own error for online ones)."""

_RECORD_ID = re.compile(r'"recordId"\s*:\s*"([^"]+)"')
_MANIFEST_KEYS = {
    "totalRecordCount": "total_records",
    "processedRecordCount": "processed_records",
    "successRecordCount": "success_records",
    "errorRecordCount": "error_records",
    "inputTokenCount": "input_tokens",
    "outputTokenCount": "output_tokens",
}


@dataclass(frozen=True)
class BatchManifest:
    """A job's (or a batch's, summed) ``manifest.json.out``."""

    total_records: int = 0
    """Records submitted."""
    processed_records: int = 0
    """Records processed."""
    success_records: int = 0
    """Records answered."""
    error_records: int = 0
    """Records that ended in an error."""
    input_tokens: int = 0
    """Input tokens of every record."""
    output_tokens: int = 0
    """Output tokens of every record."""

    def __add__(self, other: BatchManifest) -> BatchManifest:
        return BatchManifest(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class BatchCost:
    """What a batch costs at the batch rate, next to the same tokens on demand."""

    batch: Decimal
    """USD at the batch rate (half of on-demand)."""
    on_demand: Decimal
    """USD the same tokens cost as online calls."""
    input_tokens: int
    """Input tokens priced."""
    output_tokens: int
    """Output tokens priced."""

    @property
    def saved(self) -> Decimal:
        """On-demand minus batch."""
        return self.on_demand - self.batch


def batch_cost(
    model_id: str,
    manifest: BatchManifest,
    *,
    prices: PriceTable | None = None,
    discount: Decimal = BATCH_DISCOUNT,
) -> BatchCost:
    """Price a manifest's tokens at the batch rate, next to the on-demand price.

    The batch rate is the price table's (:func:`~bedrock_kit.core.budget.pricing.batch_price`:
    the model's batch figures where published, else 50% of on-demand); a ``discount`` other
    than the default prices the batch at that fraction of on-demand instead (1: ran online).
    """
    table = prices or default_prices()
    usage = Usage(manifest.input_tokens, manifest.output_tokens)
    on_demand = table.price(model_id).cost(usage)
    if discount == BATCH_DISCOUNT:
        batch = table.batch_price(model_id).cost(usage)
    else:
        batch = on_demand * discount
    return BatchCost(batch, on_demand, manifest.input_tokens, manifest.output_tokens)


def parse_manifest(raw: bytes, *, job_arn: str | None = None) -> BatchManifest:
    """Parse ``manifest.json.out``.

    Raises:
        MalformedResponseError: not a JSON object of non-negative integer counts.
    """
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MalformedResponseError(f"manifest of {job_arn} is not JSON: {exc}", raw=text) from exc
    if not isinstance(data, Mapping):
        raise MalformedResponseError(f"manifest of {job_arn} is not a JSON object", raw=text)
    values: dict[str, int] = {}
    for key, name in _MANIFEST_KEYS.items():
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MalformedResponseError(
                f"manifest of {job_arn}: {key} is not a count: {value!r}", raw=text
            )
        values[name] = value
    return BatchManifest(**values)


def _record_error(record_id: str, error: Any, job_arn: str | None, model_id: str) -> Outcome:
    if not isinstance(error, Mapping):
        return MalformedBatchRecordError(
            f"record {record_id}: error is not an object: {error!r}",
            record_id=record_id,
            raw=json.dumps(error),
            job_arn=job_arn,
            model_id=model_id,
        )
    code = error.get("errorCode")
    status = code if isinstance(code, int) and not isinstance(code, bool) else None
    return BatchRecordError(
        f"record {record_id} failed: {error.get('errorMessage') or 'no message'}",
        record_id=record_id,
        job_arn=job_arn,
        model_id=model_id,
        status_code=status,
        error_code=None if code is None else str(code),
    )


def _outcome(line: Mapping[str, Any], model_id: str, job_arn: str | None) -> Outcome:
    record_id = str(line["recordId"])
    if "error" in line:
        return _record_error(record_id, line["error"], job_arn, model_id)
    output = line.get("modelOutput")
    if not isinstance(output, Mapping):
        return MalformedBatchRecordError(
            f"record {record_id} has neither modelOutput nor error",
            record_id=record_id,
            raw=json.dumps(line)[:2000],
            job_arn=job_arn,
            model_id=model_id,
        )
    raw = json.dumps(output).encode()
    try:
        result = parse_invoke_response({}, raw, model_id=model_id)
        if not result.raw_stop_reason:  # every provider's answer body names why it stopped
            raise ValueError("no stop reason")
        return result
    except (BedrockKitError, LookupError, TypeError, ValueError, AttributeError) as exc:
        return MalformedBatchRecordError(
            f"record {record_id}: modelOutput is not the {model_id} response shape: {exc!r}",
            record_id=record_id,
            raw=raw.decode()[:2000],
            job_arn=job_arn,
            model_id=model_id,
        )


def parse_output_file(
    raw: bytes, *, model_id: str, job_arn: str | None = None
) -> tuple[dict[str, Outcome], list[str]]:
    """Outcomes of one ``.jsonl.out`` file by record id, and the lines that name no record.

    A line that cannot be parsed but shows a ``recordId`` becomes that record's
    :class:`MalformedBatchRecordError`; one that shows none is returned in the second list
    so the caller can blame the records that got no outcome.
    """
    outcomes: dict[str, Outcome] = {}
    orphans: list[str] = []
    for number, text in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            if not isinstance(line, Mapping) or not isinstance(line.get("recordId"), str):
                raise ValueError("not an object with a string recordId")
        except ValueError as exc:
            found = _RECORD_ID.search(text)
            if found is None:
                orphans.append(text[:2000])
                continue
            outcomes[found.group(1)] = MalformedBatchRecordError(
                f"record {found.group(1)}: output line {number} is not valid JSON: {exc}",
                record_id=found.group(1),
                raw=text[:2000],
                job_arn=job_arn,
                model_id=model_id,
            )
            continue
        outcomes[line["recordId"]] = _outcome(line, model_id, job_arn)
    return outcomes, orphans


def missing(
    record_id: str,
    *,
    job_arn: str | None,
    state: str,
    message: str,
    orphans: list[str],
    model_id: str,
) -> BatchRecordError:
    """The error standing in for a record that has no output line."""
    if orphans:
        return MalformedBatchRecordError(
            f"record {record_id}: no readable output line ({len(orphans)} line(s) of job "
            f"{job_arn} could not be parsed)",
            record_id=record_id,
            raw=orphans[0],
            job_arn=job_arn,
            model_id=model_id,
        )
    why = f": {message}" if message else ""
    return BatchRecordError(
        f"record {record_id} has no output: job {job_arn} ended {state}{why}",
        record_id=record_id,
        job_arn=job_arn,
        model_id=model_id,
        error_code=state,
    )
