"""BedrockBatchJob.attach(..., ledger=): a job attached from another process, or after a
restart, settles against the ledger when it ends; the reservation of a Redis-shared ledger
outlives the process that made it (a lease of its own, renewed by whoever waits) and is
charged once, whichever process settles it.

Real HTTP: moto's S3 server and LocalBedrock's job operations; a real redis-server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from bedrock_kit.core.batch import billing
from bedrock_kit.core.batch.job import BedrockBatchJob
from bedrock_kit.core.batch.records import BatchQuotas
from bedrock_kit.core.budget.ledger import Ledger
from bedrock_kit.core.budget.redis_store import RedisStore
from bedrock_kit.core.chat.invoke import InvokeInput
from bedrock_kit.core.chat.types import InferenceConfig, Message, TextBlock
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.testing.batch_jobs import LocalBatchJobs

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
def clients(server, s3_url) -> dict[str, Any]:
    return {
        "settings": ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url),
        "s3_settings": ClientSettings(region_name="us-east-1", endpoint_url=s3_url),
    }


@pytest.fixture
def stores(redis_url, redis_budget):
    """RedisStores on one budget, each standing for one process (its own owner and lease)."""
    made: list[RedisStore] = []

    def make(lease: float = 30.0) -> RedisStore:
        store = RedisStore(redis_url, name=redis_budget, lease_seconds=lease)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
    if made:
        made[0].clear()


def submit(bucket: str, clients: dict[str, Any], ledger: Ledger, n: int = 150) -> BedrockBatchJob:
    return BedrockBatchJob.submit(
        MODEL,
        [ask(i) for i in range(n)],
        s3_uri=f"s3://{bucket}/b/",
        role_arn=ROLE,
        quotas=QUOTAS,
        ledger=ledger,
        **clients,
    )


def row(ledger: Ledger) -> Any:
    (found,) = [r for r in ledger.report().rows if r.model_id == ROW]
    return found


def test_a_job_submitted_by_a_process_that_exits_settles_in_the_process_that_attaches(
    jobs, clients, bucket, stores
) -> None:
    first = stores(lease=0.3)
    submitter = Ledger(store=first, max_cost=5)
    job = submit(bucket, clients, submitter)
    held = submitter.reserved()
    assert held > 0 and job.reservation is not None
    assert job.reservation.lease_seconds == billing.lease_seconds(None)
    first.close()  # the submitting process is gone: its own lease lapses...
    time.sleep(0.6)
    other = Ledger(store=stores(), max_cost=5)
    # ...but the batch's hold has a lease of its own: still held, not charged as expired.
    assert other.reserved() == held and other.open_reservations() == 1 and other.spent() == 0
    again = BedrockBatchJob.attach(*job.job_arns, ledger=other, **clients)
    assert again.reservation is not None and again.reservation.state == "open"
    again.wait(poll=0.01)
    cost = again.cost()
    assert other.spent() == cost.batch > 0 and other.reserved() == 0
    assert other.open_reservations() == 0
    booked = row(other)
    manifest = again.manifest()
    assert (booked.calls, booked.expired, booked.usage_missing) == (1, 0, 0)
    assert (booked.input_tokens, booked.output_tokens) == (
        manifest.input_tokens,
        manifest.output_tokens,
    )
    # A third process attaching, or the first handle waiting, charges nothing again.
    third = Ledger(store=stores())
    late = BedrockBatchJob.attach(*job.job_arns, ledger=third, **clients)
    assert late.reservation is not None and late.reservation.state == "finished"
    late.wait(poll=0.01)
    job.wait(poll=0.01)
    assert third.spent() == other.spent() == cost.batch and row(third).calls == 1


def test_a_waiting_process_renews_the_lease_so_a_long_job_is_never_charged_as_expired(
    jobs, clients, bucket, stores, monkeypatch
) -> None:
    monkeypatch.setattr(billing, "lease_seconds", lambda hours: 0.6)
    ledger = Ledger(store=stores(), max_cost=5)
    job = submit(bucket, clients, ledger)
    watcher, done = Ledger(store=stores()), threading.Event()

    def watch() -> None:  # another process reading the budget gives up lapsed holds
        while not done.wait(0.05):
            watcher.reserved()

    thread = threading.Thread(target=watch)
    thread.start()
    started = time.monotonic()
    try:
        job.wait(poll=0.3)  # several polls: the job runs longer than one lease
    finally:
        done.set()
        thread.join()
    assert time.monotonic() - started > 0.6
    booked = row(ledger)
    assert booked.expired == 0 and booked.usage_missing == 0
    assert ledger.spent() == job.cost().batch and ledger.open_reservations() == 0


def test_renewing_keeps_the_hold_and_an_unrenewed_one_is_charged_once_when_it_lapses(
    jobs, clients, bucket, stores, monkeypatch
) -> None:
    monkeypatch.setattr(billing, "lease_seconds", lambda hours: 1.0)
    ledger = Ledger(store=stores(), max_cost=5)
    job = submit(bucket, clients, ledger)
    assert job.reservation is not None
    held = ledger.reserved()
    for _ in range(5):  # 1.5 s in all, longer than the lease
        time.sleep(0.3)
        assert job.reservation.renew() is True
    assert ledger.reserved() == held and ledger.open_reservations() == 1
    time.sleep(1.3)  # nobody renews: the store gives the hold up, charging all of it
    assert ledger.reserved() == 0 and ledger.spent() == held
    assert row(ledger).expired == 1
    assert job.reservation.renew() is False
    attached = BedrockBatchJob.attach(*job.job_arns, ledger=Ledger(store=stores()), **clients)
    assert attached.reservation is not None and attached.reservation.state == "finished"
    attached.wait(poll=0.01)
    assert ledger.spent() == held  # charged once: the lapsed hold is remembered


def test_after_a_restart_a_new_in_process_ledger_books_the_billed_tokens(
    jobs, clients, bucket
) -> None:
    before = Ledger(max_cost=5)
    job = submit(bucket, clients, before)
    restarted = Ledger()  # a new process: its ledger never held this batch
    again = BedrockBatchJob.attach(*job.job_arns, ledger=restarted, **clients)
    assert again.reservation is None
    again.wait(poll=0.01)
    cost = again.cost()
    booked = row(restarted)
    assert restarted.spent() == cost.batch > 0 and booked.calls == 1
    assert (booked.input_tokens, booked.output_tokens) == (
        again.manifest().input_tokens,
        again.manifest().output_tokens,
    )
    again.wait(poll=0.01)  # booked once
    assert restarted.spent() == cost.batch


def test_attach_in_the_same_process_settles_the_open_reservation_once(
    jobs, clients, bucket
) -> None:
    ledger = Ledger(max_cost=5)
    job = submit(bucket, clients, ledger)
    again = BedrockBatchJob.attach(*job.job_arns, ledger=ledger, **clients)
    assert again.reservation is not None and again.reservation.id == job.reservation.id  # type: ignore[union-attr]
    again.wait(poll=0.01)
    job.wait(poll=0.01)
    assert ledger.spent() == again.cost().batch and row(ledger).calls == 1
    assert ledger.open_reservations() == 0


def test_aattach_with_a_ledger_settles_on_async_wait(jobs, clients, bucket, stores) -> None:
    submitter = Ledger(store=stores())
    job = submit(bucket, clients, submitter)
    other = Ledger(store=stores())

    async def run() -> Decimal:
        again = await BedrockBatchJob.aattach(*job.job_arns, ledger=other, **clients)
        try:
            await again.async_wait(poll=0.01)
            return (await again.acost()).batch
        finally:
            await again.aclose()

    batch_cost = asyncio.run(run())
    assert other.spent() == submitter.spent() == batch_cost > 0
    assert other.open_reservations() == 0


def test_attach_refuses_a_ledger_that_is_not_one(clients) -> None:
    with pytest.raises(ConfigurationError, match="Ledger"):
        BedrockBatchJob.attach(
            "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc",
            ledger="ledger",
            **clients,
        )


def test_a_hold_id_is_unique_and_bad_leases_are_refused(stores) -> None:
    for store in (None, stores()):
        ledger = Ledger(store=store)
        ledger.reserve(MODEL, 10, 10, hold_id="batch-x", lease_seconds=60).settle_reserved()
        with pytest.raises(ConfigurationError, match="exists already"):
            ledger.reserve(MODEL, 10, 10, hold_id="batch-x", lease_seconds=60)
        for bad in (0, -1, True, "60"):
            with pytest.raises(ConfigurationError, match="lease_seconds"):
                ledger.reserve(MODEL, 10, 10, lease_seconds=bad)
        assert ledger.open_reservations() == 0
