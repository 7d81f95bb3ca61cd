"""Ledger tags on batch inference: a call's ``ledger_tags=`` tags the whole batch's
reservation and its settlement."""

from __future__ import annotations

import pytest

from bedrock_kit import Ledger, summarize
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing.batch_jobs import LocalBatchJobs

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


def test_llama_index_batch_takes_per_call_ledger_tags(server, jobs, s3_url, bucket):
    ledger = Ledger(max_cost=5)
    llm = BedrockKitLLM(model=MODEL, max_tokens=40, ledger=ledger, **server.client_kwargs())
    batch = llm.with_batch_inference(
        s3_uri=f"s3://{bucket}/li/", role_arn=ROLE, s3_endpoint_url=s3_url, poll=0.01
    )
    batch.batch_complete([f"t{i}" for i in range(100)], ledger_tags={"tenant": "acme"})
    summary = summarize(ledger)
    assert summary.by_tag["tenant=acme"].calls == 1
    assert summary.by_tag["tenant=acme"].cost == ledger.spent() > 0
