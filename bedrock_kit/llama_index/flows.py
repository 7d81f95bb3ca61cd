"""Bedrock Prompt Flows in LlamaIndex: a flow alias as a callable and as a Workflow.

Thin: inputs become a core InvokeFlow request; results are the core
:class:`~bedrock_kit.core.flows.runtime.FlowResult`. :class:`BedrockFlow` calls the flow
(sync and native async, streaming typed events); :class:`BedrockFlowWorkflow` runs it as a
LlamaIndex ``Workflow`` whose stream carries the flow's events, and whose multi-turn
questions are ``InputRequiredEvent`` s answered by ``HumanResponseEvent`` (the workflow's
human-in-the-loop protocol). Mirrors :mod:`bedrock_kit.langchain.flows`.

.. code-block:: python

    workflow = BedrockFlowWorkflow(BedrockFlow("FLOW123456", "ALIAS12345"))
    handler = workflow.run(input="Make me a playlist")
    async for event in handler.stream_events():
        if isinstance(event, FlowQuestionEvent):
            handler.ctx.send_event(HumanResponseEvent(response="Ten jazz songs"))
    result = await handler  # a FlowResult
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from functools import partial
from typing import Any, Literal

from llama_index.core.bridge.pydantic import SecretStr
from llama_index.core.workflow import (
    Context,
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    Workflow,
    step,
)
from pydantic import Field

from bedrock_kit.core.budget.tags import check_tags
from bedrock_kit.core.flows.billing import check_flow_budget
from bedrock_kit.core.flows.requests import (
    DEFAULT_INPUT_NODE,
    DEFAULT_INPUT_OUTPUT,
    FlowInput,
    build_invoke_flow_request,
)
from bedrock_kit.core.flows.runtime import (
    FlowCompleted,
    FlowEvent,
    FlowResult,
    FlowRuntime,
)
from bedrock_kit.core.transport.arguments import strict_keywords
from bedrock_kit.core.transport.clients import client_settings_from
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._tags import acarry, carry, tagged_call

__all__ = [
    "BedrockFlow",
    "BedrockFlowWorkflow",
    "FlowInput",
    "FlowQuestionEvent",
    "FlowResult",
    "FlowStreamEvent",
]


class BedrockFlow(OwnsClients):
    """A Bedrock Prompt Flow alias (InvokeFlow), sync and native async.

    ``invoke`` / ``ainvoke`` return a :class:`FlowResult` (``output``, outputs by node,
    ``completion_reason``, typed ``traces``, ``execution_id``); ``stream`` / ``astream``
    yield the typed events as they arrive, ending with ``FlowCompleted``. Plain inputs
    (any JSON value) go to ``input_node``; a :class:`FlowInput` names its node.

    Args:
        flow_id: Flow id (10 characters) or ARN.
        flow_alias_id: Alias id or ARN (``TSTALIASID`` runs the draft).
        input_node: Node plain inputs go to.
        input_output_name: That node's output name.
        enable_trace: Ask for trace events.
        latency: ``standard`` or ``optimized`` model performance.
        region_name: AWS region.
        endpoint_url: Custom endpoint (VPC endpoint, LocalBedrock).
        credentials_profile_name: Named AWS profile.
        aws_access_key_id: Explicit access key id.
        aws_secret_access_key: Explicit secret key.
        aws_session_token: Explicit session token.
        max_retries: Retries botocore makes.
        retry_mode: botocore retry mode (``standard``, ``adaptive``, ``legacy``).
        timeout: Read timeout in seconds.
        client: Injected boto3 ``bedrock-agent-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-agent-runtime`` client.
        ledger: A bedrock_kit Ledger: each call holds
            ``max_node_transitions_per_invocation`` node transitions before its request and
            settles to the nodes its traces show (:mod:`bedrock_kit.core.flows.billing`).
        max_node_transitions_per_invocation: Most node transitions one call may bill;
            required with ``ledger``.
        ledger_tags: Ledger tags charged with every call (``{"tenant": "acme"}``); a call's
            ``ledger_tags=`` wins for the same key.

    Raises:
        ConfigurationError: A bad id, node name or client setting; a ledger without the cap.
    """

    @strict_keywords
    def __init__(
        self,
        flow_id: str,
        flow_alias_id: str,
        *,
        input_node: str = DEFAULT_INPUT_NODE,
        input_output_name: str = DEFAULT_INPUT_OUTPUT,
        enable_trace: bool = True,
        latency: Literal["standard", "optimized"] | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        credentials_profile_name: str | None = None,
        aws_access_key_id: SecretStr | str | None = None,
        aws_secret_access_key: SecretStr | str | None = None,
        aws_session_token: SecretStr | str | None = None,
        max_retries: int | None = None,
        retry_mode: Literal["standard", "adaptive", "legacy"] = "standard",
        timeout: float | None = None,
        client: Any = None,
        async_client: Any = None,
        ledger: Any = None,
        max_node_transitions_per_invocation: int | None = None,
        ledger_tags: Mapping[str, Any] | None = None,
    ) -> None:
        check_flow_budget(
            ledger, max_node_transitions_per_invocation, flow=f"{flow_id}/{flow_alias_id}"
        )
        self.ledger = ledger
        self.ledger_tags = check_tags(ledger_tags)
        self.max_node_transitions_per_invocation = max_node_transitions_per_invocation
        self.flow_id = flow_id
        self.flow_alias_id = flow_alias_id
        self.input_node = input_node
        self.input_output_name = input_output_name
        self.enable_trace = enable_trace
        self.latency = latency
        settings = client_settings_from(
            region_name=region_name,
            endpoint_url=endpoint_url,
            credentials_profile_name=credentials_profile_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            max_retries=max_retries,
            retry_mode=retry_mode,
            timeout=timeout,
        )
        self.runtime = FlowRuntime(
            settings,
            client=client,
            async_client=async_client,
            ledger=ledger,
            max_node_transitions_per_invocation=max_node_transitions_per_invocation,
        )
        self.build_request("check")  # fail now on a bad id or node name

    def build_request(self, input: Any, execution_id: str | None = None) -> dict[str, Any]:
        """The core InvokeFlow request for one input."""
        if not isinstance(input, FlowInput):
            input = FlowInput(
                content=input, node_name=self.input_node, node_output_name=self.input_output_name
            )
        return build_invoke_flow_request(
            self.flow_id,
            self.flow_alias_id,
            input,
            execution_id=execution_id,
            enable_trace=self.enable_trace,
            latency=self.latency,
        )

    def invoke(
        self, input: Any, *, execution_id: str | None = None, ledger_tags: Any = None
    ) -> FlowResult:
        """Run the flow to its completion event (``ledger_tags``: this call's tags)."""
        request = self.build_request(input, execution_id)
        with tagged_call(self.ledger, self.ledger_tags, ledger_tags):
            return self.runtime.invoke(request)

    async def ainvoke(
        self, input: Any, *, execution_id: str | None = None, ledger_tags: Any = None
    ) -> FlowResult:
        """Async :meth:`invoke` (aiobotocore)."""
        request = self.build_request(input, execution_id)
        with tagged_call(self.ledger, self.ledger_tags, ledger_tags):
            return await self.runtime.ainvoke(request)

    def stream(
        self, input: Any, *, execution_id: str | None = None, ledger_tags: Any = None
    ) -> Iterator[FlowEvent]:
        """Typed events as they arrive; the last is ``FlowCompleted``."""
        make = partial(self.runtime.stream, self.build_request(input, execution_id))
        return carry(self.ledger, self.ledger_tags, make, ledger_tags)

    def astream(
        self, input: Any, *, execution_id: str | None = None, ledger_tags: Any = None
    ) -> AsyncIterator[FlowEvent]:
        """Async :meth:`stream`."""
        make = partial(self.runtime.astream, self.build_request(input, execution_id))
        return acarry(self.ledger, self.ledger_tags, make, ledger_tags)

    def resume(self, result: FlowResult, answer: Any) -> FlowResult:
        """Answer the question of a flow waiting for input, in the same execution.

        Raises:
            FlowExecutionError: ``result`` asks for no input.
        """
        return self.invoke(result.answer(answer), execution_id=result.execution_id)

    async def aresume(self, result: FlowResult, answer: Any) -> FlowResult:
        """Async :meth:`resume`."""
        return await self.ainvoke(result.answer(answer), execution_id=result.execution_id)


class FlowStreamEvent(Event):
    """A typed flow event (output, trace, input request), written to the workflow stream."""

    flow_event: Any = Field(
        description="The core event (FlowOutput, FlowTraceEvent, FlowInputRequest)."
    )


class FlowQuestionEvent(InputRequiredEvent):
    """The flow asks the user something; answer with ``HumanResponseEvent(response=...)``."""

    question: Any = Field(description="The question (the input request's document).")
    result: Any = Field(
        description="The FlowResult that asked (its execution id resumes the flow)."
    )


class BedrockFlowWorkflow(Workflow):
    """A Bedrock Prompt Flow as a LlamaIndex Workflow (native async).

    ``run(input=...)`` invokes the flow; every flow event goes to the workflow's event
    stream as a :class:`FlowStreamEvent`. When the flow asks for input, the workflow emits
    a :class:`FlowQuestionEvent` and waits for a ``HumanResponseEvent``, whose
    ``response`` resumes the same execution. The workflow's result is the final
    :class:`FlowResult`.

    Args:
        flow: The :class:`BedrockFlow` to run.
        max_turns: Most questions answered in one run before ConfigurationError.
        **workflow_args: ``timeout``, ``verbose``... of ``Workflow``.
    """

    def __init__(self, flow: BedrockFlow, *, max_turns: int = 10, **workflow_args: Any) -> None:
        if not isinstance(flow, BedrockFlow):
            raise ConfigurationError(
                f"BedrockFlowWorkflow needs a BedrockFlow, got {type(flow).__name__}"
            )
        if not isinstance(max_turns, int) or max_turns < 0:
            raise ConfigurationError(f"max_turns must be an int >= 0, got {max_turns!r}")
        super().__init__(**workflow_args)
        self.flow = flow
        self.max_turns = max_turns

    async def _run_flow(self, ctx: Context, input: Any, execution_id: str | None) -> FlowResult:
        result: FlowResult | None = None
        async for event in self.flow.astream(input, execution_id=execution_id):
            if isinstance(event, FlowCompleted):
                result = event.result
            else:
                ctx.write_event_to_stream(FlowStreamEvent(flow_event=event))
        assert result is not None  # the runtime always ends with FlowCompleted or raises
        return result

    async def _finish(self, ctx: Context, result: FlowResult) -> StopEvent | FlowQuestionEvent:
        if not result.needs_input:
            return StopEvent(result=result)
        turns = int(await ctx.store.get("turns", default=0))
        if turns >= self.max_turns:
            raise ConfigurationError(
                f"flow {result.flow} asked for input more than max_turns={self.max_turns} times"
            )
        await ctx.store.set("turns", turns + 1)
        await ctx.store.set("pending", result)
        question = result.input_request.content if result.input_request else None
        return FlowQuestionEvent(question=question, result=result)

    @step
    async def start(self, ctx: Context, ev: StartEvent) -> StopEvent | FlowQuestionEvent:
        """Invoke the flow with ``input`` (and ``execution_id`` to resume one)."""
        input = ev.get("input")
        if input is None:
            raise ConfigurationError("BedrockFlowWorkflow.run needs input=...")
        result = await self._run_flow(ctx, input, ev.get("execution_id"))
        return await self._finish(ctx, result)

    @step
    async def answer(self, ctx: Context, ev: HumanResponseEvent) -> StopEvent | FlowQuestionEvent:
        """Resume the execution waiting for input with the human's response."""
        pending: FlowResult = await ctx.store.get("pending")
        result = await self._run_flow(ctx, pending.answer(ev.response), pending.execution_id)
        return await self._finish(ctx, result)
