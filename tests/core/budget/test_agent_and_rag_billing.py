"""Agents' model tokens and RetrieveAndGenerate charged through ``ledger=`` (core and both
adapters, sync and async): a per-invocation cap reserved before the first request, settled to
the tokens the traces report; no cap with a ledger is refused by name."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bedrock_kit import BudgetExceededError, Ledger
from bedrock_kit.core.agents.requests import AgentSession, build_invoke_agent_request
from bedrock_kit.core.agents.runtime import AgentRuntime
from bedrock_kit.core.knowledge_bases.requests import GenerationCall
from bedrock_kit.core.knowledge_bases.runtime import KnowledgeBaseRuntime
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.testing import LocalBedrock, Reply

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
# What the agent's model billed, per its traces: two model calls.
CALLS = ((862, 161), (300, 40))


def _trace(input_tokens: int, output_tokens: int, model: str = HAIKU) -> list[dict]:
    base = {"agentId": "AG1", "sessionId": "s-1"}
    return [
        {
            "trace": {
                **base,
                "trace": {
                    "orchestrationTrace": {
                        "modelInvocationInput": {"foundationModel": model, "text": "{}"}
                    }
                },
            }
        },
        {
            "trace": {
                **base,
                "trace": {
                    "orchestrationTrace": {
                        "modelInvocationOutput": {
                            "metadata": {
                                "usage": {
                                    "inputTokens": input_tokens,
                                    "outputTokens": output_tokens,
                                }
                            }
                        }
                    }
                },
            }
        },
    ]


def _agent_reply() -> Reply:
    events = [e for calls in CALLS for e in _trace(*calls)]
    return Reply.events([*events, {"chunk": {"bytes": b"Sunny."}}])


def _billed() -> Decimal:
    # Haiku 4.5, priced by the model named in the trace (bare id: in-Region, +10%).
    inputs = sum(i for i, _ in CALLS)
    outputs = sum(o for _, o in CALLS)
    return (inputs * Decimal("0.0011") + outputs * Decimal("0.0055")) / 1000


def _settings(server: LocalBedrock) -> ClientSettings:
    return ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0)


def _request() -> dict:
    return build_invoke_agent_request("AG1", "ALIAS1", "Weather?", AgentSession(session_id="s-1"))


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
def test_agent_tokens_from_traces_settle_the_per_invocation_cap(mode: str) -> None:
    with LocalBedrock() as server:
        server.script("InvokeAgent", _agent_reply())
        ledger = Ledger(max_cost="1")
        runtime = AgentRuntime(_settings(server))
        budget = {"ledger": ledger, "max_tokens_per_invocation": 5000, "budget_model_id": HAIKU}
        if mode == "invoke":
            result = runtime.invoke(_request(), **budget)
        elif mode == "ainvoke":
            result = asyncio.run(runtime.ainvoke(_request(), **budget))
        else:
            result = [e for e in runtime.stream(_request(), **budget)][-1].result
    assert result.text == "Sunny."
    assert ledger.spent() == _billed()
    (row,) = ledger.report().rows
    assert row.model_id == f"agent:{HAIKU}"
    assert (row.input_tokens, row.output_tokens, row.calls) == (1162, 201, 1)
    assert ledger.open_reservations() == 0


def test_an_agent_with_a_ledger_and_no_cap_is_refused_before_any_request() -> None:
    with LocalBedrock() as server:
        runtime = AgentRuntime(_settings(server))
        with pytest.raises(ConfigurationError, match=r"agent AG1.*max_tokens_per_invocation"):
            runtime.invoke(_request(), ledger=Ledger())
        with pytest.raises(ConfigurationError, match="must be an int >= 1"):
            runtime.invoke(_request(), ledger=Ledger(), max_tokens_per_invocation=0)
        # A cap that could cross the limit: refused, nothing sent.
        with pytest.raises(BudgetExceededError, match=f"agent:{HAIKU}"):
            runtime.invoke(
                _request(),
                ledger=Ledger(max_cost="0.01"),
                max_tokens_per_invocation=5000,  # 5000 * 0.0055 / 1000 = 0.0275
                budget_model_id=HAIKU,
            )
        assert server.requests == []


def test_an_agent_without_traces_is_charged_its_whole_cap() -> None:
    with LocalBedrock() as server:
        server.script("InvokeAgent", Reply.events([{"chunk": {"bytes": b"Hi."}}]))
        ledger = Ledger()
        AgentRuntime(_settings(server)).invoke(
            _request(), ledger=ledger, max_tokens_per_invocation=1000, budget_model_id=HAIKU
        )
    assert ledger.spent() == Decimal("1000") * Decimal("0.0055") / 1000
    assert ledger.report().rows[0].usage_missing == 1


def test_langchain_and_llama_index_agents_take_ledger() -> None:
    from bedrock_kit.langchain import BedrockAgentRunnable
    from bedrock_kit.llama_index import BedrockAgentQueryEngine

    with LocalBedrock() as server:
        server.script("InvokeAgent", _agent_reply())
        server.script("InvokeAgent", _agent_reply())
        ledger = Ledger()
        lc = BedrockAgentRunnable(
            agent_id="AG1",
            agent_alias_id="ALIAS1",
            ledger=ledger,
            max_tokens_per_invocation=5000,
            budget_model_id=HAIKU,
            **server.client_kwargs(),
        )
        lc.invoke("Weather?")
        li = BedrockAgentQueryEngine(
            "AG1",
            "ALIAS1",
            ledger=ledger,
            max_tokens_per_invocation=5000,
            budget_model_id=HAIKU,
            **server.client_kwargs(),
        )
        asyncio.run(li.aquery("Weather?"))
    assert ledger.spent() == 2 * _billed()
    assert ledger.report().total.calls == 2


def _answer() -> Reply:
    return Reply.json({"output": {"text": "Twice a day."}, "sessionId": "s-1", "citations": []})


@pytest.mark.parametrize("mode", ["generate", "agenerate", "stream"])
def test_retrieve_and_generate_holds_and_charges_its_cap(mode: str) -> None:
    call = GenerationCall("tides?", HAIKU, knowledge_base_id="KB1")
    with LocalBedrock() as server:
        if mode == "stream":
            server.script(
                "RetrieveAndGenerateStream",
                Reply.events(
                    [{"output": {"text": "Twice a day."}}],
                    headers={"x-amzn-bedrock-knowledge-base-session-id": "s-1"},
                ),
            )
        else:
            server.script("RetrieveAndGenerate", _answer())
        ledger = Ledger()
        runtime = KnowledgeBaseRuntime(_settings(server))
        budget = {"ledger": ledger, "max_tokens_per_invocation": 2000}
        if mode == "generate":
            text = runtime.generate(call, **budget).text
        elif mode == "agenerate":
            text = asyncio.run(runtime.agenerate(call, **budget)).text
        else:
            text = "".join(getattr(d, "text", "") for d in runtime.stream_generate(call, **budget))
    assert text == "Twice a day."
    # RetrieveAndGenerate reports no tokens: the cap is charged, priced as the model.
    assert ledger.spent() == Decimal("2000") * Decimal("0.0055") / 1000
    (row,) = ledger.report().rows
    assert (row.model_id, row.usage_missing) == (f"retrieval:{HAIKU}", 1)


def test_retrieve_and_generate_adapters_take_ledger_and_need_a_cap() -> None:
    from bedrock_kit.langchain import BedrockRetrieveAndGenerate
    from bedrock_kit.llama_index import BedrockRetrieveAndGenerateQueryEngine

    with LocalBedrock() as server:
        server.script("RetrieveAndGenerate", _answer())
        server.script("RetrieveAndGenerate", _answer())
        ledger = Ledger()
        lc = BedrockRetrieveAndGenerate(
            knowledge_base_id="KB1",
            model=HAIKU,
            ledger=ledger,
            max_tokens_per_invocation=1000,
            **server.client_kwargs(),
        )
        assert lc.invoke("tides?")["answer"] == "Twice a day."
        li = BedrockRetrieveAndGenerateQueryEngine(
            knowledge_base_id="KB1",
            model=HAIKU,
            ledger=ledger,
            max_tokens_per_invocation=1000,
            **server.client_kwargs(),
        )
        assert str(li.query("tides?")) == "Twice a day."
        uncapped = BedrockRetrieveAndGenerate(
            knowledge_base_id="KB1", model=HAIKU, ledger=ledger, **server.client_kwargs()
        )
        with pytest.raises(ConfigurationError, match="RetrieveAndGenerate on KB1"):
            uncapped.invoke("tides?")
        assert len(server.requests) == 2
    assert ledger.spent() == 2 * Decimal("1000") * Decimal("0.0055") / 1000
