"""Every keyword argument the LlamaIndex classes take besides their own fields, in one place.

A class's fields (and their validation aliases) are always accepted; these tables add the
spellings users of LlamaIndex's own Bedrock packages bring (``context_size=``...) and name
the arguments bedrock-kit deliberately does not take, with what to do instead. Anything else
is an :class:`~bedrock_kit.errors.UnknownArgumentError` naming the closest valid argument.
Adding a field to a class accepts it at once (fields win over the refusals below).
"""

from __future__ import annotations

from bedrock_kit.core.transport.arguments import Arguments

__all__ = ["CLIENT", "LLM_CALL", "LLM_CONSTRUCTOR", "NO_EXTRA"]

NO_EXTRA = Arguments(frozenset())
"""No spellings or refusals beyond a class's fields."""

CLIENT = Arguments(
    frozenset(),
    refused={
        "botocore_session": "pass credentials_profile_name= or explicit keys, or inject "
        "client= / async_client=",
        "botocore_config": "pass timeout=, max_retries= and retry_mode=, or inject client= "
        "built with your botocore Config",
        "config": "pass timeout=, max_retries= and retry_mode=, or inject client= built with "
        "your botocore Config",
        "api_key": "Bedrock API keys are taken by BedrockKitLLM only (api_key=); use AWS "
        "credentials (a profile, access keys or a role) here",
    },
)
"""Client arguments of every class (on top of :class:`BedrockClientArgs`'s fields)."""

LLM_CONSTRUCTOR = CLIENT.extend(
    aliases={"context_size": "context_window"},  # llama-index-llms-bedrock-converse's name
    refused={
        "additional_kwargs": "pass additional_model_request_fields=",
        "guardrail_identifier": "pass guardrail_config={'guardrailIdentifier': ..., "
        "'guardrailVersion': ...}",
        "guardrail_version": "pass guardrail_config={'guardrailIdentifier': ..., "
        "'guardrailVersion': ...}",
        "guardrail_stream_processing_mode": "pass guardrail_config={..., "
        "'streamProcessingMode': ...}",
        "trace": "pass guardrail_config={..., 'trace': ...}",
        "application_inference_profile_arn": "pass the profile ARN as model=",
        "provider": "the provider is read from the model id",
    },
)
"""BedrockKitLLM's constructor."""

LLM_CALL = Arguments(
    frozenset(
        {
            "tools",
            "tool_choice",
            "temperature",
            "max_tokens",
            "top_p",
            "stop",
            "deadline",
            "body",
            "system_tools",
            "service_tier",
            "performance_config",
            "request_metadata",
            "prompt_variables",
        }
    ),
    aliases={"stop_sequences": "stop"},
    refused={
        "tool_config": "pass tools= (or use chat_with_tools / predict_and_call)",
        "guardrail_config": "set guardrail_config= on the LLM",
        "system_prompt": "put a system message first, or set system_prompt= on the LLM",
        "model": "set model= on the LLM (one model per LLM object)",
        "model_id": "set model= on the LLM (one model per LLM object)",
    },
)
"""Per-call keyword arguments of BedrockKitLLM (``chat(messages, **kw)``, ``complete``...)."""
