"""Bedrock Agents in LangChain: an agent as a Runnable, and as a tool for other agents.

Thin: LangChain inputs become a core request, core events become ``AIMessageChunk``s. The
return-of-control loop, trace parsing and wire shapes all live in :mod:`bedrock_kit.core`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.prompt_values import PromptValue, StringPromptValue
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from bedrock_kit._strict_arguments import StrictArguments, check_call_arguments
from bedrock_kit.core.agents.runtime import (
    AgentCompleted,
    AgentEvent,
    AgentResult,
    AgentRuntime,
    AgentSession,
    AgentTextChunk,
    AgentToolResult,
    AgentTraceEvent,
    InlineAgentConfig,
    build_inline_agent_request,
    build_invoke_agent_request,
)
from bedrock_kit.core.chat.tools import build_action_group
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._serial import LangChainSerializable
from bedrock_kit.langchain._tags import LedgerTags
from bedrock_kit.langchain.tools import to_local_tool

__all__ = ["BedrockAgent", "BedrockAgentRunnable", "BedrockAgentTool"]

_SESSION_KEYS = (
    "session_id",
    "session_attributes",
    "prompt_session_attributes",
    "end_session",
    "memory_id",
)
_ROLES = {"human": "user", "ai": "assistant"}


def _history(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Earlier turns as ``conversationHistory`` messages (user/assistant text only)."""
    history = []
    for message in messages:
        role = _ROLES.get(message.type)
        if role is None:
            raise ConfigurationError(
                f"BedrockAgentRunnable input: a {message.type!r} message cannot be sent to a "
                "Bedrock Agent; give user and assistant messages only"
            )
        history.append({"role": role, "content": [{"text": message.text}]})
    return history


class BedrockAgentRunnable(
    LangChainSerializable, BedrockClientArgs, LedgerTags, RunnableSerializable[Any, AIMessage]
):
    """A Bedrock Agent (or an inline agent) as a LangChain Runnable.

    Input: a string, a prompt value (so ``prompt | agent`` works), a message, a list of
    messages (the last is sent, earlier user and assistant turns go into
    ``conversationHistory``), or a dict with ``input`` plus any of
    ``session_id``, ``session_attributes``, ``prompt_session_attributes``, ``end_session``,
    ``memory_id``. Output: an ``AIMessage`` with every chunk's text; ``response_metadata``
    carries ``session_id``, ``memory_id``, ``agent_steps`` (typed trace steps),
    ``tool_outcomes``, ``citations``, ``request_ids``, ``return_control``. ``stream`` yields
    ``AIMessageChunk``s: text chunks as they arrive, steps and tool runs as metadata-only
    chunks, and a last chunk with the session data and usage.

    When the agent returns control, ``tools`` (LangChain tools) run locally: every requested
    call, in parallel, results sent back, until the answer or ``max_steps`` rounds.

    Example:
        .. code-block:: python

            agent = BedrockAgentRunnable(agent_id="TFMZVIWXR7", agent_alias_id="ZT7YYHO8TO",
                                         tools=[get_weather])
            agent.invoke("What's the weather in Seattle?").content
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)
    lc_code_fields: ClassVar[tuple[str, ...]] = ("tools",)

    agent_id: str | None = None
    """Agent id; None runs an inline agent (``foundation_model`` + ``instruction``)."""
    agent_alias_id: str | None = None
    """Agent alias id (``TSTALIASID`` is the draft)."""
    foundation_model: str | None = None
    """Inline agents: the model."""
    instruction: str | None = None
    """Inline agents: the instruction (at least 40 characters)."""
    action_groups: list[dict[str, Any]] | None = None
    """Inline agents: action groups; None builds one RETURN_CONTROL group from ``tools``."""
    tools: list[Any] = Field(default_factory=list)
    """LangChain tools answering return of control."""
    max_steps: int = 10
    """Most return-of-control rounds per call."""
    tool_error_state: Literal["FAILURE", "REPROMPT"] = "FAILURE"
    """``responseState`` sent when a tool raises."""
    session_id: str | None = None
    """Default session id; None starts a new session per call."""
    session_attributes: dict[str, str] = Field(default_factory=dict)
    """Default session attributes."""
    memory_id: str | None = None
    """Default memory id."""
    enable_trace: bool = True
    """Ask for trace events (typed steps)."""
    stream_final_response: bool = False
    """Ask Bedrock to stream the final answer in many chunks instead of one."""
    deployment: Any = Field(default=None, exclude=True)
    """The ``AgentDeployment`` when built by ``deploy_agent`` (what it changed)."""
    ledger: Any = Field(default=None, exclude=True)
    """A bedrock_kit Ledger: each call holds ``max_tokens_per_invocation`` before its first
    request and settles to the model tokens of its traces (the whole cap without them)."""
    max_tokens_per_invocation: int | None = None
    """Most model tokens one call may bill; required with ``ledger`` (an agent's use is not
    known in advance)."""
    budget_model_id: str | None = None
    """Model the agent runs, to price the hold (inline agents: ``foundation_model``)."""

    _runtime: AgentRuntime | None = PrivateAttr(default=None)
    _local_tools: list[Any] = PrivateAttr(default_factory=list)

    def __init__(self, **kwargs: Any) -> None:
        """Check arguments now, so a bad configuration fails at construction.

        Raises:
            ConfigurationError: On missing ids, a bad inline configuration, tools that
                cannot be described, or bad client settings.
        """
        super().__init__(**kwargs)
        # After pydantic, not inside it: pydantic would wrap ConfigurationError.
        self._local_tools = [to_local_tool(t) for t in self.tools]
        if self.agent_id is None:
            if not (self.foundation_model and self.instruction):
                raise ConfigurationError(
                    "BedrockAgentRunnable needs agent_id and agent_alias_id, or "
                    "foundation_model and instruction for an inline agent"
                )
            self._inline_config()
        elif not self.agent_alias_id:
            raise ConfigurationError("BedrockAgentRunnable: agent_alias_id is required")
        self.client_settings()

    # -- plumbing

    @property
    def runtime(self) -> AgentRuntime:
        """The core runtime; its clients are built once and reused."""
        if self._runtime is None:
            self._runtime = AgentRuntime(
                self.client_settings(), client=self.client, async_client=self.async_client
            )
        return self._runtime

    def _inline_config(self) -> InlineAgentConfig:
        groups = self.action_groups
        if groups is None and self._local_tools:
            specs = [t.spec for t in self._local_tools]
            groups = [build_action_group(specs, name="local_tools")]
        return InlineAgentConfig(
            foundation_model=str(self.foundation_model),
            instruction=str(self.instruction),
            action_groups=groups or (),
        )

    def build_request(self, input: Any) -> dict[str, Any]:
        """The core request for one input (see the class docstring for input forms)."""
        options: dict[str, Any] = {}
        text: Any = input
        history: list[dict[str, Any]] = []
        if isinstance(input, Mapping):
            unknown = set(input) - {"input", *_SESSION_KEYS}
            if unknown or "input" not in input:
                raise ConfigurationError(
                    f"BedrockAgentRunnable input dict needs 'input' and only the keys "
                    f"{_SESSION_KEYS}; got {sorted(input)}"
                )
            text = input["input"]
            options = {k: input[k] for k in _SESSION_KEYS if k in input}
        if isinstance(text, StringPromptValue):
            text = text.to_string()
        elif isinstance(text, PromptValue):
            text = text.to_messages()
        if isinstance(text, BaseMessage):
            text = text.text
        elif isinstance(text, list) and text and all(isinstance(m, BaseMessage) for m in text):
            history = _history(text[:-1])
            text = text[-1].text
        if not isinstance(text, str):
            raise ConfigurationError(
                f"BedrockAgentRunnable input must be text, messages or a dict, got {type(text)}"
            )
        session = AgentSession(
            session_id=options.get("session_id", self.session_id),
            session_attributes=options.get("session_attributes", self.session_attributes),
            prompt_session_attributes=options.get("prompt_session_attributes", {}),
            end_session=bool(options.get("end_session", False)),
            memory_id=options.get("memory_id", self.memory_id),
            enable_trace=self.enable_trace,
            stream_final_response=self.stream_final_response,
            session_state={"conversationHistory": {"messages": history}} if history else {},
        )
        if self.agent_id is None:
            return build_inline_agent_request(self._inline_config(), text, session)
        return build_invoke_agent_request(self.agent_id, str(self.agent_alias_id), text, session)

    def _loop_options(self) -> dict[str, Any]:
        return {
            "tools": self._local_tools,
            "max_steps": self.max_steps,
            "tool_error_state": self.tool_error_state,
            "ledger": self.ledger,
            "max_tokens_per_invocation": self.max_tokens_per_invocation,
            "budget_model_id": self.budget_model_id,
        }

    # -- conversions

    @staticmethod
    def _final_metadata(result: AgentResult) -> dict[str, Any]:
        return {
            "session_id": result.session_id,
            "memory_id": result.memory_id,
            "request_ids": list(result.request_ids),
            "return_control": result.return_control,
        }

    @classmethod
    def _to_message(cls, result: AgentResult) -> AIMessage:
        usage = result.usage
        metadata = {
            **cls._final_metadata(result),
            "agent_steps": list(result.steps),
            "tool_outcomes": list(result.tool_outcomes),
            "citations": list(result.citations),
            "agent_result": result,
        }
        return AIMessage(
            content=result.text,
            response_metadata=metadata,
            usage_metadata={
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "total_tokens": usage.total_tokens,
            },
        )

    @classmethod
    def _to_chunk(cls, event: AgentEvent) -> AIMessageChunk | None:
        if isinstance(event, AgentTextChunk):
            metadata = {"citations": list(event.citations)} if event.citations else {}
            return AIMessageChunk(content=event.text, response_metadata=metadata)
        if isinstance(event, AgentTraceEvent):
            return AIMessageChunk(content="", response_metadata={"agent_steps": [event.step]})
        if isinstance(event, AgentToolResult):
            return AIMessageChunk(content="", response_metadata={"tool_outcomes": [event.outcome]})
        if isinstance(event, AgentCompleted):
            usage = event.result.usage
            return AIMessageChunk(
                content="",
                response_metadata=cls._final_metadata(event.result),
                usage_metadata={
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "total_tokens": usage.total_tokens,
                },
                chunk_position="last",
            )
        return None  # returnControl / files: reflected in the final result

    # -- Runnable interface

    def _invoke(self, input: Any) -> AIMessage:
        with self._tagged():
            result = self.runtime.invoke(self.build_request(input), **self._loop_options())
        return self._to_message(result)

    async def _ainvoke(self, input: Any) -> AIMessage:
        with self._tagged():
            result = await self.runtime.ainvoke(self.build_request(input), **self._loop_options())
        return self._to_message(result)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:
        """Run the agent to its final answer."""
        check_call_arguments(f"{type(self).__name__}.invoke", kwargs)
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Async :meth:`invoke` (aiobotocore; async tools run concurrently)."""
        check_call_arguments(f"{type(self).__name__}.ainvoke", kwargs)
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def _chunks(self, inputs: Iterator[Any]) -> Iterator[AIMessageChunk]:
        for input in inputs:
            make = partial(self.runtime.stream, self.build_request(input), **self._loop_options())
            for event in self._carry(None, make):
                chunk = self._to_chunk(event)
                if chunk is not None:
                    yield chunk

    async def _achunks(self, inputs: AsyncIterator[Any]) -> AsyncIterator[AIMessageChunk]:
        async for input in inputs:
            request = self.build_request(input)
            amake = partial(self.runtime.astream, request, **self._loop_options())
            async for event in self._acarry(None, amake):
                chunk = self._to_chunk(event)
                if chunk is not None:
                    yield chunk

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessage]:
        """Stream ``AIMessageChunk``s: text as it arrives, steps as metadata chunks."""
        check_call_arguments(f"{type(self).__name__}.stream", kwargs)
        yield from self._transform_stream_with_config(iter([input]), self._chunks, config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessage]:
        """Async :meth:`stream`."""
        check_call_arguments(f"{type(self).__name__}.astream", kwargs)

        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self._atransform_stream_with_config(
            one(), self._achunks, config, **kwargs
        ):
            yield chunk

    def as_tool(
        self,
        args_schema: Any = None,
        *,
        name: str | None = None,
        description: str | None = None,
        arg_types: Any = None,
    ) -> BedrockAgentTool:
        """This agent as a LangChain tool taking one ``query`` string.

        Raises:
            ConfigurationError: When ``args_schema`` or ``arg_types`` is given (the tool's
                only argument is the query).
        """
        if args_schema is not None or arg_types is not None:
            raise ConfigurationError(
                "BedrockAgentRunnable.as_tool takes no args_schema/arg_types: the tool's "
                "only argument is the query"
            )
        return BedrockAgentTool(
            agent=self,
            name=name or "bedrock_agent",
            description=description or "Ask a Bedrock Agent; give the full request as query.",
        )


BedrockAgent = BedrockAgentRunnable
"""The name issue 6 uses for the Runnable."""


class _Query(BaseModel):
    query: str = Field(description="The full request for the agent, in plain language.")


class BedrockAgentTool(StrictArguments, BaseTool):
    """A Bedrock Agent as a LangChain tool, for a supervising LangChain/LangGraph agent.

    Every call continues the agent's ``session_id`` when one is set on the runnable.
    """

    agent: BedrockAgentRunnable
    """The agent to call."""
    name: str = "bedrock_agent"
    """The tool's name, as the supervising model sees it."""
    description: str = "Ask a Bedrock Agent; give the full request as query."
    """What the tool does, as the supervising model sees it."""
    args_schema: type[BaseModel] = _Query
    """The tool's arguments: one ``query`` string, the request for the agent."""

    def _run(self, query: str, run_manager: CallbackManagerForToolRun | None = None) -> str:
        return self.agent.invoke(query).text

    async def _arun(
        self, query: str, run_manager: AsyncCallbackManagerForToolRun | None = None
    ) -> str:
        return (await self.agent.ainvoke(query)).text
