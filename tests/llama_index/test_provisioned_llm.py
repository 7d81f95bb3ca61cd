"""provisioned_llm: buy provisioned throughput on a ledger, get a BedrockKitLLM on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from llama_index.core.llms import ChatMessage

from bedrock_kit import Ledger
from bedrock_kit.core.budget.recurring import recurring_charges
from bedrock_kit.core.customization.wire import CustomModel
from bedrock_kit.errors import BudgetExceededError
from bedrock_kit.llama_index.chat import BedrockKitLLM
from bedrock_kit.llama_index.customization import aprovisioned_llm, provisioned_llm
from bedrock_kit.testing import Reply, resources

BASE = "amazon.nova-lite-v1:0:300k"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/m1"
PT_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt-li"
MODEL = CustomModel(arn=MODEL_ARN, name="m1", base_model_id=BASE)
CREATE = "CreateProvisionedModelThroughput"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _serve(server) -> None:
    server.script(CREATE, Reply.json(resources.create_provisioned_reply(PT_ARN)))
    server.script(
        "GetProvisionedModelThroughput",
        Reply.json(resources.provisioned_throughput("Creating", provisioned_model_arn=PT_ARN)),
        Reply.json(
            resources.provisioned_throughput(
                "InService", provisioned_model_arn=PT_ARN, base_model_id=BASE
            )
        ),
    )


def _client(server) -> dict[str, str]:
    return {"endpoint_url": server.endpoint_url, "region_name": "us-east-1"}


def test_provisioned_llm_charges_the_hours_not_the_tokens(server):
    clock = Clock()
    ledger = Ledger(count_tokens=False)
    recurring_charges(ledger, clock=clock, max_cost_per_month="20000")
    _serve(server)
    sleeps: list[float] = []
    chat = provisioned_llm(
        MODEL,
        model_units=2,
        name="pt-li",
        ledger=ledger,
        hourly_rate="12.5",
        poll_interval=7,
        sleep=sleeps.append,
        max_tokens=50,
        **_client(server),
    )
    assert isinstance(chat, BedrockKitLLM) and chat.model == PT_ARN
    assert chat.ledger is ledger and sleeps == [7]
    assert chat.chat([ChatMessage(role="user", content="hi")]).message.content
    assert ledger.spent() == 0  # calls on provisioned throughput are billed by the hour
    (row,) = ledger.report().rows
    assert row.model_id == f"provisioned:{MODEL_ARN}" and row.calls == 1 and row.cost == 0
    assert row.input_tokens > 0 and row.output_tokens > 0  # the tokens it served
    clock.now += timedelta(hours=9)
    assert recurring_charges(ledger).accrued() == 2 * Decimal("12.5") * 9
    assert server.requests_for(CREATE)[0].body["modelId"] == MODEL_ARN


async def test_async_provisioned_llm_refused_before_the_request(server):
    ledger = Ledger(count_tokens=False)
    recurring_charges(ledger, max_cost_per_month="100")
    with pytest.raises(BudgetExceededError):
        await aprovisioned_llm(
            MODEL, model_units=1, name="pt-li", ledger=ledger, hourly_rate="1", **_client(server)
        )
    assert server.requests_for(CREATE) == []
    _serve(server)
    chat = await aprovisioned_llm(
        MODEL,
        model_units=1,
        name="pt-li",
        ledger=Ledger(),
        hourly_rate="0.1",
        poll_interval=0,
        **_client(server),
    )
    assert chat.model == PT_ARN
    assert (await chat.achat([ChatMessage(role="user", content="hi")])).message.content
