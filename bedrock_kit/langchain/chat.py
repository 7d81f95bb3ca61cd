"""``ChatBedrockKit``: a LangChain chat model over Bedrock Converse and ConverseStream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from operator import itemgetter
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from bedrock_kit.core.batch.runner import BatchSettings
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.core.chat.converse import (
    build_json_schema_output,
    build_tool_spec,
    parse_guardrail_config,
)
from bedrock_kit.core.chat.messages import guard_last_turn, guardrail_intervention_error
from bedrock_kit.core.chat.models import supports_tool_choice, validate_model_id
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.send import (
    Api,
    asend,
    asend_stream,
    build_chat_request,
    send,
    send_stream,
)
from bedrock_kit.core.chat.stream import CompletedDelta
from bedrock_kit.core.chat.token_estimate import estimate_invoke_tokens, estimate_request_tokens
from bedrock_kit.core.chat.types import ConverseResult, InferenceConfig, ToolSpec
from bedrock_kit.core.prompts.management import model_arguments
from bedrock_kit.errors import (
    AccessDeniedError,
    BedrockValidationError,
    ConfigurationError,
)
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._convert import ChunkBuilder, to_ai_message, to_core
from bedrock_kit.langchain.batch import BedrockBatchRunnable
from bedrock_kit.langchain.rate_limit import core_limiter
from bedrock_kit.langchain.tools import to_tool_spec


def _tool_spec(tool: Any, strict: bool | None) -> ToolSpec:
    if isinstance(tool, Mapping) and "toolSpec" in tool:  # Bedrock wire form
        wire = tool["toolSpec"]
        tool = ToolSpec(
            wire["name"],
            wire.get("description", ""),
            wire["inputSchema"]["json"],
            wire.get("strict"),
        )
    spec = to_tool_spec(tool)
    # Not OpenAI's strict conversion (every argument required): the flag alone is sent.
    return replace(spec, strict=strict) if strict is not None else spec


def _tool_choice(choice: Any, specs: Sequence[ToolSpec]) -> str | None:
    """LangChain tool_choice values -> the core's None / auto / any / tool name."""
    if choice is None or choice == "auto":
        return choice  # type: ignore[no-any-return]
    if choice in ("any", "required"):
        return "any"
    if choice is True:
        if len(specs) != 1:
            raise ConfigurationError("tool_choice=True needs exactly one tool")
        return specs[0].name
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        if not name:
            raise ConfigurationError(f"tool_choice dict names no tool: {choice!r}")
        return str(name)
    if isinstance(choice, str):
        return choice
    raise ConfigurationError(f"unsupported tool_choice {choice!r}")


class ChatBedrockKit(BedrockClientArgs, BaseChatModel):
    """Bedrock chat model over the Converse API with native async.

    Argument names match langchain-aws's ``ChatBedrockConverse`` where they overlap, so
    switching is a change of import.

    Example:
        .. code-block:: python

            from bedrock_kit.langchain import ChatBedrockKit

            llm = ChatBedrockKit(model="us.anthropic.claude-sonnet-4-20250514-v1:0")
            (prompt | llm | StrOutputParser()).invoke({"topic": "tides"})
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_id: str = Field(alias="model")
    """Foundation model id, inference-profile id, or model / profile ARN."""
    api: Api = "converse"
    """``converse`` (default) or ``invoke``: InvokeModel with the provider's native body."""
    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = None
    """Maximum output tokens."""
    top_p: float | None = None
    """Nucleus sampling mass."""
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences."""
    additional_model_request_fields: dict[str, Any] | None = None
    """Provider-specific request fields (e.g. ``{"thinking": {...}}``)."""
    additional_model_response_field_paths: list[str] | None = None
    """JSON pointers of provider-specific response fields to return."""
    guardrail_config: dict[str, Any] | None = None
    """``{"guardrailIdentifier", "guardrailVersion", "trace", "streamProcessingMode"}``."""
    guard_last_turn: bool = False
    """Wrap the last user turn in ``guardContent`` so the guardrail checks only it."""
    raise_on_guardrail_intervention: bool = False
    """Raise GuardrailInterventionError instead of returning the guardrail's answer."""
    ledger: Any = Field(default=None, exclude=True)
    """A :class:`bedrock_kit.Ledger`: every call is reserved before it is sent (refused with
    BudgetExceededError when it could cross a limit) and settled to billed usage after."""
    rate_limiter: Any = Field(default=None, exclude=True)
    """A LangChain ``BaseRateLimiter``, or bedrock-kit's
    :class:`~bedrock_kit.langchain.rate_limit.BedrockRateLimiter` / ``RateLimiter``: those
    limit each call by model, requests and tokens (worst case, corrected to billed usage)
    and slow down on throttling, shared across processes with ``RedisRates``."""

    _runtime: ConverseRuntime | None = PrivateAttr(default=None)
    _count_tokens_unsupported: bool = PrivateAttr(default=False)
    _limiter: RateLimiter | None = PrivateAttr(default=None)

    @field_validator("model_id")
    @classmethod
    def _check_model(cls, value: str) -> str:
        return validate_model_id(value)

    @field_validator("guardrail_config")
    @classmethod
    def _check_guardrail_config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        parse_guardrail_config(value)
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Validate client settings now, so bad arguments fail at construction."""
        self.client_settings()
        self._limiter = core_limiter(self.rate_limiter)
        if self._limiter is not None:
            # Ours is applied per call in the core (model, tokens); LangChain must not also
            # take a request from it before each call.
            self.rate_limiter = None

    @classmethod
    def from_prompt(cls, prompt: Any, **kwargs: Any) -> ChatBedrockKit:
        """A model configured from a Prompt Management template's model and settings.

        ``load_prompt(...) | ChatBedrockKit.from_prompt(template)``; ``kwargs`` win over the
        prompt's settings. See :func:`bedrock_kit.langchain.prompts.chat_model_for_prompt`.
        """
        return cls(**model_arguments(prompt.metadata or {}, kwargs))

    # ------------------------------------------------------------------ plumbing

    @property
    def runtime(self) -> ConverseRuntime:
        """The core runtime; its clients are built once and reused."""
        if self._runtime is None:
            self._runtime = ConverseRuntime(
                self.client_settings(), client=self.client, async_client=self.async_client
            )
        return self._runtime

    async def aclose(self) -> None:
        """Close this model's async client for the running event loop."""
        if self._runtime is not None:
            await self.runtime.pool.aclose()

    @property
    def _llm_type(self) -> str:
        return "bedrock-kit-converse"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "stop": self.stop,
            "guardrail_config": self.guardrail_config,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="amazon_bedrock",
            ls_model_name=kwargs.get("model") or self.model_id,
            ls_model_type="chat",
        )
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    def build_request(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None = None,
        *,
        stream: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The exact Converse (or InvokeModel) arguments a call with these arguments sends."""
        system, turns = to_core(messages)
        if self.guard_last_turn and self.guardrail_config:
            turns = guard_last_turn(turns)
        specs = [_tool_spec(t, kwargs.get("strict")) for t in kwargs.get("tools") or ()]
        return build_chat_request(
            self.api,
            validate_model_id(kwargs.get("model") or self.model_id),
            turns,
            system=system,
            inference=InferenceConfig(
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                temperature=kwargs.get("temperature", self.temperature),
                top_p=kwargs.get("top_p", self.top_p),
                stop_sequences=tuple(stop or self.stop or ()),
            ),
            tools=specs,
            tool_choice=_tool_choice(kwargs.get("tool_choice"), specs),
            guardrail=parse_guardrail_config(self.guardrail_config),
            additional_model_request_fields=self.additional_model_request_fields,
            additional_model_response_field_paths=self.additional_model_response_field_paths or (),
            output_config=kwargs.get("output_config"),
            stream=stream,
        )

    def _budget(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "limiter": self._limiter,
        }

    @property
    def limiter(self) -> RateLimiter | None:
        """The bedrock-kit rate limiter applied to each call, if one was given."""
        return self._limiter

    def _check_guardrail(self, result: ConverseResult) -> None:
        if self.raise_on_guardrail_intervention and result.guardrail_intervened:
            raise guardrail_intervention_error(result)

    # ------------------------------------------------------------------ calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = send(
            self.runtime,
            self.api,
            self.build_request(messages, stop, **kwargs),
            **self._budget(kwargs),
        )
        self._check_guardrail(result)
        return ChatResult(generations=[ChatGeneration(message=to_ai_message(result))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        result = await asend(
            self.runtime,
            self.api,
            self.build_request(messages, stop, **kwargs),
            **self._budget(kwargs),
        )
        self._check_guardrail(result)
        return ChatResult(generations=[ChatGeneration(message=to_ai_message(result))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        builder = ChunkBuilder()
        request = self.build_request(messages, stop, stream=True, **kwargs)
        for delta in send_stream(self.runtime, self.api, request, **self._budget(kwargs)):
            if isinstance(delta, CompletedDelta):
                self._check_guardrail(delta.result)
            chunk = builder.chunk(delta)
            if chunk is not None:
                generation = ChatGenerationChunk(message=chunk)
                if run_manager is not None:
                    run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        builder = ChunkBuilder()
        request = self.build_request(messages, stop, stream=True, **kwargs)
        async for delta in asend_stream(self.runtime, self.api, request, **self._budget(kwargs)):
            if isinstance(delta, CompletedDelta):
                self._check_guardrail(delta.result)
            chunk = builder.chunk(delta)
            if chunk is not None:
                generation = ChatGenerationChunk(message=chunk)
                if run_manager is not None:
                    await run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation

    # ------------------------------------------------------------------ tools

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool | ToolSpec],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, pydantic models, functions, dicts, ToolSpecs).

        Args:
            tools: The tools the model may call.
            tool_choice: ``auto``, ``any``/``required`` (must call one), a tool name, or
                True (the only tool).
            strict: Ask for schema-exact arguments where the model supports it.
        """
        specs = [_tool_spec(t, strict) for t in tools]
        for spec in specs:  # names and schemas fail now, not at the first call
            build_tool_spec(spec)
        return self.bind(tools=specs, tool_choice=_tool_choice(tool_choice, specs), **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling",
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Answers parsed into ``schema`` (pydantic class, TypedDict, JSON Schema, tool dict).

        Args:
            schema: The output schema.
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead of raising.
            method: ``function_calling`` (a forced tool call, every tool-capable model) or
                ``json_schema`` (Converse ``outputConfig``, models with structured output).
                ``json_mode`` is accepted as ``json_schema``: Bedrock's JSON output always
                takes a schema.
            strict: Schema-exact tool arguments where supported.
        """
        if kwargs:
            raise ConfigurationError(f"unexpected arguments: {sorted(kwargs)}")
        is_model = isinstance(schema, type) and is_basemodel_subclass(schema)
        if method == "function_calling":
            spec = _tool_spec(schema, strict)
            choice = spec.name if supports_tool_choice(self.model_id, "tool") else None
            llm = self.bind_tools([spec], tool_choice=choice)
            parser: Runnable[Any, Any] = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                if is_model
                else JsonOutputKeyToolsParser(key_name=spec.name, first_tool_only=True)
            )
        elif method in ("json_schema", "json_mode"):
            json_schema = convert_to_json_schema(schema)
            output = build_json_schema_output(
                json_schema,
                name=json_schema.get("title"),
                description=json_schema.get("description"),
            )
            llm = self.bind(output_config=output)
            parser = (
                PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
                if is_model
                else JsonOutputParser()
            )
        else:
            raise ConfigurationError(
                f"method must be 'function_calling', 'json_schema' or 'json_mode', got {method!r}"
            )
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks(
            [fallback], exception_key="parsing_error"
        )

    # ------------------------------------------------------------------ batch jobs

    def with_batch_inference(
        self, *, s3_uri: str, role_arn: str, **options: Any
    ) -> BedrockBatchRunnable:
        """This model with ``batch``/``abatch`` run as Bedrock batch inference jobs.

        Args:
            s3_uri: Where the input files go (``s3://bucket/prefix/``).
            role_arn: Service role Bedrock uses to read the input and write the output.
            **options: :class:`~bedrock_kit.core.batch.runner.BatchSettings` fields:
                ``output_s3_uri``, ``name``, ``quotas``, ``below_minimum``, ``poll``,
                ``timeout``, ``progress``, ``timeout_hours``, ``tags``, endpoints and S3
                clients.

        See :mod:`bedrock_kit.langchain.batch`.
        """
        return BedrockBatchRunnable(
            self, BatchSettings(s3_uri=s3_uri, role_arn=role_arn, **options)
        )

    # ------------------------------------------------------------------ tokens

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Input tokens of ``messages`` (and ``tools``) from Bedrock's CountTokens API.

        Models without CountTokens support fall back to the documented estimate, which errs
        high for every script (:mod:`bedrock_kit.core.chat.token_estimate`; remembered per
        model object, so the API is not asked again).
        """
        request = self.build_request(messages, tools=list(tools or ()))
        if self.api == "converse" and not self._count_tokens_unsupported:
            try:
                return self.runtime.count_tokens(request)
            except (BedrockValidationError, AccessDeniedError):
                self._count_tokens_unsupported = True
        return _estimate_tokens(request)


def _estimate_tokens(request: Mapping[str, Any]) -> int:
    if "body" in request:  # InvokeModel: the provider body holds prompt and tools
        return estimate_invoke_tokens(request["body"])
    return estimate_request_tokens(request)
