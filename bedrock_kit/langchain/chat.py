"""``ChatBedrockKit``: a LangChain chat model over Bedrock Converse and ConverseStream."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from functools import partial
from operator import itemgetter
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, ValidationInfo, field_validator

from bedrock_kit._strict_arguments import check_call_arguments
from bedrock_kit.core.batch.runner import BatchSettings
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.core.chat.count import acount_input_tokens, count_input_tokens
from bedrock_kit.core.chat.guardrail_config import parse_guardrail_config
from bedrock_kit.core.chat.messages import guard_last_turn, guardrail_intervention_error
from bedrock_kit.core.chat.models import (
    check_model_region,
    checked_model,
    is_application_profile,
    profile_base,
    remember_profile_base,
    supports_tool_choice,
    validate_model_id,
)
from bedrock_kit.core.chat.profiles import InferenceProfiles
from bedrock_kit.core.chat.request_fields import (
    check_performance_config,
    check_request_metadata,
    check_response_field_paths,
    check_service_tier,
)
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
from bedrock_kit.core.chat.tool_config import build_tool_spec
from bedrock_kit.core.chat.types import ConverseResult, SystemBlock, ToolSpec, inference_config
from bedrock_kit.core.prompts.management import model_arguments
from bedrock_kit.core.transport.arguments import Arguments, unknown_argument_error
from bedrock_kit.core.transport.clients import ClientSettings, Withheld, withhold
from bedrock_kit.core.transport.deadline import check_deadline
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain import _options as options
from bedrock_kit.langchain._arguments import CHAT_CALL, CHAT_CONSTRUCTOR
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._convert import ChunkBuilder, system_blocks, to_ai_message, to_core
from bedrock_kit.langchain._serial import LangChainSerializable
from bedrock_kit.langchain._tags import ChatLedgerTags
from bedrock_kit.langchain.batch import BedrockBatchRunnable
from bedrock_kit.langchain.rate_limit import core_limiter

_NOT_GIVEN = dict.fromkeys(CHAT_CALL.accepted)  # every per-call argument, as None
_FIELD_CHECKS: dict[str, Callable[[Any], object]] = {
    "performance_config": check_performance_config,
    "request_metadata": check_request_metadata,
    "additional_model_response_field_paths": check_response_field_paths,
}


class ChatBedrockKit(LangChainSerializable, BedrockClientArgs, ChatLedgerTags, BaseChatModel):
    """Bedrock chat model over the Converse API with native async.

    Argument names match langchain-aws's ``ChatBedrockConverse`` (``guardrails``,
    ``system``, ``base_model_id``, ``performance_config``, ``service_tier``, ``config``,
    ``api_key``...), and messages carry the same content and ``response_metadata`` keys, so
    switching is a change of import.

    Example:
        .. code-block:: python

            from bedrock_kit.langchain import ChatBedrockKit

            llm = ChatBedrockKit(model="us.anthropic.claude-sonnet-4-20250514-v1:0")
            (prompt | llm | StrOutputParser()).invoke({"topic": "tides"})
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)
    argument_table: ClassVar[Arguments] = CHAT_CONSTRUCTOR

    model_id: str = Field(alias="model")
    """Foundation model id, inference-profile id, or model / profile ARN."""
    base_model_id: str | None = Field(default=None, alias="base_model")
    """The foundation model behind an ARN or application inference profile: used for
    capability lookups and reported as ``model_name``."""
    provider: str = ""
    """Model provider (``anthropic``, ``amazon``...) for ARNs that do not name one."""
    api: Api = "converse"
    """``converse`` (default) or ``invoke``: InvokeModel with the provider's native body."""
    system: list[str | dict[str, Any]] | None = None
    """System prompts sent before any SystemMessage: strings, text blocks or Bedrock system
    blocks (``{"cachePoint": ...}``, ``{"guardContent": ...}``)."""
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
    guardrail_config: dict[str, Any] | None = Field(default=None, alias="guardrails")
    """``{"guardrailIdentifier", "guardrailVersion", "trace", "streamProcessingMode"}``."""
    guard_last_turn: bool = False
    """Wrap the last user turn in ``guardContent`` so the guardrail checks only it."""
    raise_on_guardrail_intervention: bool = False
    """Raise GuardrailInterventionError instead of returning the guardrail's answer."""
    performance_config: dict[str, Any] | None = None
    """``{"latency": "standard" | "optimized"}`` (Converse ``performanceConfig``)."""
    service_tier: Literal["priority", "default", "flex", "reserved"] | None = None
    """Converse ``serviceTier``; None leaves Bedrock's default."""
    request_metadata: dict[str, str] | None = None
    """Key-value pairs Bedrock records in invocation logs (``requestMetadata``)."""
    prompt_variables: dict[str, Any] | None = None
    """With a Prompt Management prompt ARN as ``model``: the values of its variables
    (``{"topic": "tides"}``), sent as Converse ``promptVariables``."""
    output_config: dict[str, Any] | None = None
    """Converse ``outputConfig`` sent with every call (e.g. a JSON Schema answer format)."""
    supports_tool_choice_values: Sequence[Literal["auto", "any", "tool"]] | None = None
    """The tool_choice types the model takes; None uses bedrock-kit's table. Outside it,
    ``bind_tools`` refuses the choice before any request."""
    config: Any = Field(default=None, exclude=True)
    """A ``botocore.config.Config`` for the client; ``timeout`` and ``max_retries`` win."""
    bedrock_api_key: SecretStr | None = Field(default=None, alias="api_key")
    """A Bedrock API key, sent as ``Authorization: Bearer`` by this model's clients only.
    Without it, botocore still honours ``AWS_BEARER_TOKEN_BEDROCK`` by itself."""
    ledger: Any = Field(default=None, exclude=True)
    """A :class:`bedrock_kit.Ledger`: every call is reserved before it is sent (refused with
    BudgetExceededError when it could cross a limit) and settled to billed usage after."""
    streaming: bool = False
    """Let ``invoke`` call ConverseStream and assemble the answer (LangChain's flag)."""
    deadline: float | None = None
    """Seconds one call may take in total, retries and slow streams included (None: no
    bound); DeadlineExceededError past it. Per call: ``invoke(..., deadline=5)``."""
    rate_limiter: Any = Field(default=None, exclude=True)
    """A LangChain ``BaseRateLimiter``, or bedrock-kit's
    :class:`~bedrock_kit.langchain.rate_limit.BedrockRateLimiter` / ``RateLimiter``: those
    limit each call by model, requests and tokens (worst case, corrected to billed usage)
    and slow down on throttling, shared across processes with ``RedisRates``."""

    _runtime: ConverseRuntime | None = PrivateAttr(default=None)
    _count_tokens_unsupported: set[str] = PrivateAttr(default_factory=set)
    _limiter: RateLimiter | None = PrivateAttr(default=None)
    _profiles: InferenceProfiles | None = PrivateAttr(default=None)

    @field_validator("model_id", "base_model_id")
    @classmethod
    def _check_model(cls, value: str | None) -> str | None:
        return None if value is None else validate_model_id(value)

    @field_validator("guardrail_config")
    @classmethod
    def _check_guardrail_config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        parse_guardrail_config(value)
        return value

    @field_validator(
        "performance_config", "request_metadata", "additional_model_response_field_paths"
    )
    @classmethod
    def _check_request_field(cls, value: Any, info: ValidationInfo) -> Any:
        _FIELD_CHECKS[str(info.field_name)](value)
        return value

    @field_validator("supports_tool_choice_values")
    @classmethod
    def _check_choices(cls, value: Sequence[str] | None) -> Sequence[str] | None:
        return options.check_choice_values(value)

    @field_validator("system")
    @classmethod
    def _check_system(cls, value: list[Any] | None) -> list[Any] | None:
        system_blocks(value or (), "system")
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Validate client settings now, so bad arguments fail at construction."""
        self.client_settings()
        check_deadline(self.deadline)
        # Inference ranges and stop sequences, before any call (InferenceConfig checks them).
        inference_config(self.max_tokens, self.temperature, self.top_p, tuple(self.stop or ()))
        check_model_region(self.model_id, self.region_name)
        self._limiter = core_limiter(self.rate_limiter)
        if self._limiter is not None:
            # Ours is applied per call in the core (model, tokens); LangChain must not also
            # take a request from it before each call.
            self.rate_limiter = None
        if self.base_model_id and is_application_profile(self.model_id):
            remember_profile_base(self.model_id, self.base_model_id)

    def __getstate__(self) -> dict[Any, Any]:
        # The API key, like the AWS credentials, never travels in a pickle.
        state = super().__getstate__()
        key = state["__dict__"].get("bedrock_api_key")
        state["__dict__"] = {**state["__dict__"], "bedrock_api_key": withhold("api_key", key)}
        return state

    def client_settings(self) -> ClientSettings:
        """The core :class:`ClientSettings`, with ``config`` and ``bedrock_api_key``."""
        base = super().client_settings()
        settings = dataclasses.replace(
            base,
            config=self.config,
            bearer_token=(
                self.bedrock_api_key.get_secret_value()
                if isinstance(self.bedrock_api_key, SecretStr)
                else None
            ),
        )
        # replace() resets init=False fields: keep "credentials withheld by pickling".
        withheld = base._withheld or isinstance(self.bedrock_api_key, Withheld)
        object.__setattr__(settings, "_withheld", withheld)
        return settings

    @classmethod
    def from_prompt(cls, prompt: Any, **kwargs: Any) -> ChatBedrockKit:
        """A model configured from a Prompt Management template's model and settings.

        ``load_prompt(...) | ChatBedrockKit.from_prompt(template)``; ``kwargs`` win over the
        prompt's settings. See :func:`bedrock_kit.langchain.prompts.chat_model_for_prompt`.
        """
        return cls(**model_arguments(prompt.metadata or {}, kwargs))

    @classmethod
    def create_cache_point(cls, cache_type: str = "default") -> dict[str, Any]:
        """A prompt-cache checkpoint block for message content or ``system``:
        ``{"cachePoint": {"type": "default"}}`` (as langchain-aws builds it)."""
        return {"cachePoint": {"type": cache_type}}

    @classmethod
    def from_custom_model(
        cls, source: Any, *, base_model_id: str | None = None, **kwargs: Any
    ) -> ChatBedrockKit:
        """A model invoking a provisioned throughput, custom model deployment or custom model.

        The base model (from the handle, or ``base_model_id``) is kept in ``metadata``
        (``bedrock_base_model_id``). See
        :func:`bedrock_kit.core.customization.serving.invocation_target`.
        """
        from bedrock_kit.core.customization.serving import invocation_target

        target, base = invocation_target(source, base_model_id)
        metadata = {**(kwargs.pop("metadata", None) or {}), "bedrock_base_model_id": base}
        kwargs.setdefault("base_model_id", base)
        return cls(model=target, metadata=metadata, **kwargs)

    # ------------------------------------------------------------------ plumbing

    @property
    def runtime(self) -> ConverseRuntime:
        """The core runtime; its clients are built once and reused."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        runtime: ConverseRuntime | None = private["_runtime"]  # self._runtime: 4 calls
        if runtime is None:
            runtime = self._runtime = ConverseRuntime(
                self.client_settings(), client=self.client, async_client=self.async_client
            )
        return runtime

    @property
    def model(self) -> str:
        """Same as ``model_id`` (langchain-aws's name)."""
        return self.model_id

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Credentials and the API key, kept out of ``dumpd`` / ``dumps``."""
        return {**super().lc_secrets, "bedrock_api_key": "AWS_BEARER_TOKEN_BEDROCK"}

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
            ls_model_name=kwargs.get("model") or self.base_model_id or self.model_id,
            ls_model_type="chat",
        )
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    def _capability_model(self) -> str:
        """The id to look capabilities up by: the base model, else what the id says."""
        if self.base_model_id:
            return self.base_model_id
        resolved = profile_base(self.model_id)
        if resolved:
            return resolved
        if self.provider and self.model_id.startswith("arn:"):
            return f"{self.provider}."
        return self.model_id

    def _system(self) -> list[SystemBlock]:
        return system_blocks(self.system or (), "system")

    def build_request(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None = None,
        *,
        stream: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The exact Converse (or InvokeModel) arguments a call with these arguments sends.

        Raises:
            UnknownArgumentError: On a keyword argument no call takes (see ``CHAT_CALL``).
            ConfigurationError: Input Bedrock would refuse; nothing is sent.
        """
        if kwargs:
            kwargs = check_call_arguments("ChatBedrockKit call", kwargs, CHAT_CALL)
        system, turns = to_core(messages)
        if not kwargs and stop is None and not system:
            frame = options.plain_frame_of(self)
            if frame is not None:  # the usual model and call: the same request, kept parts
                return frame.request(turns)
        own = {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p}
        arg = {**_NOT_GIVEN, **own, **kwargs}  # every argument, read by subscript: no calls
        if self.guard_last_turn and self.guardrail_config:
            turns = guard_last_turn(turns)
        tooled = arg["tools"] or arg["system_tools"] or arg["tool_choice"] is not None
        specs, servers, choice = (
            options.call_tools(arg, self.supports_tool_choice_values, self.model_id)
            if tooled
            else ([], [], None)
        )
        model = checked_model(arg["model"] or self.model_id, self.region_name)
        return build_chat_request(
            self.api,
            model,
            turns,
            system=[*self._system(), *system] if self.system else system,
            inference=inference_config(
                arg["max_tokens"],
                arg["temperature"],
                arg["top_p"],
                tuple(stop or arg["stop"] or self.stop or ()),
            ),
            tools=specs,
            tool_choice=choice,
            guardrail=parse_guardrail_config(self.guardrail_config),
            additional_model_request_fields=options.additional_fields(self, kwargs),
            additional_model_response_field_paths=self.additional_model_response_field_paths or (),
            output_config=options.output_config(self, kwargs),
            request_metadata=arg["request_metadata"] or self.request_metadata,
            performance_latency=check_performance_config(
                arg["performance_config"] or self.performance_config
            ),
            service_tier=check_service_tier(arg["service_tier"] or self.service_tier),
            system_tools=servers,
            prompt_variables=arg["prompt_variables"] or self.prompt_variables,
            stream=stream,
            body=arg["body"],
        )

    def _profile_to_resolve(self, kwargs: Mapping[str, Any]) -> str | None:
        """An application profile ARN whose model a call needs (InvokeModel body codec,
        ledger pricing, CountTokens) and nobody gave, else None."""
        model = (kwargs.get("model") if kwargs else None) or self.model_id
        plain = model[:4] != "arn:"  # no call for the common case, a model or profile id
        if plain or not is_application_profile(model) or profile_base(model) is not None:
            return None
        return model if self.api == "invoke" or self.ledger is not None else None

    @property
    def profiles(self) -> InferenceProfiles:
        """Resolves application inference profile ARNs (GetInferenceProfile, once each)."""
        if self._profiles is None:
            self._profiles = InferenceProfiles(self.client_settings())
        return self._profiles

    def _resolve_profile(self, kwargs: Mapping[str, Any]) -> None:
        model = self._profile_to_resolve(kwargs)
        if model is not None:
            self.profiles.resolve(model)

    async def _aresolve_profile(self, kwargs: Mapping[str, Any]) -> None:
        model = self._profile_to_resolve(kwargs)
        if model is not None:
            await self.profiles.aresolve(model)

    def _budget(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        given = {"deadline": self.deadline, "max_tokens": self.max_tokens, **kwargs}  # no calls
        deadline = given["deadline"]
        return {
            "ledger": self.ledger,
            "max_tokens": given["max_tokens"],
            "deadline": None if deadline is None else check_deadline(deadline),
            "limiter": self.__pydantic_private__["_limiter"],  # type: ignore[index]  # see runtime
        }

    @property
    def limiter(self) -> RateLimiter | None:
        """The bedrock-kit rate limiter applied to each call, if one was given."""
        return self._limiter

    def bind(self, **kwargs: Any) -> Any:
        """Bind call arguments; unknown ones fail here, not at the first call.

        Raises:
            UnknownArgumentError: Naming the argument and the closest valid one.
        """
        check_call_arguments("ChatBedrockKit.bind", kwargs, CHAT_CALL)
        return super().bind(**kwargs)

    def _check_guardrail(self, result: ConverseResult) -> None:
        if self.raise_on_guardrail_intervention and result.guardrail_intervened:
            raise guardrail_intervention_error(result)

    def _result(self, result: ConverseResult) -> ChatResult:
        self._check_guardrail(result)
        message = to_ai_message(result, model_name=self.base_model_id)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _chunks(self, request: Mapping[str, Any], kwargs: Mapping[str, Any]) -> ChunkBuilder:
        blocks = options.wants_blocks(
            kwargs, options.additional_fields(self, kwargs), request, self.output_version
        )
        return ChunkBuilder(blocks=blocks, model_name=self.base_model_id)

    # ------------------------------------------------------------------ calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._resolve_profile(kwargs)
        request = self.build_request(messages, stop, **kwargs)
        with self._tagged(run_manager):
            return self._result(send(self.runtime, self.api, request, **self._budget(kwargs)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        profile = self._profile_to_resolve(kwargs)  # mostly None: no coroutine to run
        if profile is not None:
            await self.profiles.aresolve(profile)
        request = self.build_request(messages, stop, **kwargs)
        with self._tagged(run_manager):
            return self._result(
                await asend(self.runtime, self.api, request, **self._budget(kwargs))
            )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._resolve_profile(kwargs)
        request = self.build_request(messages, stop, stream=True, **kwargs)
        builder = self._chunks(request, kwargs)
        make = partial(send_stream, self.runtime, self.api, request, **self._budget(kwargs))
        for delta in self._carry(run_manager, make):
            if isinstance(delta, CompletedDelta):
                self._check_guardrail(delta.result)
            generation = builder.generation(delta)
            if generation is not None:
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
        await self._aresolve_profile(kwargs)
        request = self.build_request(messages, stop, stream=True, **kwargs)
        builder = self._chunks(request, kwargs)
        amake = partial(asend_stream, self.runtime, self.api, request, **self._budget(kwargs))
        async for delta in self._acarry(run_manager, amake):
            if isinstance(delta, CompletedDelta):
                self._check_guardrail(delta.result)
            generation = builder.generation(delta)
            if generation is not None:
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
        system_tools: Sequence[Any] = (),
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, pydantic models, functions, dicts, ToolSpecs).

        Args:
            tools: The tools the model may call. Converse ``{"systemTool": {...}}`` dicts,
                :class:`~bedrock_kit.core.chat.types.SystemTool` objects and langchain-aws's
                ``NovaSystemTool`` found here are bound as system tools.
            tool_choice: ``auto``, ``any``/``required`` (must call one), a tool name, or
                True (the only tool).
            strict: Ask for schema-exact arguments where the model supports it.
            system_tools: Server-side tools Bedrock runs itself (names such as
                ``"nova_code_interpreter"`` or ``"nova_grounding"``, or the forms above).
                Their calls and results come back as ``server_tool_call`` /
                ``server_tool_result`` content blocks, never in ``tool_calls``.
            **kwargs: Other call arguments to bind, e.g. ``response_format``.

        Example:
            ```python
            llm.bind_tools([get_weather], system_tools=["nova_code_interpreter"])
            ```
        """
        client_tools, servers = options.split_tools(tools, system_tools)
        specs = [options.tool_spec(t, strict) for t in client_tools]
        for spec in specs:  # names and schemas fail now, not at the first call
            build_tool_spec(spec)
        choice = options.tool_choice(tool_choice, specs)
        options.check_choice_supported(choice, self.supports_tool_choice_values, self.model_id)
        if servers:
            options.check_unique_names(servers, specs)
            kwargs["system_tools"] = servers
        if "response_format" in kwargs:  # a bad schema fails now, not at the first call
            options.response_format_output(kwargs["response_format"])
        bound: Runnable[LanguageModelInput, AIMessage] = self.bind(
            tools=specs, tool_choice=choice, **kwargs
        )
        return bound

    def _forced_choice(self, name: str) -> str | None:
        supported = self.supports_tool_choice_values
        if supported is not None:
            return name if "tool" in supported else ("any" if "any" in supported else None)
        return name if supports_tool_choice(self._capability_model(), "tool") else None

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
            raise unknown_argument_error(
                "ChatBedrockKit.with_structured_output",
                kwargs,
                ("schema", "include_raw", "method", "strict"),
            )
        is_model = isinstance(schema, type) and is_basemodel_subclass(schema)
        if method == "function_calling":
            spec = options.tool_spec(schema, strict)
            llm = self.bind_tools(
                [spec],
                tool_choice=self._forced_choice(spec.name),
                ls_structured_output_format={
                    "kwargs": {"method": method},
                    "schema": schema,
                },
            )
            parser: Runnable[Any, Any] = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                if is_model
                else JsonOutputKeyToolsParser(key_name=spec.name, first_tool_only=True)
            )
        elif method in ("json_schema", "json_mode"):
            json_schema = options.schema_of(schema)
            llm = self.bind(
                output_config=options.json_schema_output(json_schema),
                ls_structured_output_format={"kwargs": {"method": method}, "schema": json_schema},
            )
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

        The documented estimate (errs high, :mod:`bedrock_kit.core.chat.token_estimate`) is
        returned only where CountTokens cannot count: a model it does not support (Bedrock's
        "doesn't support counting tokens", remembered per model object) or ``api="invoke"``;
        a debug log says so. Any other refusal raises (:mod:`bedrock_kit.core.chat.count`).

        Raises:
            BedrockValidationError: Bedrock rejected the model identifier or the request.
            BedrockKitError: Any other failure of CountTokens, typed.
        """
        request = self.build_request(messages, tools=list(tools or ()))
        return count_input_tokens(self.runtime, request, self._count_tokens_unsupported)

    async def aget_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Async :meth:`get_num_tokens_from_messages` (CountTokens over the async client)."""
        request = self.build_request(messages, tools=list(tools or ()))
        return await acount_input_tokens(self.runtime, request, self._count_tokens_unsupported)
