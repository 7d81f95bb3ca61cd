"""One chat request, sent over Converse or InvokeModel: what both adapters call.

``api="converse"`` (default) uses the Converse API; ``api="invoke"`` uses InvokeModel with
the provider's native body. Either way the result is a :class:`ConverseResult` and streams
yield the same deltas, so behaviour and usage reporting do not depend on the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from bedrock_kit.core.budget.counting import InputCounter
from bedrock_kit.core.budget.metering import ametered, metered
from bedrock_kit.core.chat.converse import build_converse_request, merge_turns
from bedrock_kit.core.chat.invoke import (
    InvokeInput,
    build_invoke_request,
    build_raw_invoke_request,
    known_model,
)
from bedrock_kit.core.chat.request_fields import (
    check_request_metadata,
    check_service_tier,
    invoke_fields,
)
from bedrock_kit.core.chat.runtime import ConverseRuntime, DeadlineArg
from bedrock_kit.core.chat.stream import StreamDelta
from bedrock_kit.core.chat.tool_config import build_tool_config
from bedrock_kit.core.chat.types import (
    ConverseResult,
    GuardrailConfig,
    InferenceConfig,
    Message,
    SystemBlock,
    SystemTool,
    TextBlock,
    ToolSpec,
)
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

if TYPE_CHECKING:
    from bedrock_kit.core.budget.ledger import Ledger, Reservation
    from bedrock_kit.core.budget.rate_limit import Permit, RateLimiter

Api: TypeAlias = Literal["converse", "invoke"]
# Output tokens reserved when a request sets no limit (Bedrock models default to 4,096 or less).
_DEFAULT_MAX_TOKENS = 4096
APIS: tuple[Api, ...] = ("converse", "invoke")


def check_api(api: object) -> Api:
    """Validate the ``api`` argument."""
    if api not in APIS:
        raise ConfigurationError(f"api must be one of {APIS}, got {api!r}")
    return api


def build_chat_request(
    api: Api,
    model_id: str,
    messages: Sequence[Message],
    *,
    system: Sequence[SystemBlock] = (),
    inference: InferenceConfig | None = None,
    tools: Sequence[ToolSpec] = (),
    tool_choice: str | None = None,
    guardrail: GuardrailConfig | None = None,
    additional_model_request_fields: Mapping[str, Any] | None = None,
    additional_model_response_field_paths: Sequence[str] = (),
    output_config: Mapping[str, Any] | None = None,
    request_metadata: Mapping[str, str] | None = None,
    performance_latency: str | None = None,
    service_tier: str | None = None,
    system_tools: Sequence[SystemTool] = (),
    prompt_variables: Mapping[str, Any] | None = None,
    stream: bool = False,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of the Converse or InvokeModel call for one chat turn.

    ``body`` (``api="invoke"`` only) is raw mode: the InvokeModel request body sent
    unchanged, for any model id, so a model no codec knows yet can be called; see
    :func:`build_raw_request`. ``service_tier``, ``performance_latency`` and
    ``request_metadata`` go to InvokeModel as its own members (raw mode included); system
    tools and prompt variables exist on Converse only.
    """
    if body is not None:
        for name, value in (("system_tools", system_tools), ("prompt_variables", prompt_variables)):
            if value:
                raise ConfigurationError(f"{name} cannot go with body= (Converse only)")
        request = build_raw_request(
            api, model_id, messages, body, tools=tools, guardrail=guardrail, stream=stream
        )
        request.update(_invoke_members(service_tier, performance_latency, request_metadata))
        return request
    tool_config = build_tool_config(tools, tool_choice, system_tools)
    if check_api(api) == "converse":
        return build_converse_request(
            model_id,
            messages,
            system=system,
            inference=inference,
            tool_config=tool_config,
            guardrail=guardrail,
            additional_model_request_fields=additional_model_request_fields,
            additional_model_response_field_paths=additional_model_response_field_paths,
            output_config=output_config,
            request_metadata=request_metadata,
            performance_latency=performance_latency,
            service_tier=service_tier,
            prompt_variables=prompt_variables,
            stream=stream,
        )
    if output_config:
        raise ConfigurationError("json_schema structured output needs api='converse'")
    for name, value in (("system_tools", system_tools), ("prompt_variables", prompt_variables)):
        if value:
            raise ConfigurationError(f"{name} are sent with api='converse' only")
    # Same validation as Converse (roles, first turn, tool results, text) before any request.
    turns = merge_turns(messages)
    build_converse_request(
        model_id,
        turns,
        system=system,
        tool_config=tool_config,
        additional_model_request_fields=additional_model_request_fields,
    )
    invoke_input = InvokeInput(
        turns,
        tuple(system),
        inference or InferenceConfig(),
        tuple(tools),
        tool_choice,
        dict(additional_model_request_fields or {}),
    )
    request = build_invoke_request(model_id, invoke_input, guardrail=guardrail)
    request.update(_invoke_members(service_tier, performance_latency, request_metadata))
    return request


def _invoke_members(
    service_tier: str | None,
    performance_latency: str | None,
    request_metadata: Mapping[str, str] | None,
) -> dict[str, Any]:
    """InvokeModel's own request members (not in the body), checked."""
    return invoke_fields(
        service_tier=check_service_tier(service_tier),
        performance_latency=performance_latency,
        request_metadata=check_request_metadata(request_metadata),
    )


def build_raw_request(
    api: Api,
    model_id: str,
    messages: Sequence[Message],
    body: Mapping[str, Any],
    *,
    tools: Sequence[ToolSpec] = (),
    guardrail: GuardrailConfig | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """InvokeModel arguments sending ``body`` unchanged (raw mode).

    The body replaces everything the kit would build from messages, system prompt,
    inference settings and tools, so messages with content and tools are refused rather
    than silently left out; the guardrail is still applied (it travels in headers). The
    answer of a model no codec knows has no text: its body is in
    :attr:`ConverseResult.raw_body`. Streaming needs a codec to read the chunks.

    Raises:
        ConfigurationError: ``api`` is not ``invoke``, messages carry content, tools are
            bound, ``body`` is not a JSON object, or a raw stream of a model no codec knows.
    """
    if check_api(api) != "invoke":
        raise ConfigurationError("body= is an InvokeModel request body: it needs api='invoke'")
    if any(_carries_content(b) for m in messages for b in m.content):
        raise ConfigurationError(
            "body= replaces the messages: pass no messages (LangChain: invoke([], body=...)), "
            "or leave body= out"
        )
    if tools:
        raise ConfigurationError("body= replaces the tools: put them in the body itself")
    if stream and not known_model(model_id):
        raise ConfigurationError(
            f"streaming a raw body= of model {model_id!r} needs a codec to read its chunks; "
            f"call invoke/ainvoke (the answer body is in raw_body), or use api='converse'"
        )
    return build_raw_invoke_request(model_id, body, guardrail=guardrail)


def _carries_content(block: Any) -> bool:
    """Whether a message block holds anything (an empty text block does not)."""
    return not (isinstance(block, TextBlock) and not block.text)


def _max_tokens(max_tokens: int | None) -> int:
    return max_tokens or _DEFAULT_MAX_TOKENS


def _reserve(
    runtime: ConverseRuntime,
    ledger: Ledger | None,
    request: Mapping[str, Any],
    max_tokens: int | None,
    stream: bool = False,
) -> Reservation | None:
    """Hold the call's worst case on ``ledger`` before any request (None: no budget).

    The input side comes from CountTokens on ``runtime`` where the ledger allows it and the
    model supports it, else from the estimate (InvokeModel bodies are always estimated).
    """
    if ledger is None:
        return None
    return ledger.reserve_request(
        request, default_max_tokens=_max_tokens(max_tokens), runtime=runtime, stream=stream
    )


async def _areserve(
    runtime: ConverseRuntime,
    ledger: Ledger | None,
    request: Mapping[str, Any],
    max_tokens: int | None,
    stream: bool = False,
) -> Reservation | None:
    """Async :func:`_reserve` (CountTokens over the async client)."""
    if ledger is None:
        return None
    return await ledger.areserve_request(
        request, default_max_tokens=_max_tokens(max_tokens), runtime=runtime, stream=stream
    )


def _worst_tokens(
    request: Mapping[str, Any], reservation: Reservation | None, max_tokens: int | None
) -> int:
    """Tokens a rate limiter books for the call: the reservation's, else the estimate."""
    if reservation is not None:
        return reservation.input_tokens + reservation.max_output_tokens
    max_out = (request.get("inferenceConfig") or {}).get("maxTokens") or _max_tokens(max_tokens)
    return InputCounter.estimate(request).tokens + int(max_out)


def _acquire(
    limiter: RateLimiter | None,
    request: Mapping[str, Any],
    reservation: Reservation | None,
    max_tokens: int | None,
) -> Permit | None:
    """Wait for the call's turn on ``limiter`` (after the budget said yes)."""
    if limiter is None:
        return None
    tokens = _worst_tokens(request, reservation, max_tokens)
    return limiter.acquire(str(request["modelId"]), tokens)


async def _aacquire(
    limiter: RateLimiter | None,
    request: Mapping[str, Any],
    reservation: Reservation | None,
    max_tokens: int | None,
) -> Permit | None:
    """Async :func:`_acquire`."""
    if limiter is None:
        return None
    tokens = _worst_tokens(request, reservation, max_tokens)
    return await limiter.aacquire(str(request["modelId"]), tokens)


@contextmanager
def _rated(permit: Permit | None) -> Iterator[Callable[[ConverseResult], ConverseResult]]:
    """The yielded function corrects the permit to a result's usage; a throttle cuts the
    shared rate."""
    if permit is None:
        yield lambda result: result
        return

    def settle(result: ConverseResult) -> ConverseResult:
        permit.settle_result(result)
        return result

    try:
        yield settle
    except BaseException as exc:
        permit.failed(exc)
        raise


@contextmanager
def _settling(
    reservation: Reservation | None,
) -> Iterator[Callable[[ConverseResult], ConverseResult]]:
    """The yielded function settles a result (full reservation if it has no usage).

    A malformed answer is charged the full reservation (Bedrock answered, so it billed);
    any other exception releases (an error answer or a failed connection bills nothing
    we can see).
    """
    if reservation is None:
        yield lambda result: result
        return

    def settle(result: ConverseResult) -> ConverseResult:
        reservation.settle_result(result)
        return result

    try:
        yield settle
    except MalformedResponseError:
        reservation.settle_reserved()  # Bedrock answered, so it billed; how much is unknown
        raise
    except BaseException as exc:
        reservation.release(exc)
        raise


def send(
    runtime: ConverseRuntime,
    api: Api,
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None = None,
    max_tokens: int | None = None,
    deadline: DeadlineArg = None,
    limiter: RateLimiter | None = None,
) -> ConverseResult:
    """Send a request built by :func:`build_chat_request`.

    With a ``ledger``, the call's worst case is reserved first (BudgetExceededError, before
    any request, when it does not fit) and settled to the billed usage afterwards (see
    :mod:`bedrock_kit.core.budget.ledger` for the settle rules). With a ``limiter``, the
    call then waits for its turn (:mod:`bedrock_kit.core.budget.rate_limit`). A ``deadline``
    (seconds) bounds the whole call, retries included.
    """
    call = runtime.converse if api == "converse" else runtime.invoke
    if ledger is None and limiter is None:  # nothing to hold, wait for or settle
        return call(request, deadline=deadline)
    reservation = _reserve(runtime, ledger, request, max_tokens)
    # The limiter is asked inside _settling: a limiter that gives up releases the hold.
    with (
        _settling(reservation) as settle,
        _rated(_acquire(limiter, request, reservation, max_tokens)) as rated,
    ):
        return settle(rated(call(request, deadline=deadline)))


def asend(
    runtime: ConverseRuntime,
    api: Api,
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None = None,
    max_tokens: int | None = None,
    deadline: DeadlineArg = None,
    limiter: RateLimiter | None = None,
) -> Awaitable[ConverseResult]:
    """Async :func:`send`: await the result.

    Without a ledger or a limiter it is the runtime's own awaitable (one coroutine less
    per call); with them, the reserve / wait / settle steps of :func:`send`.
    """
    call = runtime.aconverse if api == "converse" else runtime.ainvoke
    if ledger is None and limiter is None:
        return call(request, deadline=deadline)
    return _asend_held(
        runtime, call, request, ledger=ledger, max_tokens=max_tokens, deadline=deadline,
        limiter=limiter,
    )  # fmt: skip


async def _asend_held(
    runtime: ConverseRuntime,
    call: Callable[..., Awaitable[ConverseResult]],
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None,
    max_tokens: int | None,
    deadline: DeadlineArg,
    limiter: RateLimiter | None,
) -> ConverseResult:
    reservation = await _areserve(runtime, ledger, request, max_tokens)
    with (
        _settling(reservation) as settle,
        _rated(await _aacquire(limiter, request, reservation, max_tokens)) as rated,
    ):
        return settle(rated(await call(request, deadline=deadline)))


def send_stream(
    runtime: ConverseRuntime,
    api: Api,
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None = None,
    max_tokens: int | None = None,
    deadline: DeadlineArg = None,
    limiter: RateLimiter | None = None,
) -> Iterator[StreamDelta]:
    """Stream a request built with ``stream=True`` (metered on ``ledger`` when given).

    The reservation (and the wait for a ``limiter``'s turn) is made here, before the
    request, so a refusal raises at the call.
    """
    reservation = _reserve(runtime, ledger, request, max_tokens, stream=True)
    with _settling(reservation):  # a limiter that gives up releases the reservation
        permit = _acquire(limiter, request, reservation, max_tokens)
    call = runtime.stream if api == "converse" else runtime.invoke_stream
    deltas = call(request, deadline=deadline)
    if permit is not None:
        deltas = permit.watch(deltas)
    if reservation is None:
        return deltas
    return metered(reservation, deltas)


async def asend_stream(
    runtime: ConverseRuntime,
    api: Api,
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None = None,
    max_tokens: int | None = None,
    deadline: DeadlineArg = None,
    limiter: RateLimiter | None = None,
) -> AsyncIterator[StreamDelta]:
    """Async :func:`send_stream`; the reservation (and any refusal) comes with the first
    ``__anext__``, before the request is sent."""
    reservation = await _areserve(runtime, ledger, request, max_tokens, stream=True)
    with _settling(reservation):
        permit = await _aacquire(limiter, request, reservation, max_tokens)
    call = runtime.astream if api == "converse" else runtime.ainvoke_stream
    deltas = call(request, deadline=deadline)
    if permit is not None:
        deltas = permit.awatch(deltas)
    if reservation is None:
        async for delta in deltas:
            yield delta
        return
    async for delta in ametered(reservation, deltas):
        yield delta
