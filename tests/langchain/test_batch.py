"""ChatBedrockKit(...).with_batch_inference(...): an LCEL chain's batch as Bedrock batch jobs.

Real HTTP: moto's S3 server and LocalBedrock's job operations (bedrock_kit.testing).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.batch.records import BatchQuotas
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import BatchJobError, BatchRecordError, ConfigurationError
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.testing.batch_jobs import JobScript, LocalBatchJobs

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


def chat(server, **kwargs) -> ChatBedrockKit:
    return ChatBedrockKit(
        model=MODEL, max_tokens=40, endpoint_url=server.endpoint_url, region_name="us-east-1",
        **kwargs,
    )  # fmt: skip


def batch_mode(server, s3_url, bucket, llm=None, **options):
    llm = llm or chat(server)
    return llm.with_batch_inference(
        s3_uri=f"s3://{bucket}/lc/", role_arn=ROLE, s3_endpoint_url=s3_url, poll=0.01, **options
    )


def test_an_lcel_chain_switches_to_batch_mode(server, jobs, s3_url, bucket):
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "ticket {n}")])
    chain = prompt | batch_mode(server, s3_url, bucket) | StrOutputParser()
    answers = chain.batch([{"n": i} for i in range(120)])
    assert answers == [f"echo: ticket {i}" for i in range(120)]
    (created,) = [r.body for r in server.requests_for("CreateModelInvocationJob")]
    assert created["modelId"] == MODEL
    assert server.requests_for("Converse") == []  # not one online call


def test_batch_returns_what_llm_batch_would(server, jobs, s3_url, bucket):
    runnable = batch_mode(server, s3_url, bucket)
    inputs = ["plain text", [SystemMessage("sys"), HumanMessage("as messages")]] * 50
    messages = runnable.batch(inputs)
    assert all(isinstance(m, AIMessage) for m in messages) and len(messages) == 100
    assert messages[1].content == "echo: as messages"
    assert messages[0].usage_metadata["input_tokens"] > 0
    assert messages[0].response_metadata["raw_stop_reason"] == "end_turn"
    bodies = [json.loads(line)["modelInput"] for line in _input_lines(jobs)]
    assert bodies[1]["system"] == "sys" and bodies[0]["max_tokens"] == 40


def _input_lines(jobs) -> list[str]:
    (arn,) = jobs.jobs
    job = jobs._jobs[arn]
    return [json.dumps(record) for _, records in job.files for record in records]


def test_record_errors_raise_or_stay_in_place(server, jobs, s3_url, bucket):
    jobs.script(
        JobScript(record_errors={2: (400, "bad request")}),
        JobScript(record_errors={2: (400, "bad request")}),
    )
    runnable = batch_mode(server, s3_url, bucket)
    with pytest.raises(BatchRecordError, match="bad request"):
        runnable.batch([f"q{i}" for i in range(100)])
    kept = runnable.batch([f"q{i}" for i in range(100)], return_exceptions=True)
    assert isinstance(kept[2], BatchRecordError) and isinstance(kept[3], AIMessage)


def test_abatch_polls_natively(server, jobs, s3_url, bucket):
    runnable = batch_mode(server, s3_url, bucket)
    messages = asyncio.run(runnable.abatch([f"a{i}" for i in range(100)]))
    assert messages[99].content == "echo: a99"


def test_submit_now_read_later_after_attach(server, jobs, s3_url, bucket):
    runnable = batch_mode(server, s3_url, bucket, quotas=BatchQuotas(max_records=100))
    job = runnable.submit([f"s{i}" for i in range(200)])
    assert len(job.job_arns) == 2
    settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
    s3 = ClientSettings(region_name="us-east-1", endpoint_url=s3_url)
    later = BedrockBatchJob.attach(*job.job_arns, settings=settings, s3_settings=s3)
    later.wait(poll=0.01)
    messages = runnable.messages(later.results())
    assert [m.content for m in messages][150] == "echo: s150"


def test_one_input_is_an_online_call_and_few_inputs_need_permission(server, jobs, s3_url, bucket):
    runnable = batch_mode(server, s3_url, bucket)
    assert runnable.invoke("single").content == "echo: single"
    with pytest.raises(BatchJobError, match="below_minimum='online'"):
        runnable.batch(["one", "two"])
    assert runnable.batch([]) == []


def test_guardrails_are_refused_not_bypassed(server, s3_url, bucket):
    guarded = chat(server, guardrail_config={"guardrailIdentifier": "g1", "guardrailVersion": "1"})
    with pytest.raises(ConfigurationError, match="no guardrail"):
        batch_mode(server, s3_url, bucket, llm=guarded).batch(["x"] * 100)
    with pytest.raises(ConfigurationError, match="below_minimum"):
        batch_mode(server, s3_url, bucket, below_minimum="maybe")
    assert server.requests == []
