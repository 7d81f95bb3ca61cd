"""BedrockKitLLM(...).with_batch_inference(...): prompts and chat histories as batch jobs.

Real HTTP: moto's S3 server and LocalBedrock's job operations (bedrock_kit.testing).
"""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.llms import ChatMessage, ChatResponse, CompletionResponse

from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.batch.records import BatchQuotas
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import BatchJobError, BatchRecordError, ConfigurationError
from bedrock_kit.llama_index import BedrockKitLLM
from bedrock_kit.testing.batch_jobs import JobScript, LocalBatchJobs

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


def llm(server, **kwargs) -> BedrockKitLLM:
    return BedrockKitLLM(
        model=MODEL, max_tokens=40, endpoint_url=server.endpoint_url, region_name="us-east-1",
        **kwargs,
    )  # fmt: skip


def batch_mode(server, s3_url, bucket, model=None, **options):
    return (model or llm(server)).with_batch_inference(
        s3_uri=f"s3://{bucket}/li/", role_arn=ROLE, s3_endpoint_url=s3_url, poll=0.01, **options
    )


def test_batch_complete_returns_what_complete_would(server, jobs, s3_url, bucket):
    responses = batch_mode(server, s3_url, bucket).batch_complete([f"doc {i}" for i in range(120)])
    assert all(isinstance(r, CompletionResponse) for r in responses)
    assert [r.text for r in responses] == [f"echo: doc {i}" for i in range(120)]
    assert responses[0].raw["usage"]["prompt_tokens"] > 0
    assert server.requests_for("Converse") == []  # not one online call


def test_batch_chat_takes_histories(server, jobs, s3_url, bucket):
    history = [ChatMessage(role="system", content="sys"), ChatMessage(role="user", content="hi")]
    responses = batch_mode(server, s3_url, bucket).batch_chat([history] * 100)
    assert all(isinstance(r, ChatResponse) for r in responses)
    assert responses[5].message.content == "echo: hi"
    assert responses[5].additional_kwargs["stop_reason"] == "end_turn"


def test_record_errors_raise_or_stay_in_place(server, jobs, s3_url, bucket):
    failing = JobScript(record_errors={2: (400, "bad request")})
    jobs.script(failing, failing)
    batch = batch_mode(server, s3_url, bucket)
    with pytest.raises(BatchRecordError, match="bad request"):
        batch.batch_complete([f"q{i}" for i in range(100)])
    kept = batch.batch_complete([f"q{i}" for i in range(100)], return_exceptions=True)
    assert isinstance(kept[2], BatchRecordError) and isinstance(kept[3], CompletionResponse)


def test_async_batches_poll_natively(server, jobs, s3_url, bucket):
    batch = batch_mode(server, s3_url, bucket)
    completions = asyncio.run(batch.abatch_complete([f"a{i}" for i in range(100)]))
    chats = asyncio.run(batch.abatch_chat([[ChatMessage(role="user", content="c")]] * 100))
    assert completions[99].text == "echo: a99" and chats[0].message.content == "echo: c"


def test_submit_now_read_later_after_attach(server, jobs, s3_url, bucket):
    batch = batch_mode(server, s3_url, bucket, quotas=BatchQuotas(max_records=100))
    job = batch.submit_complete([f"s{i}" for i in range(200)])
    assert len(job.job_arns) == 2
    settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
    s3 = ClientSettings(region_name="us-east-1", endpoint_url=s3_url)
    later = BedrockBatchJob.attach(*job.job_arns, settings=settings, s3_settings=s3)
    later.wait(poll=0.01)
    assert batch.completion_responses(later.results())[150].text == "echo: s150"


def test_one_input_is_an_online_call_and_few_inputs_need_permission(server, jobs, s3_url, bucket):
    batch = batch_mode(server, s3_url, bucket)
    assert batch.complete("single").text == "echo: single"
    with pytest.raises(BatchJobError, match="below_minimum='online'"):
        batch.batch_complete(["one", "two"])
    assert batch.batch_chat([]) == []


def test_guardrails_are_refused_not_bypassed(server, s3_url, bucket):
    guarded = llm(server, guardrail_config={"guardrailIdentifier": "g1", "guardrailVersion": "1"})
    with pytest.raises(ConfigurationError, match="no guardrail"):
        batch_mode(server, s3_url, bucket, model=guarded).batch_complete(["x"] * 100)
    assert server.requests == []
