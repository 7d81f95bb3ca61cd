"""with_batch_inference of a BedrockKitLLM with a ledger: the batch is budgeted, not refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bedrock_kit import Ledger, summarize
from bedrock_kit.errors import BudgetExceededError
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing.batch_jobs import LocalBatchJobs

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


def batch_mode(server, s3_url, bucket, ledger):
    llm = BedrockKitLLM(
        model=MODEL, max_tokens=40, endpoint_url=server.endpoint_url, region_name="us-east-1",
        ledger=ledger,
    )  # fmt: skip
    return llm.with_batch_inference(
        s3_uri=f"s3://{bucket}/li/", role_arn=ROLE, s3_endpoint_url=s3_url, poll=0.01
    )


def test_batch_complete_is_charged_to_the_llms_ledger(server, jobs, s3_url, bucket):
    ledger = Ledger(max_cost=5)
    answers = batch_mode(server, s3_url, bucket, ledger).batch_complete(
        [f"p{i}" for i in range(100)]
    )
    (row,) = ledger.report().rows
    assert row.model_id == f"batch:{MODEL}" and len(answers) == 100
    assert row.input_tokens == sum(a.raw["usage"]["prompt_tokens"] for a in answers) > 0
    assert summarize(ledger).batch_savings > 0 and ledger.open_reservations() == 0


def test_abatch_chat_over_the_budget_sends_nothing(server, jobs, s3_url, bucket, s3_client):
    from llama_index.core.llms import ChatMessage

    ledger = Ledger(max_cost=Decimal("0.0001"))
    batch = batch_mode(server, s3_url, bucket, ledger)
    with pytest.raises(BudgetExceededError):
        asyncio.run(batch.abatch_chat([[ChatMessage(role="user", content="x")]] * 100))
    assert server.requests == [] and "Contents" not in s3_client.list_objects_v2(Bucket=bucket)
