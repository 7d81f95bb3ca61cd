"""Bedrock Prompt Flows in LangChain: a flow alias as a Runnable.

Thin: LangChain inputs become a core InvokeFlow request; the result is the core
:class:`~bedrock_kit.core.flows.runtime.FlowResult` (outputs, completion reason, typed
traces, execution id), and ``stream`` yields the core's typed events as they arrive.
Mirrors :mod:`bedrock_kit.llama_index.flows`.

.. code-block:: python

    flow = BedrockFlowRunnable(flow_id="FLOW123456", flow_alias_id="ALIAS12345")
    result = flow.invoke("Make me a playlist")
    if result.needs_input:  # a multi-turn flow asks a question
        result = flow.resume(result, "Ten songs of jazz about the sea")
    result.output
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import ConfigDict, Field, PrivateAttr

from bedrock_kit._strict_arguments import check_call_arguments
from bedrock_kit.core.flows.billing import check_flow_budget
from bedrock_kit.core.flows.requests import (
    DEFAULT_INPUT_NODE,
    DEFAULT_INPUT_OUTPUT,
    FlowInput,
    build_invoke_flow_request,
)
from bedrock_kit.core.flows.runtime import FlowEvent, FlowResult, FlowRuntime
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._serial import LangChainSerializable
from bedrock_kit.langchain._tags import LedgerTags

__all__ = ["BedrockFlowRunnable", "FlowInput", "FlowResult"]


class BedrockFlowRunnable(
    LangChainSerializable, BedrockClientArgs, LedgerTags, RunnableSerializable[Any, Any]
):
    """A Bedrock Prompt Flow (InvokeFlow) as a LangChain Runnable, sync and native async.

    Input: a :class:`~bedrock_kit.core.flows.requests.FlowInput` (content for a node by
    name), or any JSON value (text, a dict...) sent to ``input_node`` on its output
    ``input_output_name``; a prompt value or message is sent as its text. ``invoke``
    returns a :class:`~bedrock_kit.core.flows.runtime.FlowResult`: ``output`` (the last
    output's document), every output by node, ``completion_reason``, typed ``traces``,
    ``execution_id``. ``stream`` yields the typed events (``FlowOutput``,
    ``FlowTraceEvent``, ``FlowInputRequest``) as they arrive and ends with
    ``FlowCompleted``.

    A multi-turn flow that asks a question ends with ``result.needs_input``;
    :meth:`resume` (or :meth:`aresume`) sends the user's answer to the node that asked,
    in the same execution.

    Raises (on calls):
        FlowExecutionError: The flow failed (a failure event, a completion reason other
            than ``SUCCESS`` / ``INPUT_REQUIRED``); ``partial`` holds what it produced.
        IncompleteStreamError: The stream broke before its completion event.
        MalformedResponseError: An event of an unknown type or shape.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    flow_id: str
    """Flow id (10 characters) or ARN."""
    flow_alias_id: str
    """Flow alias id or ARN (``TSTALIASID`` runs the draft)."""
    input_node: str = DEFAULT_INPUT_NODE
    """Node plain inputs go to."""
    input_output_name: str = DEFAULT_INPUT_OUTPUT
    """That node's output name."""
    enable_trace: bool = True
    """Ask for trace events (typed traces in the result)."""
    latency: Literal["standard", "optimized"] | None = None
    """Model performance configuration of the flow's model calls."""
    ledger: Any = Field(default=None, exclude=True)
    """A bedrock_kit Ledger: each call holds ``max_node_transitions_per_invocation`` node
    transitions before its request and settles to the nodes its traces show
    (:mod:`bedrock_kit.core.flows.billing`)."""
    max_node_transitions_per_invocation: int | None = None
    """Most node transitions one call may bill; required with ``ledger``."""

    _runtime: FlowRuntime | None = PrivateAttr(default=None)

    def __init__(self, **kwargs: Any) -> None:
        """Check arguments now, so a bad configuration fails at construction.

        Raises:
            ConfigurationError: A bad id, node name or client setting.
        """
        super().__init__(**kwargs)
        self.build_request("check")
        self.client_settings()
        self._flow_budget()

    def _flow_budget(self) -> None:
        check_flow_budget(
            self.ledger,
            self.max_node_transitions_per_invocation,
            flow=f"{self.flow_id}/{self.flow_alias_id}",
        )

    @property
    def runtime(self) -> FlowRuntime:
        """The core runtime; its clients are built once and reused."""
        if self._runtime is None:
            self._runtime = FlowRuntime(
                self.client_settings(),
                client=self.client,
                async_client=self.async_client,
                ledger=self.ledger,
                max_node_transitions_per_invocation=self.max_node_transitions_per_invocation,
            )
        return self._runtime

    def build_request(self, input: Any, execution_id: str | None = None) -> dict[str, Any]:
        """The core InvokeFlow request for one input (see the class docstring)."""
        if isinstance(input, PromptValue):
            input = input.to_string()
        elif isinstance(input, BaseMessage):
            input = input.text
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

    # -- Runnable interface

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the flow; returns its :class:`FlowResult`."""
        check_call_arguments(f"{type(self).__name__}.invoke", kwargs)

        def run(value: Any) -> FlowResult:
            with self._tagged():
                return self.runtime.invoke(self.build_request(value))

        return self._call_with_config(run, input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async :meth:`invoke` (aiobotocore)."""
        check_call_arguments(f"{type(self).__name__}.ainvoke", kwargs)

        async def run(value: Any) -> FlowResult:
            with self._tagged():
                return await self.runtime.ainvoke(self.build_request(value))

        return await self._acall_with_config(run, input, config, **kwargs)

    def _events(self, inputs: Iterator[Any]) -> Iterator[FlowEvent]:
        for input in inputs:
            yield from self._carry(None, partial(self.runtime.stream, self.build_request(input)))

    async def _aevents(self, inputs: AsyncIterator[Any]) -> AsyncIterator[FlowEvent]:
        async for input in inputs:
            amake = partial(self.runtime.astream, self.build_request(input))
            async for event in self._acarry(None, amake):
                yield event

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Stream typed flow events as they arrive; the last is ``FlowCompleted``."""
        check_call_arguments(f"{type(self).__name__}.stream", kwargs)
        yield from self._transform_stream_with_config(iter([input]), self._events, config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream`."""
        check_call_arguments(f"{type(self).__name__}.astream", kwargs)

        async def one() -> AsyncIterator[Any]:
            yield input

        async for event in self._atransform_stream_with_config(
            one(), self._aevents, config, **kwargs
        ):
            yield event

    # -- multi-turn

    def resume(self, result: FlowResult, answer: Any) -> FlowResult:
        """Answer the question of a flow waiting for input, in the same execution.

        Raises:
            FlowExecutionError: ``result`` asks for no input.
        """
        request = self.build_request(result.answer(answer), execution_id=result.execution_id)
        with self._tagged():
            return self.runtime.invoke(request)

    async def aresume(self, result: FlowResult, answer: Any) -> FlowResult:
        """Async :meth:`resume`."""
        request = self.build_request(result.answer(answer), execution_id=result.execution_id)
        with self._tagged():
            return await self.runtime.ainvoke(request)
