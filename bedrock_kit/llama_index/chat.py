"""``BedrockKitLLM``: a LlamaIndex function-calling LLM on bedrock-kit's Converse core."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncGenerator, Generator, Sequence
from functools import cache, partial
from typing import TYPE_CHECKING, Any, ClassVar

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    field_validator,
)
from llama_index.core.constants import DEFAULT_NUM_OUTPUTS
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from pydantic import AliasChoices

from bedrock_kit._prebuilt import prebuilt
from bedrock_kit._strict_arguments import check_call_arguments
from bedrock_kit.core.batch.runner import BatchSettings
from bedrock_kit.core.budget.rate_limit import RateLimiter
from bedrock_kit.core.budget.tags import tags_applied
from bedrock_kit.core.chat.count import acount_input_tokens, count_input_tokens
from bedrock_kit.core.chat.guardrail_config import build_guardrail_config, parse_guardrail_config
from bedrock_kit.core.chat.messages import guard_last_turn, guardrail_intervention_error
from bedrock_kit.core.chat.models import (
    check_model_region,
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
    check_api,
    send,
    send_stream,
)
from bedrock_kit.core.chat.tools import as_system_tool, split_system_tools
from bedrock_kit.core.chat.types import (
    ConverseResult,
    InferenceConfig,
    SystemTool,
    ToolSpec,
    inference_config,
)
from bedrock_kit.core.transport.arguments import Arguments
from bedrock_kit.core.transport.clients import ClientSettings, Withheld, check_client
from bedrock_kit.core.transport.deadline import check_deadline
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._arguments import LLM_CALL, LLM_CONSTRUCTOR
from bedrock_kit.llama_index._client import BedrockClientArgs
from bedrock_kit.llama_index._convert import ChatStream, to_chat_response, to_core
from bedrock_kit.llama_index._options import plain_frame_of
from bedrock_kit.llama_index._tags import CALL_KEYWORD, LedgerTags, call_tags
from bedrock_kit.llama_index._tools import tool_choice_name, tool_selections, tool_specs
from bedrock_kit.llama_index.batch import BedrockBatchLLM
from bedrock_kit.llama_index.rate_limit import core_limiter

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

_SERVICE = "bedrock-runtime"

# Model family (a substring of the model id, profile id or ARN) -> context window in tokens,
# most specific first. Unknown models (provisioned ARNs) get DEFAULT_CONTEXT_WINDOW; pass
# ``context_window`` to override.
CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("anthropic.claude-instant", 100_000),
    ("anthropic.claude-v2:0", 100_000),
    ("anthropic.claude", 200_000),
    ("amazon.nova-premier", 1_000_000),
    ("amazon.nova-micro", 128_000),
    ("amazon.nova", 300_000),
    ("amazon.titan-text-premier", 32_000),
    ("amazon.titan-text-express", 8_000),
    ("amazon.titan-text-lite", 4_000),
    ("meta.llama3-8b", 8_000),
    ("meta.llama3-70b", 8_000),
    ("meta.llama3", 128_000),
    ("meta.llama4", 128_000),
    ("mistral.mistral-large-2407", 128_000),
    ("mistral.pixtral-large", 128_000),
    ("mistral.", 32_000),
    ("cohere.command-r", 128_000),
    ("ai21.jamba", 256_000),
    ("deepseek.", 128_000),
    ("openai.gpt-oss", 128_000),
    ("writer.palmyra-x5", 1_000_000),
    ("writer.palmyra-x4", 128_000),
)
DEFAULT_CONTEXT_WINDOW = 32_000


@cache  # read by ``metadata``, which llama-index asks for on every call
def context_window_of(model_id: str) -> int:
    """Context window of a model id, profile id or ARN from :data:`CONTEXT_WINDOWS`."""
    return next((n for key, n in CONTEXT_WINDOWS if key in model_id), DEFAULT_CONTEXT_WINDOW)


_NOT_GIVEN = dict.fromkeys(LLM_CALL.accepted)
"""Every per-call argument, as None: :meth:`BedrockKitLLM.build_request` reads ``kwargs``
over it by subscript."""


def _metadata(window: int, output: int, model: str) -> LLMMetadata:
    return LLMMetadata(
        context_window=window,
        num_output=output,
        is_chat_model=True,
        is_function_calling_model=True,
        model_name=model,
    )


# llama-index reads ``metadata`` on every call (its payload): built from one validated
# sample (bedrock_kit._prebuilt); None: validate each time.
_METADATA = prebuilt(_metadata(1, 1, "-"), ("context_window", "num_output", "model_name"))


class BedrockKitLLM(FunctionCallingLLM, BedrockClientArgs, LedgerTags):
    """Amazon Bedrock Converse as a LlamaIndex function-calling LLM, with native async.

    Usage is Bedrock's billed count, in ``ChatResponse.raw["usage"]`` where LlamaIndex's
    TokenCountingHandler reads it; stop reason, request id and the typed guardrail trace are
    in ``additional_kwargs``. Streams report them on the last chunk; a stream that breaks
    raises (``IncompleteStreamError`` and the like) instead of ending early.

    With ``raise_on_guardrail_intervention=True`` an intervention raises
    ``GuardrailInterventionError``; when streaming, chunks already yielded were shown, so
    use ``streamProcessingMode: "sync"`` if no unchecked text may reach the user.

    Parallel tool calls are all returned by :meth:`get_tool_calls_from_response`; Bedrock
    has no switch to forbid them, so ``allow_parallel_tool_calls`` changes nothing.

    Example:
        ```python
        from bedrock_kit.llama_index import BedrockKitLLM

        llm = BedrockKitLLM(model="us.anthropic.claude-haiku-4-5-20251001-v1:0")
        print(llm.complete("Say hi").text)
        ```
    """

    argument_table: ClassVar[Arguments] = LLM_CONSTRUCTOR

    model: str = Field(
        description="Model id, inference profile id or ARN.",
        validation_alias=AliasChoices("model", "model_id"),
    )
    api: Api = Field(
        default="converse",
        description="converse (Converse API) or invoke (InvokeModel with the native body).",
    )
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    max_tokens: int | None = Field(default=None, description="Maximum output tokens.")
    top_p: float | None = Field(default=None, description="Nucleus sampling mass.")
    stop: list[str] | None = Field(
        default=None,
        description="Stop sequences.",
        validation_alias=AliasChoices("stop", "stop_sequences"),
    )
    additional_model_request_fields: dict[str, Any] | None = Field(
        default=None, description="Provider-specific request fields (e.g. thinking)."
    )
    additional_model_response_field_paths: list[str] | None = Field(
        default=None, description="JSON pointers of provider-specific response fields."
    )
    guardrail_config: Any = Field(
        default=None,
        description="Guardrail: a GuardrailConfig or a dict with guardrailIdentifier, "
        "guardrailVersion, trace and streamProcessingMode.",
    )
    raise_on_guardrail_intervention: bool = Field(
        default=False, description="Raise GuardrailInterventionError when a guardrail intervenes."
    )
    ledger: Any = Field(
        default=None,
        exclude=True,
        description="A bedrock_kit Ledger: calls are reserved before they are sent "
        "(BudgetExceededError when one could cross a limit) and settled to billed usage.",
    )
    guard_last_turn: bool = Field(
        default=False,
        description="With a guardrail, check only the last user turn (as guardContent).",
    )
    context_window: int | None = Field(
        default=None, description="Override the context window from the model table."
    )
    base_model_id: str | None = Field(
        default=None,
        description="The foundation model behind an ARN or application inference profile: "
        "used for the context window and capability lookups.",
        validation_alias=AliasChoices("base_model_id", "base_model"),
    )
    system_tools: list[Any] | None = Field(
        default=None,
        description="Server-side tools Bedrock runs itself (Converse systemTool), e.g. "
        "['nova_code_interpreter']: sent with every call; their calls and results stay in "
        "the message (additional_kwargs['bedrock_blocks']), never tool selections.",
    )
    service_tier: str | None = Field(
        default=None, description="Converse serviceTier: priority, default, flex or reserved."
    )
    performance_config: dict[str, Any] | None = Field(
        default=None, description="{'latency': 'standard' | 'optimized'} (performanceConfig)."
    )
    request_metadata: dict[str, str] | None = Field(
        default=None, description="Key-value pairs Bedrock records in invocation logs."
    )
    prompt_variables: dict[str, Any] | None = Field(
        default=None,
        description="With a Prompt Management prompt ARN as model: its variables' values.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="A Bedrock API key, sent as 'Authorization: Bearer' by this LLM's clients "
        "only (never serialised or pickled). Without it, botocore still honours "
        "AWS_BEARER_TOKEN_BEDROCK by itself.",
        validation_alias=AliasChoices("api_key", "bedrock_api_key"),
    )
    deadline: float | None = Field(
        default=None,
        description="Seconds one call may take in total, retries and slow streams included "
        "(DeadlineExceededError past it); None: no bound. Per call: chat(..., deadline=5).",
    )

    _settings: ClientSettings = PrivateAttr()
    _runtime: ConverseRuntime | None = PrivateAttr(default=None)
    _limiter: RateLimiter | None = PrivateAttr(default=None)
    _profiles: InferenceProfiles | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _count_tokens_unsupported: set[str] = PrivateAttr(default_factory=set)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)  # unknown arguments: UnknownArgumentError, by name
        self._check_arguments()
        parse_guardrail_config(self.guardrail_config)  # a bad config fails here, not later
        self._settings = self.client_settings()
        if self.client is not None:
            check_client(self.client, _SERVICE, "client")
        if self.async_client is not None:
            check_client(self.async_client, _SERVICE, "async_client")
        self._limiter = core_limiter(self.rate_limiter)
        if self._limiter is not None:
            # Ours is applied per call in the core (model, tokens); LlamaIndex's callbacks
            # must not also take a request from it before each call.
            self.rate_limiter = None

    @field_validator("system_tools")
    @classmethod
    def _check_system_tools(cls, value: list[Any] | None) -> list[Any] | None:
        for tool in value or ():
            as_system_tool(tool)
        return value

    def _check_arguments(self) -> None:
        validate_model_id(self.model)
        if self.base_model_id is not None:
            validate_model_id(self.base_model_id)
            if is_application_profile(self.model):
                remember_profile_base(self.model, self.base_model_id)
        check_api(self.api)
        check_service_tier(self.service_tier)
        check_performance_config(self.performance_config)
        check_request_metadata(self.request_metadata)
        check_response_field_paths(self.additional_model_response_field_paths)
        # Converse's ranges (temperature and top_p 0..1, max_tokens >= 1, stop strings).
        InferenceConfig(self.max_tokens, self.temperature, self.top_p, tuple(self.stop or ()))
        if self.context_window is not None and self.context_window < 1:
            raise ConfigurationError(f"context_window={self.context_window!r} is out of range")
        check_deadline(self.deadline)
        check_model_region(self.model, self.region_name)

    @field_serializer("guardrail_config")
    def _serialize_guardrail(self, value: Any) -> Any:
        # A GuardrailConfig dataclass is stored in its Bedrock dict form, so to_json works.
        config = parse_guardrail_config(value)
        return None if config is None else build_guardrail_config(config, stream=True)

    @classmethod
    def class_name(cls) -> str:
        """Name LlamaIndex uses when it serialises this component."""
        return "BedrockKitLLM"

    @classmethod
    def from_custom_model(
        cls, source: Any, *, base_model_id: str | None = None, **kwargs: Any
    ) -> BedrockKitLLM:
        """An LLM invoking a provisioned throughput, custom model deployment or custom model.

        The base model (from the handle, or ``base_model_id``) sets the context window
        unless ``context_window`` is given. See
        :func:`bedrock_kit.core.customization.serving.invocation_target`.
        """
        from bedrock_kit.core.customization.serving import invocation_target

        target, base = invocation_target(source, base_model_id)
        if base and kwargs.get("context_window") is None:
            kwargs["context_window"] = context_window_of(base)
        return cls(model=target, **kwargs)

    def client_settings(self) -> ClientSettings:
        """The core :class:`ClientSettings`, with the Bedrock API key as bearer token."""
        base = super().client_settings()
        key = self.api_key
        settings = dataclasses.replace(
            base, bearer_token=key.get_secret_value() if isinstance(key, SecretStr) else None
        )
        # replace() resets init=False fields: keep "credentials withheld by pickling".
        object.__setattr__(settings, "_withheld", base._withheld or isinstance(key, Withheld))
        return settings

    def _capability_model(self) -> str:
        return self.base_model_id or profile_base(self.model) or self.model

    @property
    def profiles(self) -> InferenceProfiles:
        """Resolves application inference profile ARNs (GetInferenceProfile, once each)."""
        if self._profiles is None:
            self._profiles = InferenceProfiles(self._settings)
        return self._profiles

    def _profile_to_resolve(self) -> str | None:
        # The model matters to InvokeModel body codecs and ledger pricing; ask only then.
        model = self.model
        plain = model[:4] != "arn:"  # no call for the common case, a model or profile id
        if plain or not is_application_profile(model) or profile_base(model) is not None:
            return None
        return self.model if self.api == "invoke" or self.ledger is not None else None

    def _resolve_profile(self) -> None:
        model = self._profile_to_resolve()
        if model is not None:
            self.profiles.resolve(model)

    async def _aresolve_profile(self) -> None:
        model = self._profile_to_resolve()
        if model is not None:
            await self.profiles.aresolve(model)

    @property
    def metadata(self) -> LLMMetadata:
        """Context window (model table or override), output budget and capabilities."""
        window = self.context_window or context_window_of(self._capability_model())
        output = self.max_tokens or DEFAULT_NUM_OUTPUTS
        plain = type(window) is int and type(output) is int and type(self.model) is str
        if _METADATA is not None and plain:  # what validation keeps unchanged
            metadata: LLMMetadata = _METADATA(window, output, self.model)
            return metadata
        return _metadata(window, output, self.model)

    @property
    def runtime(self) -> ConverseRuntime:
        """The one ConverseRuntime of this LLM, built on first use and reused."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        runtime: ConverseRuntime | None = private["_runtime"]  # self._runtime: 4 calls
        if runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = ConverseRuntime(
                        self._settings, client=self.client, async_client=self.async_client
                    )
                runtime = self._runtime
        return runtime

    # -- request and result

    def build_request(
        self, messages: Sequence[ChatMessage], *, stream: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        """The exact Converse (or InvokeModel) request a call with these arguments sends.

        Raises:
            ConfigurationError: Bad messages or arguments, before anything is sent.
        """
        if kwargs:
            kwargs = check_call_arguments("BedrockKitLLM call", kwargs, LLM_CALL)
        system, turns = to_core(messages)
        if not kwargs and not system:
            frame = plain_frame_of(self)
            if frame is not None:  # the usual LLM and call: the same request, kept parts
                return frame.request(turns)
        # Every call argument (None, or the LLM's own value, where not given): read by
        # subscript, not one method call per argument and request.
        arg = {
            **_NOT_GIVEN,
            "stop": self.stop,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            **kwargs,
        }
        # Checks of arguments left unset are skipped here: each would return None for None.
        guardrail = self.guardrail_config
        if guardrail is not None:
            guardrail = parse_guardrail_config(guardrail)
        if guardrail is not None and self.guard_last_turn:
            turns = guard_last_turn(turns)
        tools: list[ToolSpec] = []
        servers: list[SystemTool] = []
        if arg["tools"]:
            client_tools, servers = split_system_tools(arg["tools"])
            tools = [t if isinstance(t, ToolSpec) else tool_specs([t])[0] for t in client_tools]
        inference = self._inference_config(
            arg["max_tokens"], arg["temperature"], arg["top_p"], arg["stop"]
        )
        if self.system_tools or arg["system_tools"]:
            servers = [*servers, *self._system_tools(arg["system_tools"])]
        choice = arg["tool_choice"]
        metadata = arg["request_metadata"] or self.request_metadata
        performance = arg["performance_config"] or self.performance_config
        tier = arg["service_tier"] or self.service_tier
        return build_chat_request(
            self.api,
            self.model,
            turns,
            system=system,
            inference=inference,
            tools=tools,
            tool_choice=None if choice is None else self._tool_choice(choice),
            guardrail=guardrail,
            additional_model_request_fields=self.additional_model_request_fields,
            additional_model_response_field_paths=self.additional_model_response_field_paths or (),
            request_metadata=check_request_metadata(metadata) if metadata else None,
            performance_latency=check_performance_config(performance) if performance else None,
            service_tier=None if tier is None else check_service_tier(tier),
            system_tools=servers,
            prompt_variables=arg["prompt_variables"] or self.prompt_variables,
            stream=stream,
            body=arg["body"],
        )

    @staticmethod
    def _inference_config(
        max_tokens: Any, temperature: Any, top_p: Any, stop: Any
    ) -> InferenceConfig:
        """The call's checked ``InferenceConfig`` (the core keeps one per value set)."""
        return inference_config(max_tokens, temperature, top_p, tuple(stop or ()))

    def _system_tools(self, extra: Sequence[Any] | None) -> list[SystemTool]:
        return [as_system_tool(t) for t in [*(self.system_tools or ()), *(extra or ())]]

    def _tool_choice(self, choice: str | None) -> str | None:
        # Models that cannot be forced to a named tool may still accept "any" (one tool is
        # then the same thing); failing both, let the model decide rather than be rejected.
        if choice in (None, "auto"):
            return choice
        model = self._capability_model()
        if choice != "any" and not supports_tool_choice(model, "tool"):
            choice = "any"
        return choice if supports_tool_choice(model, "any") else None

    def _budget(self, kwargs: dict[str, Any]) -> dict[str, Any]:
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
        """The bedrock-kit rate limiter applied to each call (``rate_limiter=`` given as a
        :class:`~bedrock_kit.llama_index.rate_limit.BedrockRateLimiter` or RateLimiter)."""
        return self._limiter

    def _checked(self, result: ConverseResult) -> ConverseResult:
        if self.raise_on_guardrail_intervention and result.guardrail_intervened:
            raise guardrail_intervention_error(result)
        return result

    # -- chat

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        tags = call_tags(self.ledger_tags, kwargs.pop(CALL_KEYWORD, None))  # before any request
        profile = self._profile_to_resolve()
        if profile is not None:
            self.profiles.resolve(profile)
        request = self.build_request(messages, **kwargs)
        with tags_applied(self.ledger, tags):
            result = send(self.runtime, self.api, request, **self._budget(kwargs))
        return to_chat_response(self._checked(result))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        given = kwargs.pop(CALL_KEYWORD, None)
        call_tags(self.ledger_tags, given)  # bad tags fail here, before any request
        self._resolve_profile()
        request = self.build_request(messages, stream=True, **kwargs)  # bad input fails here, early
        make = partial(send_stream, self.runtime, self.api, request, **self._budget(kwargs))
        # Charged to the tags active now, too; without a ledger nothing is charged, so no
        # wrapper runs around every chunk (the request still goes at the first chunk).
        carried = None if self.ledger is None else self._carry(make, given)
        chunk = ChatStream(self._checked).chunk

        def gen() -> Generator[ChatResponse, None, None]:
            for delta in make() if carried is None else carried:
                response = chunk(delta)
                if response is not None:
                    yield response

        return gen()

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        tags = call_tags(self.ledger_tags, kwargs.pop(CALL_KEYWORD, None))
        profile = self._profile_to_resolve()  # mostly None: no coroutine to run
        if profile is not None:
            await self.profiles.aresolve(profile)
        request = self.build_request(messages, **kwargs)
        with tags_applied(self.ledger, tags):
            result = await asend(self.runtime, self.api, request, **self._budget(kwargs))
        return to_chat_response(self._checked(result))

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        given = kwargs.pop(CALL_KEYWORD, None)
        call_tags(self.ledger_tags, given)
        await self._aresolve_profile()
        request = self.build_request(messages, stream=True, **kwargs)
        amake = partial(asend_stream, self.runtime, self.api, request, **self._budget(kwargs))
        carried = None if self.ledger is None else self._acarry(amake, given)
        chunk = ChatStream(self._checked).chunk

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            async for delta in amake() if carried is None else carried:
                response = chunk(delta)
                if response is not None:
                    yield response

        return gen()

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Send the conversation to Converse."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer from ConverseStream; the last chunk carries usage."""
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat` (aiobotocore, no threads)."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat` (aiobotocore, no threads)."""
        return await self._astream_chat(messages, **kwargs)

    # -- tokens

    def count_tokens(self, messages: Sequence[ChatMessage], **kwargs: Any) -> int:
        """Input tokens of ``messages`` (and ``tools=``) from Bedrock's CountTokens API.

        The documented estimate (errs high) is returned only where CountTokens cannot count:
        a model it does not support (Bedrock's "doesn't support counting tokens", remembered
        per LLM object) or ``api="invoke"``; a debug log says so. Any other refusal raises
        (:mod:`bedrock_kit.core.chat.count`).

        Raises:
            BedrockValidationError: Bedrock rejected the model identifier or the request.
            BedrockKitError: Any other failure of CountTokens, typed.
        """
        request = self.build_request(messages, **kwargs)
        return count_input_tokens(self.runtime, request, self._count_tokens_unsupported)

    async def acount_tokens(self, messages: Sequence[ChatMessage], **kwargs: Any) -> int:
        """Async :meth:`count_tokens` (CountTokens over the async client)."""
        request = self.build_request(messages, **kwargs)
        return await acount_input_tokens(self.runtime, request, self._count_tokens_unsupported)

    # -- completion: a one-message chat

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete ``prompt`` (sent as one user message)."""
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream the completion of ``prompt``."""
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # -- batch jobs

    def with_batch_inference(
        self, *, s3_uri: str, role_arn: str, **options: Any
    ) -> BedrockBatchLLM:
        """This LLM with lists of prompts or histories run as Bedrock batch inference jobs.

        Args:
            s3_uri: Where the input files go (``s3://bucket/prefix/``).
            role_arn: Service role Bedrock uses to read the input and write the output.
            **options: :class:`~bedrock_kit.core.batch.runner.BatchSettings` fields.

        See :mod:`bedrock_kit.llama_index.batch`.
        """
        return BedrockBatchLLM(self, BatchSettings(s3_uri=s3_uri, role_arn=role_arn, **options))

    # -- tools

    def _prepare_chat_with_tools(  # noqa: PLR0917 - signature fixed by FunctionCallingLLM
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Messages, tool specs and tool choice for :meth:`chat`.

        Bedrock has no switch to forbid parallel calls, so ``allow_parallel_tool_calls`` has
        nothing to send; parallel calls the model makes are all kept.
        """
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        return {
            "messages": messages,
            "tools": tool_specs(tools),
            "tool_choice": tool_choice_name(tool_choice, tool_required),
            **kwargs,
        }

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """Every tool call of the response, parallel calls included, in order.

        Raises:
            ToolCallMissingError: No tool call and ``error_on_no_tool_call`` is set.
            MalformedResponseError: Unparseable arguments and ``error_on_no_tool_call`` set.
        """
        return tool_selections(response, error_on_no_tool_call=error_on_no_tool_call)
