"""Bedrock Agents in LlamaIndex: an agent as a query engine, and as a tool for FunctionAgent.

Thin: query bundles become core requests, core results become ``Response`` objects with
source nodes from the agent's citations. Mirrors :mod:`bedrock_kit.langchain.agents`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from functools import partial
from typing import Any, Literal

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import (
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.bridge.pydantic import SecretStr
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools import BaseTool, FunctionTool

from bedrock_kit.core.agents.runtime import (
    AgentCompleted,
    AgentResult,
    AgentRuntime,
    AgentSession,
    AgentTextChunk,
    InlineAgentConfig,
    build_inline_agent_request,
    build_invoke_agent_request,
)
from bedrock_kit.core.agents.tools import ResponseState
from bedrock_kit.core.budget.tags import check_tags
from bedrock_kit.core.chat.tools import build_action_group
from bedrock_kit.core.transport.arguments import strict_keywords
from bedrock_kit.core.transport.clients import client_settings_from
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._tags import acarry, carry, tagged_call
from bedrock_kit.llama_index.tools import to_local_tool

__all__ = ["BedrockAgentQueryEngine"]


def _source_nodes(result: AgentResult) -> list[NodeWithScore]:
    nodes = []
    for citation in result.citations:
        for ref in citation.references:
            metadata = {"uri": ref.uri, "location_type": ref.location_type, **ref.metadata}
            nodes.append(NodeWithScore(node=TextNode(text=ref.text, metadata=metadata)))
    return nodes


def _metadata(result: AgentResult) -> dict[str, Any]:
    return {
        "session_id": result.session_id,
        "memory_id": result.memory_id,
        "request_ids": list(result.request_ids),
        "agent_steps": list(result.steps),
        "tool_outcomes": list(result.tool_outcomes),
        "citations": list(result.citations),
        "return_control": result.return_control,
        "usage": result.usage,
        "agent_result": result,
    }


class BedrockAgentQueryEngine(OwnsClients, BaseQueryEngine):
    """A Bedrock Agent (or inline agent) as a LlamaIndex query engine.

    ``query`` returns a ``Response`` whose text joins every chunk, whose source nodes come
    from the agent's citations, and whose metadata holds ``session_id``, ``memory_id``,
    ``agent_steps`` (typed trace steps), ``tool_outcomes``, ``usage``, ``request_ids``.
    With ``streaming=True`` it returns a (Async)StreamingResponse of the chunks; metadata
    and source nodes fill in when the stream ends. When the agent returns control, ``tools``
    (LlamaIndex tools) run locally, in parallel, until the answer or ``max_steps`` rounds.

    Args:
        agent_id: Agent id; None runs an inline agent (``foundation_model`` + ``instruction``).
        agent_alias_id: Agent alias id.
        foundation_model: Inline agents: the model.
        instruction: Inline agents: the instruction (at least 40 characters).
        action_groups: Inline agents: action groups; None builds one RETURN_CONTROL group
            from ``tools``.
        tools: LlamaIndex tools (or typed functions) answering return of control.
        max_steps: Most return-of-control rounds per query.
        tool_error_state: ``responseState`` sent when a tool raises.
        session_id: Session to continue; None starts a new one per query.
        session_attributes: Session attributes sent with every query.
        memory_id: Long-term memory id.
        enable_trace: Ask for trace events.
        streaming: Return streaming responses.
        stream_final_response: Ask Bedrock to stream the final answer in many chunks.
        ledger: A bedrock_kit Ledger: each query holds ``max_tokens_per_invocation`` before
            its first request and settles to the model tokens of its traces.
        max_tokens_per_invocation: Most model tokens one query may bill; required with
            ``ledger``.
        budget_model_id: Model the agent runs, to price the hold.
        ledger_tags: Ledger tags charged with every query (``{"tenant": "acme"}``).
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

    Raises:
        ConfigurationError: On missing ids, bad tools or bad client settings.
    """

    @strict_keywords
    def __init__(
        self,
        agent_id: str | None = None,
        agent_alias_id: str | None = None,
        *,
        foundation_model: str | None = None,
        instruction: str | None = None,
        action_groups: Sequence[Mapping[str, Any]] | None = None,
        tools: Sequence[Any] = (),
        max_steps: int = 10,
        tool_error_state: ResponseState = "FAILURE",
        session_id: str | None = None,
        session_attributes: Mapping[str, str] | None = None,
        memory_id: str | None = None,
        enable_trace: bool = True,
        streaming: bool = False,
        stream_final_response: bool = False,
        ledger: Any = None,
        max_tokens_per_invocation: int | None = None,
        budget_model_id: str | None = None,
        ledger_tags: Mapping[str, Any] | None = None,
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
    ) -> None:
        super().__init__(callback_manager=None)
        if agent_id is None and not (foundation_model and instruction):
            raise ConfigurationError(
                "BedrockAgentQueryEngine needs agent_id and agent_alias_id, or "
                "foundation_model and instruction for an inline agent"
            )
        if agent_id is not None and not agent_alias_id:
            raise ConfigurationError("BedrockAgentQueryEngine: agent_alias_id is required")
        self.agent_id = agent_id
        self.agent_alias_id = agent_alias_id
        self.deployment: Any = None
        """The ``AgentDeployment`` when built by ``deploy_agent``."""
        self.ledger = ledger
        self.max_tokens_per_invocation = max_tokens_per_invocation
        self.budget_model_id = budget_model_id
        self.ledger_tags = check_tags(ledger_tags)
        self.local_tools = [to_local_tool(t) for t in tools]
        self.inline: InlineAgentConfig | None = None
        if agent_id is None:
            groups = action_groups
            if groups is None and self.local_tools:
                specs = [t.spec for t in self.local_tools]
                groups = [build_action_group(specs, name="local_tools")]
            self.inline = InlineAgentConfig(
                foundation_model=str(foundation_model),
                instruction=str(instruction),
                action_groups=tuple(groups or ()),
            )
        self.max_steps = max_steps
        self.tool_error_state: ResponseState = tool_error_state
        self.session_id = session_id
        self.session_attributes = dict(session_attributes or {})
        self.memory_id = memory_id
        self.enable_trace = enable_trace
        self.streaming = streaming
        self.stream_final_response = stream_final_response
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
        self.runtime = AgentRuntime(settings, client=client, async_client=async_client)
        # Fail now, not on the first query, on a bad id or session option.
        self.build_request("check")

    # -- plumbing

    def build_request(self, text: str) -> dict[str, Any]:
        """The core request for one query."""
        session = AgentSession(
            session_id=self.session_id,
            session_attributes=self.session_attributes,
            memory_id=self.memory_id,
            enable_trace=self.enable_trace,
            stream_final_response=self.stream_final_response,
        )
        if self.inline is not None:
            return build_inline_agent_request(self.inline, text, session)
        return build_invoke_agent_request(
            str(self.agent_id), str(self.agent_alias_id), text, session
        )

    def _options(self) -> dict[str, Any]:
        return {
            "tools": self.local_tools,
            "max_steps": self.max_steps,
            "tool_error_state": self.tool_error_state,
            "ledger": self.ledger,
            "max_tokens_per_invocation": self.max_tokens_per_invocation,
            "budget_model_id": self.budget_model_id,
        }

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}

    # -- queries

    def _query(self, query_bundle: QueryBundle) -> Response | StreamingResponse:
        request = self.build_request(query_bundle.query_str)
        if not self.streaming:
            with tagged_call(self.ledger, self.ledger_tags):
                result = self.runtime.invoke(request, **self._options())
            return Response(result.text, _source_nodes(result), _metadata(result))
        metadata: dict[str, Any] = {}
        nodes: list[NodeWithScore] = []

        make = partial(self.runtime.stream, request, **self._options())
        events = carry(self.ledger, self.ledger_tags, make)

        def chunks() -> Generator[str, None, None]:
            for event in events:
                if isinstance(event, AgentTextChunk) and event.text:
                    yield event.text
                elif isinstance(event, AgentCompleted):
                    metadata.update(_metadata(event.result))
                    nodes.extend(_source_nodes(event.result))

        return StreamingResponse(chunks(), source_nodes=nodes, metadata=metadata)

    async def _aquery(self, query_bundle: QueryBundle) -> Response | AsyncStreamingResponse:
        request = self.build_request(query_bundle.query_str)
        if not self.streaming:
            with tagged_call(self.ledger, self.ledger_tags):
                result = await self.runtime.ainvoke(request, **self._options())
            return Response(result.text, _source_nodes(result), _metadata(result))
        metadata: dict[str, Any] = {}
        nodes: list[NodeWithScore] = []

        amake = partial(self.runtime.astream, request, **self._options())
        events = acarry(self.ledger, self.ledger_tags, amake)

        async def chunks() -> AsyncGenerator[str, None]:
            async for event in events:
                if isinstance(event, AgentTextChunk) and event.text:
                    yield event.text
                elif isinstance(event, AgentCompleted):
                    metadata.update(_metadata(event.result))
                    nodes.extend(_source_nodes(event.result))

        return AsyncStreamingResponse(chunks(), source_nodes=nodes, metadata=metadata)

    # -- as a tool

    def as_tool(
        self,
        name: str = "bedrock_agent",
        description: str = "Ask a Bedrock Agent; give the full request as query.",
    ) -> BaseTool:
        """This agent as a LlamaIndex ``FunctionTool`` (sync and async) for FunctionAgent."""

        def ask(query: str) -> str:
            """Send the full request to the agent and return its answer."""
            return self._answer(self.query(query))

        async def aask(query: str) -> str:
            """Send the full request to the agent and return its answer."""
            response = await self.aquery(query)
            if isinstance(response, AsyncStreamingResponse):
                return "".join([text async for text in response.response_gen])
            return self._answer(response)

        return FunctionTool.from_defaults(fn=ask, async_fn=aask, name=name, description=description)

    @staticmethod
    def _answer(response: Any) -> str:
        if isinstance(response, StreamingResponse):
            return "".join(response.response_gen)
        return str(response.response or "")
