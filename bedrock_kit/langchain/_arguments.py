"""Every keyword argument the LangChain classes take besides their own fields, in one place.

A class's fields (and their pydantic aliases) are always accepted; these tables add the
spellings langchain-aws users bring (``guardrails=`` for ``guardrail_config=``...) and name
the langchain-aws arguments bedrock-kit deliberately does not take, with what to do instead.
Anything else is an :class:`~bedrock_kit.errors.UnknownArgumentError` naming the closest
valid argument. Adding a field to a class accepts it at once, even if a table below refuses
it (fields win): extend here when a class learns a new argument.
"""

from __future__ import annotations

from bedrock_kit.core.transport.arguments import Arguments

__all__ = ["CHAT_CALL", "CHAT_CONSTRUCTOR", "CLIENT", "NO_CALL_ARGUMENTS"]

_NOT_YET = "not supported by bedrock-kit yet"

CLIENT = Arguments(
    frozenset(),
    aliases={"profile_name": "credentials_profile_name"},  # boto3's name for it
    refused={
        "config": "pass timeout=, max_retries= and retry_mode=, or inject client= built with "
        "your botocore Config",
        "bedrock_api_key": "Bedrock API keys are not supported; use AWS credentials (a "
        "profile, access keys or a role)",
        "api_key": "Bedrock API keys are not supported; use AWS credentials (a profile, "
        "access keys or a role)",
        "default_headers": f"custom request headers are {_NOT_YET}",
    },
)
"""Client arguments of every class (on top of :class:`BedrockClientArgs`'s fields)."""

CHAT_CONSTRUCTOR = CLIENT.extend(
    aliases={
        # langchain-aws ChatBedrockConverse names -> ChatBedrockKit fields
        "guardrails": "guardrail_config",
        "guard_last_turn_only": "guard_last_turn",
    },
    refused={
        "bedrock_client": "bedrock-kit makes no control-plane calls; inject the "
        "bedrock-runtime client with client=",
        "provider": "the provider is read from the model id (ARNs of provisioned and custom "
        "models need none)",
        "base_model_id": f"{_NOT_YET}: the model family is read from model=",
        "base_model": f"{_NOT_YET}: the model family is read from model=",
        "system": "pass the system prompt as a SystemMessage (first message)",
        "supports_tool_choice_values": "bedrock-kit knows which providers take tool_choice",
        "model_kwargs": "pass additional_model_request_fields=",
        "beta_use_converse_api": "ChatBedrockKit uses Converse (api='converse', the default) "
        "or InvokeModel (api='invoke')",
        "performance_config": _NOT_YET,
        "service_tier": _NOT_YET,
        "request_metadata": _NOT_YET,
        "output_config": "use with_structured_output(schema, method='json_schema')",
        "raw_blocks": "put Bedrock content-block dicts in the messages' content",
        "reasoning_effort": "pass additional_model_request_fields= (e.g. {'thinking': ...})",
    },
)
"""ChatBedrockKit's constructor: langchain-aws's names mapped or refused with advice."""

CHAT_CALL = Arguments(
    frozenset(
        {
            # used by build_request
            "tools",
            "tool_choice",
            "strict",
            "model",
            "max_tokens",
            "temperature",
            "top_p",
            "stop",
            "output_config",
            "response_format",
            "additional_model_request_fields",
            "request_metadata",
            "performance_config",
            "service_tier",
            "body",
            "system_tools",
            "prompt_variables",
            "deadline",
            # passed by LangChain itself, nothing to send
            "stream",
            "ls_structured_output_format",
            "structured_output_format",
        }
    ),
    aliases={"model_id": "model", "stop_sequences": "stop"},
    refused={
        "inference_config": "pass max_tokens=, temperature=, top_p= and stop=",
        "tool_config": "use bind_tools()",
        "guardrail_config": "set guardrail_config= on the model",
        "guardrails": "set guardrail_config= on the model",
        "system": "pass the system prompt as a SystemMessage",
        "disable_streaming": "set disable_streaming= on the model",
        "reasoning_effort": "pass additional_model_request_fields= (e.g. {'thinking': ...})",
        "cache_control": "add a cache point block to the message content",
    },
)
"""Per-call keyword arguments of ChatBedrockKit (``invoke(..., **kw)``, ``bind(**kw)``)."""

NO_CALL_ARGUMENTS = Arguments(frozenset())
"""For runnables whose calls take no keyword arguments: any given one is an error."""
