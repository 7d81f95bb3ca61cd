"""with_batch_inference of a ChatBedrockKit with a ledger: the batch is budgeted, not refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bedrock_kit import Ledger, summarize
from bedrock_kit.errors import BudgetExceededError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing.batch_jobs import LocalBatchJobs

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


def batch_mode(server, s3_url, bucket, ledger):
    llm = ChatBedrockKit(
        model=MODEL, max_tokens=40, endpoint_url=server.endpoint_url, region_name="us-east-1",
        ledger=ledger,
    )  # fmt: skip
    return llm.with_batch_inference(
        s3_uri=f"s3://{bucket}/lc/", role_arn=ROLE, s3_endpoint_url=s3_url, poll=0.01
    )


def test_batch_is_charged_to_the_models_ledger_at_the_batch_price(server, jobs, s3_url, bucket):
    ledger = Ledger(max_cost=5)
    messages = batch_mode(server, s3_url, bucket, ledger).batch([f"t{i}" for i in range(100)])
    (row,) = ledger.report().rows
    assert row.model_id == f"batch:{MODEL}"
    assert row.input_tokens == sum(m.usage_metadata["input_tokens"] for m in messages) > 0
    assert row.output_tokens == sum(m.usage_metadata["output_tokens"] for m in messages)
    summary = summarize(ledger)
    assert list(summary.by_operation) == ["batch"] and summary.batch_savings > 0
    assert ledger.open_reservations() == 0 and server.requests_for("Converse") == []


def test_abatch_over_the_budget_sends_nothing(server, jobs, s3_url, bucket, s3_client):
    ledger = Ledger(max_cost=Decimal("0.0001"))
    runnable = batch_mode(server, s3_url, bucket, ledger)
    with pytest.raises(BudgetExceededError):
        asyncio.run(runnable.abatch([f"t{i}" for i in range(100)]))
    assert server.requests == [] and "Contents" not in s3_client.list_objects_v2(Bucket=bucket)
