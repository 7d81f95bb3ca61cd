"""BedrockBatchJob with ledger=: the whole batch reserved at the batch price before anything
is sent, settled to the manifests' token totals when it ends, released when it never started.

Real HTTP: moto's S3 server and LocalBedrock's job operations.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bedrock_kit.core.batch.billing import record_max_tokens
from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.batch.records import BatchQuotas, build_records
from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.pricing import batch_price, default_prices
from bedrock_kit.core.budget.summary import summarize
from bedrock_kit.core.chat.invoke import InvokeInput
from bedrock_kit.core.chat.token_estimate import estimate_invoke_tokens
from bedrock_kit.core.chat.types import InferenceConfig, Message, TextBlock
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import BatchJobError, BudgetExceededError, ConfigurationError
from bedrock_kit.testing import Reply
from bedrock_kit.testing.batch_jobs import JobScript, LocalBatchJobs

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"
QUOTAS = BatchQuotas(min_records=100, max_records=400)
ROW = f"batch:{MODEL}"


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
        MODEL, [ask(i) for i in range(n)], s3_uri=f"s3://{bucket}/b/", role_arn=ROLE,
        **clients, **options,
    )  # fmt: skip


def worst_case(n: int) -> tuple[int, int, Decimal]:
    bodies = [
        json.loads(r.line)["modelInput"] for r in build_records(MODEL, [ask(i) for i in range(n)])
    ]
    tokens_in = sum(estimate_invoke_tokens(json.dumps(b)) for b in bodies)
    tokens_out = sum(record_max_tokens(b) for b in bodies)
    price = batch_price(MODEL)
    cost = (Decimal(tokens_in) * price.worst_input + Decimal(tokens_out) * price.output) / 1000
    return tokens_in, tokens_out, cost


def row(ledger: Ledger, model_id: str = ROW):
    (found,) = [r for r in ledger.report().rows if r.model_id == model_id]
    return found


def bucket_keys(s3_client, bucket) -> list[str]:
    return [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_batch_over_the_budget_is_refused_before_any_request(
    server, jobs, clients, bucket, s3_client
):
    _, _, cost = worst_case(150)
    ledger = Ledger(max_cost=cost - Decimal("0.000001"))
    with pytest.raises(BudgetExceededError):
        submit(bucket, clients, 150, ledger=ledger)
    assert server.requests == []  # no CreateModelInvocationJob, nothing else
    assert bucket_keys(s3_client, bucket) == []  # not one input file uploaded
    assert ledger.reserved() == 0 and ledger.spent() == 0 and ledger.open_reservations() == 0


def test_the_whole_batch_is_reserved_at_the_batch_price_then_settled_to_the_manifest(
    jobs, clients, bucket
):
    tokens_in, tokens_out, cost = worst_case(150)
    ledger = Ledger(max_cost=cost)  # exactly the worst case fits
    job = submit(bucket, clients, 150, ledger=ledger)
    assert job.reservation is not None and job.reservation.model_id == ROW
    assert (job.reservation.input_tokens, job.reservation.max_output_tokens) == (
        tokens_in,
        tokens_out,
    )
    assert tokens_out == 150 * 30 and ledger.reserved() == cost and ledger.open_reservations() == 1
    job.wait(poll=0.01)
    manifest = job.manifest()
    assert ledger.open_reservations() == 0 and ledger.reserved() == 0
    booked = row(ledger)
    assert (booked.input_tokens, booked.output_tokens) == (
        manifest.input_tokens,
        manifest.output_tokens,
    )
    assert manifest.input_tokens > 0 and ledger.spent() == job.cost().batch < cost
    job.wait(poll=0.01)  # waiting again settles nothing twice
    assert ledger.spent() == job.cost().batch


def test_summarize_shows_the_batch_operation_and_its_savings(jobs, clients, bucket):
    ledger = Ledger(max_cost=5)
    job = submit(bucket, clients, 120, ledger=ledger)
    job.wait(poll=0.01)
    summary = summarize(ledger)
    cost = job.cost()
    assert list(summary.by_operation) == ["batch"]
    assert summary.by_operation["batch"].cost == cost.batch
    assert summary.batch_savings == cost.on_demand - cost.batch > 0


def test_record_errors_are_settled_to_what_the_manifest_bills(jobs, clients, bucket):
    jobs.script(JobScript(record_errors={3: (400, "Malformed input request")}))
    ledger = Ledger(max_cost=5)
    job = submit(bucket, clients, 100, ledger=ledger)
    assert job.wait(poll=0.01).state == "PartiallyCompleted"
    manifest = job.manifest()
    booked = row(ledger)
    assert manifest.error_records == 1 and booked.errors == 1
    assert (booked.input_tokens, booked.output_tokens) == (
        manifest.input_tokens,
        manifest.output_tokens,
    )


def test_a_failed_job_is_settled_to_nothing_billed(jobs, clients, bucket):
    jobs.script(JobScript(outcome="failed", message="Role cannot read the bucket"))
    ledger = Ledger(max_cost=5)
    job = submit(bucket, clients, 100, ledger=ledger)
    assert job.wait(poll=0.01).state == "Failed"
    assert ledger.spent() == 0 and ledger.reserved() == 0 and ledger.open_reservations() == 0


def test_a_submit_refused_by_bedrock_releases_the_reservation(jobs, clients, bucket):
    jobs.script(JobScript(reject=(400, "ServiceQuotaExceededException", "20 jobs")))
    ledger = Ledger(max_cost=5)
    with pytest.raises(BatchJobError, match="job 1 of 1 could not be created"):
        submit(bucket, clients, 150, ledger=ledger)
    assert ledger.reserved() == 0 and ledger.spent() == 0 and ledger.open_reservations() == 0
    assert ledger.report().total.errors == 1


def test_a_submit_refused_midway_charges_the_worst_case_of_the_jobs_left_running(
    jobs, clients, bucket
):
    jobs.script(JobScript(), JobScript(reject=(400, "ServiceQuotaExceededException", "20 jobs")))
    _, _, cost = worst_case(1000)
    ledger = Ledger(max_cost=5)
    with pytest.raises(BatchJobError, match="job 2 of 3"):
        submit(bucket, clients, 1000, ledger=ledger)
    assert ledger.open_reservations() == 0 and ledger.spent() == cost  # never less than billed


async def test_async_submit_reserves_and_async_wait_settles(jobs, clients, bucket):
    _, _, cost = worst_case(150)
    ledger = Ledger(max_cost=5)
    job = await BedrockBatchJob.asubmit(
        MODEL, [ask(i) for i in range(150)], s3_uri=f"s3://{bucket}/a/", role_arn=ROLE,
        quotas=QUOTAS, ledger=ledger, **clients,
    )  # fmt: skip
    assert ledger.reserved() == cost
    await job.async_wait(poll=0.01)
    manifest = await job.amanifest()
    assert row(ledger).input_tokens == manifest.input_tokens > 0
    assert ledger.spent() == (await job.acost()).batch and ledger.reserved() == 0
    await job.aclose()


async def test_async_submit_over_the_budget_sends_nothing(server, jobs, clients, bucket, s3_client):
    ledger = Ledger(max_cost=Decimal("0.0001"))
    with pytest.raises(BudgetExceededError):
        await BedrockBatchJob.asubmit(
            MODEL, [ask(i) for i in range(150)], s3_uri=f"s3://{bucket}/a/", role_arn=ROLE,
            quotas=QUOTAS, ledger=ledger, **clients,
        )  # fmt: skip
    assert server.requests == [] and bucket_keys(s3_client, bucket) == []


def test_below_the_minimum_online_is_charged_at_the_on_demand_price(server, jobs, clients, bucket):
    server.set_default(
        "InvokeModel",
        Reply.json(
            {
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 5, "output_tokens": 3},
            }
        ),
    )
    ledger = Ledger(max_cost=5)
    job = submit(bucket, clients, 40, below_minimum="online", runtime=None, ledger=ledger)
    booked = row(ledger, MODEL)
    assert (booked.input_tokens, booked.output_tokens) == (200, 120)
    on_demand = default_prices().price(MODEL)
    assert ledger.spent() == (200 * on_demand.input + 120 * on_demand.output) / 1000
    assert ledger.spent() == job.cost().on_demand and ledger.open_reservations() == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ledger": object()}, "ledger must be a bedrock_kit Ledger"),
        ({"ledger": Ledger(), "default_max_tokens": 0}, "default_max_tokens"),
    ],
)
def test_bad_ledger_arguments_are_refused_before_any_request(server, clients, kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        BedrockBatchJob.submit(
            MODEL, [ask(1)] * 100, s3_uri="s3://bucket/x", role_arn=ROLE, **clients, **kwargs
        )
    assert server.requests == []


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"max_tokens": 30}, 30),
        ({"max_gen_len": 64}, 64),
        ({"inferenceConfig": {"maxTokens": 12}}, 12),
        ({"inferenceConfig": {"max_new_tokens": 13}}, 13),
        ({"textGenerationConfig": {"maxTokenCount": 14}}, 14),
        ({"prompt": "no cap"}, 4096),
    ],
)
def test_each_providers_max_tokens_is_read(body, expected):
    assert record_max_tokens(body) == expected
