"""Provisioned throughput and custom model storage on a ledger, against LocalBedrock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bedrock_kit import Ledger, summarize
from bedrock_kit.core.budget.recurring import recurring_charges
from bedrock_kit.core.customization.charges import charge_storage
from bedrock_kit.core.customization.jobs import CustomizationJob
from bedrock_kit.core.customization.serving import ProvisionedThroughput, provision
from bedrock_kit.core.customization.wire import CustomModel
from bedrock_kit.errors import (
    BudgetExceededError,
    ConfigurationError,
    MalformedResponseError,
    ProvisioningFailedError,
    ThrottlingError,
)
from bedrock_kit.testing import Reply, resources

BASE = "amazon.nova-lite-v1:0:300k"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/m1"
PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt-billing"
MODEL = CustomModel(arn=MODEL_ARN, name="m1", base_model_id=BASE)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CREATE = "CreateProvisionedModelThroughput"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(clock: Clock) -> Ledger:
    led = Ledger(count_tokens=False)
    recurring_charges(led, clock=clock)
    return led


def created(local) -> None:
    local.script(CREATE, Reply.json(resources.create_provisioned_reply(PT_ARN)))


def test_create_accrues_units_times_rate_times_hours_and_delete_stops(
    local, local_settings, ledger, clock
):
    created(local)
    handle = ProvisionedThroughput.create(
        MODEL,
        model_units=2,
        name="tickets-pt",
        ledger=ledger,
        hourly_rate="23.50",
        settings=local_settings,
    )
    assert local.requests_for(CREATE)[0].body["modelUnits"] == 2
    book = recurring_charges(ledger)
    (row,) = book.usage()
    assert row.charge.resource == PT_ARN and row.charge.rate_source == "user"
    clock.advance(hours=17)
    assert book.accrued() == 2 * Decimal("23.50") * 17
    local.script("DeleteProvisionedModelThroughput", Reply.json({}))
    handle.delete()
    clock.advance(hours=100)
    assert book.accrued() == 2 * Decimal("23.50") * 17
    summary = summarize(ledger, hours=730)
    assert summary.by_operation["provisioned"].cost == Decimal(799)
    assert summary.forecast is not None and summary.forecast.recurring == Decimal(799)


def test_refused_before_the_request_when_the_month_cannot_hold_it(local, local_settings, ledger):
    recurring_charges(ledger, max_cost_per_month="10000")
    with pytest.raises(BudgetExceededError, match="refused before the request") as err:
        ProvisionedThroughput.create(
            MODEL,
            model_units=1,
            name="too-dear",
            commitment="OneMonth",
            ledger=ledger,
            hourly_rate="14",  # 10,220 a month
            settings=local_settings,
        )
    assert "too-dear" in str(err.value)
    assert local.requests_for(CREATE) == []
    assert recurring_charges(ledger).held() == 0


def test_a_ledger_without_a_rate_is_refused_by_name_before_the_request(local, local_settings):
    with pytest.raises(ConfigurationError, match="no confirmed provisioned throughput rate"):
        ProvisionedThroughput.create(
            MODEL, model_units=1, name="pt", ledger=Ledger(), settings=local_settings
        )
    with pytest.raises(ConfigurationError, match="hourly_rate= needs ledger="):
        ProvisionedThroughput.create(
            MODEL, model_units=1, name="pt", hourly_rate="1", settings=local_settings
        )
    with pytest.raises(ConfigurationError, match="inference profiles cannot use"):
        ProvisionedThroughput.create(
            "us.amazon.nova-lite-v1:0", model_units=1, name="pt", settings=local_settings
        )
    assert local.requests_for(CREATE) == []


def test_a_failed_create_releases_the_hold(local, local_settings, ledger):
    recurring_charges(ledger, max_cost_per_month="800")
    local.script(CREATE, Reply.error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ThrottlingError):
        ProvisionedThroughput.create(
            MODEL,
            model_units=1,
            name="pt",
            ledger=ledger,
            hourly_rate="1",
            settings=local_settings,
        )
    book = recurring_charges(ledger)
    assert len(local.requests_for(CREATE)) == 1
    assert book.held() == 0 and book.usage() == []
    created(local)  # the released hold leaves room for the same purchase
    ProvisionedThroughput.create(
        MODEL, model_units=1, name="pt", ledger=ledger, hourly_rate="1", settings=local_settings
    )
    assert len(book) == 1


def test_a_malformed_create_answer_stays_charged_by_name(local, local_settings, ledger):
    local.script(CREATE, Reply.json({}))
    with pytest.raises(MalformedResponseError):
        ProvisionedThroughput.create(
            MODEL, model_units=1, name="pt-x", ledger=ledger, hourly_rate="1",
            settings=local_settings,
        )  # fmt: skip
    assert [u.charge.resource for u in recurring_charges(ledger).usage()] == ["pt-x"]


def test_failed_provisioning_ends_the_charge(local, local_settings, ledger, clock):
    created(local)
    local.script(
        "GetProvisionedModelThroughput",
        Reply.json(
            resources.provisioned_throughput(
                "Failed", provisioned_model_arn=PT_ARN, failure_message="no capacity"
            )
        ),
    )
    with pytest.raises(ProvisioningFailedError, match="no capacity"):
        provision(
            MODEL,
            model_units=1,
            name="pt",
            ledger=ledger,
            hourly_rate="3",
            poll_interval=0,
            settings=local_settings,
        )
    clock.advance(hours=5)
    assert recurring_charges(ledger).accrued() == 0


async def test_async_create_and_delete(local, local_settings, ledger, clock):
    created(local)
    handle = await ProvisionedThroughput.acreate(
        MODEL,
        model_units=3,
        name="pt-async",
        commitment="OneMonth",
        ledger=ledger,
        hourly_rate="10",
        settings=local_settings,
    )
    clock.advance(hours=4)
    local.script("DeleteProvisionedModelThroughput", Reply.json({}))
    await handle.adelete()
    clock.advance(hours=6)
    book = recurring_charges(ledger)
    assert book.accrued() == Decimal(3 * 10 * 10)  # a committed term accrues on after delete
    clock.advance(hours=1000)
    assert book.accrued() == Decimal(3 * 10 * 730)
    assert local.requests_for(CREATE)[0].body["commitmentDuration"] == "OneMonth"


async def test_async_refusal_sends_nothing(local, local_settings, ledger):
    recurring_charges(ledger, max_cost_per_month="1")
    with pytest.raises(BudgetExceededError):
        await ProvisionedThroughput.acreate(
            MODEL, model_units=1, name="pt", ledger=ledger, hourly_rate="1",
            settings=local_settings,
        )  # fmt: skip
    assert local.requests_for(CREATE) == []


def _job_replies(local) -> str:
    job = resources.customization_job("Completed", output_model_arn=MODEL_ARN)
    local.script("GetModelCustomizationJob", Reply.json(job))
    local.script("GetCustomModel", Reply.json(resources.custom_model(model_arn=MODEL_ARN)))
    return str(job["jobArn"])


def test_job_wait_records_the_custom_models_storage(local, local_settings, ledger, clock):
    job = CustomizationJob.attach(_job_replies(local), settings=local_settings)
    model = job.wait(poll_interval=0, progress=False, ledger=ledger, storage_rate="1.46")
    assert model.arn == MODEL_ARN
    clock.advance(hours=73)
    book = recurring_charges(ledger)
    assert book.accrued() == Decimal("0.146")  # 1.46 a month x 73 / 730 hours
    summary = summarize(ledger)
    assert summary.by_operation["storage"].cost == Decimal("0.146")
    assert any(n.startswith(f"storage:{MODEL_ARN}") for n in summary.unverified_prices)


async def test_async_job_wait_records_storage_and_needs_a_rate(local, local_settings, ledger):
    job = CustomizationJob.attach(_job_replies(local), settings=local_settings)
    with pytest.raises(ConfigurationError, match="no confirmed customization rate"):
        await job.await_(poll_interval=0, progress=False, ledger=ledger)
    assert local.requests_for("GetModelCustomizationJob") == []  # refused before polling
    await job.await_(poll_interval=0, progress=False, ledger=ledger, storage_rate="2")
    assert [u.charge.operation for u in recurring_charges(ledger).usage()] == ["storage"]


def test_charge_storage_directly(ledger, clock):
    charge_storage(ledger, MODEL, monthly_rate="7.30", start=T0 - timedelta(hours=10))
    assert recurring_charges(ledger).accrued() == Decimal("0.1")
