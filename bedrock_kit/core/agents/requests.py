"""Bedrock Agents requests: InvokeAgent and InvokeInlineAgent arguments, validated.

Pure builders: they check ids and limits before any request is made and keep Bedrock's
camelCase wire shape.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_kit.core.transport.validation import check_text
from bedrock_kit.errors import ConfigurationError

__all__ = [
    "AgentSession",
    "InlineAgentConfig",
    "build_inline_agent_request",
    "build_invoke_agent_request",
]

_AGENT_ID = re.compile(r"^[0-9a-zA-Z]{1,10}$")
_SESSION_ID = re.compile(r"^[0-9a-zA-Z._:-]{2,100}$")
_INSTRUCTION_MIN = 40


@dataclass(frozen=True)
class AgentSession:
    """Session options of one agent call."""

    session_id: str | None = None
    """Conversation id (2-100 of ``[0-9a-zA-Z._:-]``); None starts a new one."""
    session_attributes: Mapping[str, str] = field(default_factory=dict)
    """``sessionState.sessionAttributes``: kept by Bedrock for the whole session."""
    prompt_session_attributes: Mapping[str, str] = field(default_factory=dict)
    """``sessionState.promptSessionAttributes``: for this turn's prompt only."""
    end_session: bool = False
    """End the session after this call."""
    memory_id: str | None = None
    """Long-term memory id (agents with memory enabled; not for inline agents)."""
    enable_trace: bool = True
    """Ask for trace events (typed steps)."""
    session_state: Mapping[str, Any] = field(default_factory=dict)
    """Other ``sessionState`` keys sent as is (``knowledgeBaseConfigurations``, ``files``...)."""
    stream_final_response: bool = False
    """Stream the final answer in many chunks (``streamingConfigurations``) instead of one."""
    apply_guardrail_interval: int | None = None
    """With streaming: characters between guardrail checks of the streamed answer."""


@dataclass(frozen=True)
class InlineAgentConfig:
    """An agent defined at call time (InvokeInlineAgent)."""

    foundation_model: str
    """Model id or inference profile the agent runs on."""
    instruction: str
    """What the agent should do (Bedrock requires at least 40 characters)."""
    action_groups: Sequence[Mapping[str, Any]] = ()
    """Action groups, e.g. from ``build_action_group`` (RETURN_CONTROL or Lambda)."""
    agent_name: str | None = None
    """Optional agent name."""
    knowledge_bases: Sequence[Mapping[str, Any]] = ()
    """``knowledgeBases`` entries as Bedrock takes them."""
    guardrail_identifier: str | None = None
    """Guardrail id or ARN to apply."""
    guardrail_version: str | None = None
    """Guardrail version (required with the identifier)."""
    idle_session_ttl_seconds: int | None = None
    """Idle session timeout, 60-3600 s."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other InvokeInlineAgent arguments sent as is (``promptOverrideConfiguration``...)."""


def _check_id(value: Any, argument: str, pattern: re.Pattern[str], rule: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigurationError(f"{argument}={value!r} is invalid: {rule}")


def _session_fields(session: AgentSession, state_key: str) -> dict[str, Any]:
    if not isinstance(session, AgentSession):
        raise ConfigurationError(f"session must be an AgentSession, got {type(session).__name__}")
    session_id = session.session_id or uuid.uuid4().hex
    _check_id(session_id, "session_id", _SESSION_ID, "2-100 of letters, digits and ._:-")
    fields: dict[str, Any] = {
        "sessionId": session_id,
        "enableTrace": session.enable_trace,
        "endSession": session.end_session,
    }
    state: dict[str, Any] = dict(session.session_state)
    if session.session_attributes:
        state["sessionAttributes"] = dict(session.session_attributes)
    if session.prompt_session_attributes:
        state["promptSessionAttributes"] = dict(session.prompt_session_attributes)
    if state:
        fields[state_key] = state
    interval = session.apply_guardrail_interval
    if interval is not None and (not isinstance(interval, int) or interval < 1):
        raise ConfigurationError(f"apply_guardrail_interval must be an int >= 1, got {interval!r}")
    if session.stream_final_response or interval is not None:
        streaming: dict[str, Any] = {"streamFinalResponse": session.stream_final_response}
        if interval is not None:
            streaming["applyGuardrailInterval"] = interval
        fields["streamingConfigurations"] = streaming
    return fields


def build_invoke_agent_request(
    agent_id: str,
    agent_alias_id: str,
    input_text: str,
    session: AgentSession | None = None,
) -> dict[str, Any]:
    """InvokeAgent arguments.

    Raises:
        ConfigurationError: On a malformed agent, alias, session or memory id, or empty input.
    """
    _check_id(agent_id, "agent_id", _AGENT_ID, "1-10 letters or digits")
    _check_id(agent_alias_id, "agent_alias_id", _AGENT_ID, "1-10 letters or digits")
    if not isinstance(input_text, str) or not input_text:
        raise ConfigurationError("input_text must be a non-empty string")
    session = session or AgentSession()
    request: dict[str, Any] = {
        "agentId": agent_id,
        "agentAliasId": agent_alias_id,
        "inputText": input_text,
        **_session_fields(session, "sessionState"),
    }
    if session.memory_id is not None:
        _check_id(session.memory_id, "memory_id", _SESSION_ID, "2-100 of letters, digits, ._:-")
        request["memoryId"] = session.memory_id
    check_text(request, "invoke_agent request")
    return request


def build_inline_agent_request(
    config: InlineAgentConfig, input_text: str, session: AgentSession | None = None
) -> dict[str, Any]:
    """InvokeInlineAgent arguments.

    Raises:
        ConfigurationError: On a short instruction, half a guardrail, a bad TTL, a memory id
            (inline agents have none) or empty input.
    """
    if not config.foundation_model:
        raise ConfigurationError("InlineAgentConfig.foundation_model is required")
    if len(config.instruction or "") < _INSTRUCTION_MIN:
        raise ConfigurationError(
            f"InlineAgentConfig.instruction must be at least {_INSTRUCTION_MIN} characters "
            f"(Bedrock's minimum), got {len(config.instruction or '')}"
        )
    if bool(config.guardrail_identifier) != bool(config.guardrail_version):
        raise ConfigurationError(
            "InlineAgentConfig: guardrail_identifier and guardrail_version go together"
        )
    ttl = config.idle_session_ttl_seconds
    if ttl is not None and not 60 <= ttl <= 3600:
        raise ConfigurationError(f"idle_session_ttl_seconds must be 60-3600, got {ttl}")
    if not isinstance(input_text, str) or not input_text:
        raise ConfigurationError("input_text must be a non-empty string")
    session = session or AgentSession()
    if session.memory_id is not None:
        raise ConfigurationError("memory_id is not supported by inline agents")
    request: dict[str, Any] = {
        "foundationModel": config.foundation_model,
        "instruction": config.instruction,
        "inputText": input_text,
        **_session_fields(session, "inlineSessionState"),
    }
    if config.action_groups:
        request["actionGroups"] = [dict(group) for group in config.action_groups]
    if config.agent_name:
        request["agentName"] = config.agent_name
    if config.knowledge_bases:
        request["knowledgeBases"] = [dict(kb) for kb in config.knowledge_bases]
    if config.guardrail_identifier:
        request["guardrailConfiguration"] = {
            "guardrailIdentifier": config.guardrail_identifier,
            "guardrailVersion": config.guardrail_version,
        }
    if ttl is not None:
        request["idleSessionTTLInSeconds"] = ttl
    request.update(config.extra)
    check_text(request, "invoke_inline_agent request")
    return request
