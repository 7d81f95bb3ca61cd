"""Ledger tags on batch inference: a chain's ``bedrock_kit_tags`` metadata and the model's
``ledger_tags=`` tag the whole batch's reservation and its settlement."""

from __future__ import annotations

import asyncio

import pytest

from bedrock_kit import Ledger, summarize
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing.batch_jobs import LocalBatchJobs

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


def test_langchain_batch_charges_the_metadata_and_instance_tags(server, jobs, s3_url, bucket):
    ledger = Ledger(max_cost=5)
    llm = ChatBedrockKit(
        model=MODEL, max_tokens=40, ledger=ledger, ledger_tags={"feature": "triage"},
        **server.client_kwargs(),
    )  # fmt: skip
    runnable = llm.with_batch_inference(
        s3_uri=f"s3://{bucket}/lc/", role_arn=ROLE, s3_endpoint_url=s3_url, poll=0.01
    )
    config = {"metadata": {"bedrock_kit_tags": {"tenant": "acme"}}}
    runnable.batch([f"t{i}" for i in range(100)], config=config)  # type: ignore[arg-type]
    asyncio.run(runnable.abatch([f"u{i}" for i in range(100)]))
    summary = summarize(ledger)
    assert {k: v.calls for k, v in summary.by_tag.items()} == {
        "feature=triage": 2,
        "tenant=acme": 1,
    }
    assert summary.by_tag["feature=triage"].cost == ledger.spent() > 0
    assert 0 < summary.by_tag["tenant=acme"].cost < ledger.spent()
