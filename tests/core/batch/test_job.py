"""BedrockBatchJob over real HTTP: moto's S3 server and LocalBedrock's job operations.

Every job state, every fault the issue names (failed, partially completed, expired,
stopped, record errors, malformed output lines), the split into several jobs, attach after
a restart, the online fallback, sync and async.
"""

from __future__ import annotations

import json
import time

import pytest

from bedrock_kit.core.batch.job import BedrockBatchJob, parse_s3_uri
from bedrock_kit.core.batch.records import BatchQuotas
from bedrock_kit.core.chat.invoke import InvokeInput
from bedrock_kit.core.chat.types import ConverseResult, InferenceConfig, Message, TextBlock
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BatchJobError,
    BatchRecordError,
    ConfigurationError,
    MalformedBatchRecordError,
)
from bedrock_kit.testing import Reply
from bedrock_kit.testing.batch_jobs import JobScript, LocalBatchJobs

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"
QUOTAS = BatchQuotas(min_records=100, max_records=400)


def ask(i: int) -> InvokeInput:
    return InvokeInput(
        [Message("user", [TextBlock(f"question {i}")])], inference=InferenceConfig(max_tokens=30)
    )


@pytest.fixture
def jobs(server, s3_url):
    return LocalBatchJobs(server, s3_endpoint_url=s3_url).install()


@pytest.fixture
def clients(server, s3_url):
    return {
        "settings": ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url),
        "s3_settings": ClientSettings(region_name="us-east-1", endpoint_url=s3_url),
    }


def submit(bucket, clients, n: int, **kwargs) -> BedrockBatchJob:
    options = {"quotas": QUOTAS, **kwargs}
    return BedrockBatchJob.submit(
        MODEL, [ask(i) for i in range(n)], s3_uri=f"s3://{bucket}/batches/", role_arn=ROLE,
        **clients, **options,
    )  # fmt: skip


def texts(outcomes) -> list[str]:
    return [o.text if isinstance(o, ConverseResult) else type(o).__name__ for o in outcomes]


def test_round_trip_of_1000_records_in_three_jobs(server, jobs, clients, bucket, s3_client):
    started = time.monotonic()
    job = submit(bucket, clients, 1000)
    status = job.wait(poll=0.01)
    outcomes = job.results()
    elapsed = time.monotonic() - started
    print(f"\nbatch round trip: 1000 records, {len(job.job_arns)} jobs, {elapsed:.2f} s")
    assert len(job.job_arns) == 3 and status.state == "Completed"
    assert texts(outcomes) == [f"echo: question {i}" for i in range(1000)]
    created = [r.body for r in server.requests_for("CreateModelInvocationJob")]
    assert [c["modelId"] for c in created] == [MODEL] * 3
    assert all(c["roleArn"] == ROLE and c["clientRequestToken"] for c in created)
    folder = created[1]["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
    prefix = parse_s3_uri(folder)[1]
    (key,) = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert key.endswith("records-00000000400-00000000799.jsonl")
    first = json.loads(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()[0])
    assert first["recordId"] == "00000000400" and first["modelInput"]["max_tokens"] == 30
    manifest = job.manifest()
    assert (manifest.total_records, manifest.success_records, manifest.error_records) == (
        1000,
        1000,
        0,
    )
    assert manifest.input_tokens == sum(o.usage.input_tokens for o in outcomes)
    cost = job.cost()
    assert cost.batch * 2 == cost.on_demand > 0
    listed = job._io.bedrock.client.list_model_invocation_jobs()["invocationJobSummaries"]
    assert sorted(j["jobArn"] for j in listed) == sorted(job.job_arns)


def test_every_state_is_visited_and_the_progress_bar_follows(jobs, clients, bucket, capsys):
    jobs.script(JobScript(records_per_poll=40))
    job = submit(bucket, clients, 120)
    status = job.wait(poll=0.01, progress=True)
    (arn,) = job.job_arns
    history = jobs.history(arn)
    assert history == ["Submitted", "Validating", "Scheduled", "InProgress", "Completed"]
    assert status.jobs[0].processed_records == 120
    assert "120/120" in capsys.readouterr().err  # tqdm's bar reached the total


async def test_async_submit_wait_results_and_cost(jobs, clients, bucket):
    job = await BedrockBatchJob.asubmit(
        MODEL, [ask(i) for i in range(150)], s3_uri=f"s3://{bucket}/a", role_arn=ROLE, **clients
    )
    status = await job.async_wait(poll=0.01)
    outcomes = await job.aresults()
    assert status.done and texts(outcomes)[149] == "echo: question 149"
    assert (await job.amanifest()).success_records == 150
    assert (await job.acost()).batch > 0
    assert (await job.astatus()).state == "Completed"
    await job.aclose()


def test_a_failed_job_answers_every_record_with_its_reason(jobs, clients, bucket):
    jobs.script(JobScript(outcome="failed", message="Role cannot read the bucket"))
    job = submit(bucket, clients, 100)
    assert job.wait(poll=0.01).state == "Failed"
    outcomes = job.results()
    assert len(outcomes) == 100 and all(type(o) is BatchRecordError for o in outcomes)
    assert "Role cannot read the bucket" in str(outcomes[0]) and outcomes[0].error_code == "Failed"
    assert job.manifest().processed_records == 0 and job.cost().batch == 0


def test_partially_completed_keeps_answers_and_types_record_errors(jobs, clients, bucket):
    jobs.script(JobScript(record_errors={3: (400, "Malformed input request"), 7: (429, "slow")}))
    job = submit(bucket, clients, 100)
    assert job.wait(poll=0.01).state == "PartiallyCompleted"
    outcomes = job.results()
    assert isinstance(outcomes[3], BatchRecordError) and outcomes[3].status_code == 400
    assert outcomes[7].status_code == 429 and outcomes[7].record_id == "00000000007"
    assert sum(isinstance(o, ConverseResult) for o in outcomes) == 98
    manifest = job.manifest()
    assert (manifest.success_records, manifest.error_records) == (98, 2)


def test_an_expired_job_answers_what_it_processed_and_types_the_rest(jobs, clients, bucket):
    jobs.script(JobScript(outcome="expired", expire_after=60, message="Job timed out"))
    job = submit(bucket, clients, 100)
    assert job.wait(poll=0.01).state == "Expired"
    outcomes = job.results()
    assert texts(outcomes[:60]) == [f"echo: question {i}" for i in range(60)]
    late = outcomes[60:]
    assert all(isinstance(o, BatchRecordError) and o.error_code == "Expired" for o in late)
    assert "Job timed out" in str(late[0])


def test_stop_halts_running_jobs_and_the_rest_are_typed(jobs, clients, bucket):
    jobs.script(JobScript(records_per_poll=25))
    job = submit(bucket, clients, 100)
    for _ in range(5):  # to Validating, Scheduled, InProgress, then two polls of 25 records
        status = job.status()
    assert status.state == "InProgress" and status.processed_records == 50
    stopped = job.stop()  # LocalBedrock moves one state per poll: Stopping, then Stopped
    assert stopped.state in ("Stopping", "Stopped")
    assert job.wait(poll=0.01).state == "Stopped"
    assert "Stopping" in jobs.history(job.job_arns[0])
    outcomes = job.results()
    done = job.status().jobs[0].processed_records
    assert 50 <= done < 100 and sum(isinstance(o, ConverseResult) for o in outcomes) == done
    assert outcomes[99].error_code == "Stopped"
    assert job.stop().state == "Stopped"  # stopping a finished batch asks nothing more


def test_malformed_output_lines_are_typed_errors_never_gaps(jobs, clients, bucket):
    jobs.script(JobScript(malformed=[4], garbled=[9]))
    job = submit(bucket, clients, 100)
    job.wait(poll=0.01)
    outcomes = job.results()
    assert len(outcomes) == 100
    assert isinstance(outcomes[4], MalformedBatchRecordError) and outcomes[4].record_id.endswith(
        "4"
    )
    assert isinstance(outcomes[9], MalformedBatchRecordError) and "could not be parsed" in str(
        outcomes[9]
    )
    assert sum(isinstance(o, ConverseResult) for o in outcomes) == 98


def test_a_stopped_job_without_manifest_is_priced_from_its_records(jobs, clients, bucket):
    jobs.script(JobScript(records_per_poll=20, no_manifest=True))
    job = submit(bucket, clients, 100)
    for _ in range(4):
        job.status()
    job.stop()
    job.wait(poll=0.01)
    answered = [o for o in job.results() if isinstance(o, ConverseResult)]
    cost = job.cost()
    assert 0 < len(answered) < 100
    assert cost.input_tokens == sum(o.usage.input_tokens for o in answered) > 0


def test_attach_after_a_restart_gives_the_same_results(jobs, clients, bucket):
    job = submit(bucket, clients, 500)
    job.wait(poll=0.01)
    again = BedrockBatchJob.attach(*job.job_arns, **clients)
    assert again.model_id == MODEL and texts(again.results()) == texts(job.results())
    assert again.manifest() == job.manifest()


def test_results_before_the_end_and_wait_past_its_timeout_are_refused(jobs, clients, bucket):
    jobs.script(JobScript(records_per_poll=1))
    job = submit(bucket, clients, 100)
    with pytest.raises(BatchJobError, match="wait\\(\\) for it first"):
        job.results()
    with pytest.raises(BatchJobError, match=r"after 0\.05 s") as info:
        job.wait(poll=0.01, timeout=0.05)
    assert info.value.state in ("Validating", "Scheduled", "InProgress")


def test_below_the_minimum_is_refused_or_run_online(server, jobs, clients, bucket):
    with pytest.raises(BatchJobError, match="below_minimum='online'"):
        submit(bucket, clients, 40)
    assert server.requests == []  # nothing uploaded, nothing created

    def answer(request):
        text = request.body["messages"][0]["content"][0]["text"]
        return Reply.json(
            {
                "content": [{"type": "text", "text": f"online: {text}"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 5, "output_tokens": 3},
            }
        )

    server.set_default("InvokeModel", answer)
    job = submit(bucket, clients, 40, below_minimum="online", runtime=None)
    assert job.online and job.job_arns == () and job.status().state == "Completed"
    assert texts(job.results()) == [f"online: question {i}" for i in range(40)]
    cost = job.cost()
    assert cost.batch == cost.on_demand  # online calls pay the on-demand price
    assert job.manifest().input_tokens == 200


def test_a_job_refused_midway_names_those_already_running(jobs, clients, bucket):
    jobs.script(JobScript(), JobScript(reject=(400, "ServiceQuotaExceededException", "20 jobs")))
    with pytest.raises(BatchJobError, match="job 2 of 3 could not be created") as info:
        submit(bucket, clients, 1000)
    assert (
        jobs.jobs[0] in str(info.value) and info.value.error_code == "ServiceQuotaExceededException"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"role_arn": "not-a-role"}, "role_arn"),
        ({"s3_uri": "https://bucket/x"}, "s3://bucket"),
        ({"name": "has spaces"}, "name"),
        ({"timeout_hours": 2}, "timeout_hours"),
        ({"below_minimum": "skip"}, "below_minimum"),
        ({"colour": "blue"}, "unknown arguments"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(server, clients, kwargs, message):
    options = {"s3_uri": "s3://bucket/x", "role_arn": ROLE, **clients, **kwargs}
    with pytest.raises(ConfigurationError, match=message):
        BedrockBatchJob.submit(MODEL, [ask(1)] * 100, **options)
    assert server.requests == []
