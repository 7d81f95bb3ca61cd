"""One chat request, sent over Converse or InvokeModel: what both adapters call.

``api="converse"`` (default) uses the Converse API; ``api="invoke"`` uses InvokeModel with
the provider's native body. Either way the result is a :class:`ConverseResult` and streams
yield the same deltas, so behaviour and usage reporting do not depend on the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from bedrock_kit.core.budget.metering import ametered, metered
from bedrock_kit.core.chat.converse import build_converse_request, build_tool_config, merge_turns
from bedrock_kit.core.chat.invoke import InvokeInput, build_invoke_request
from bedrock_kit.core.chat.request_fields import (
    check_request_metadata,
    check_service_tier,
    invoke_fields,
)
from bedrock_kit.core.chat.runtime import ConverseRuntime, DeadlineArg
from bedrock_kit.core.chat.stream import StreamDelta
from bedrock_kit.core.chat.types import (
    ConverseResult,
    GuardrailConfig,
    InferenceConfig,
    Message,
    SystemBlock,
    SystemTool,
    ToolSpec,
)
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

if TYPE_CHECKING:
    from bedrock_kit.core.budget.ledger import Ledger, Reservation

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
) -> dict[str, Any]:
    """Keyword arguments of the Converse or InvokeModel call for one chat turn.

    ``service_tier``, ``performance_latency`` and ``request_metadata`` go to InvokeModel as
    its own members; system tools and prompt variables exist on Converse only.
    """
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
    request.update(
        invoke_fields(
            service_tier=check_service_tier(service_tier),
            performance_latency=performance_latency,
            request_metadata=check_request_metadata(request_metadata),
        )
    )
    return request


def _max_tokens(max_tokens: int | None) -> int:
    return max_tokens or _DEFAULT_MAX_TOKENS


def _reserve(
    runtime: ConverseRuntime,
    ledger: Ledger | None,
    request: Mapping[str, Any],
    max_tokens: int | None,
) -> Reservation | None:
    """Hold the call's worst case on ``ledger`` before any request (None: no budget).

    The input side comes from CountTokens on ``runtime`` where the ledger allows it and the
    model supports it, else from the estimate (InvokeModel bodies are always estimated).
    """
    if ledger is None:
        return None
    return ledger.reserve_request(
        request, default_max_tokens=_max_tokens(max_tokens), runtime=runtime
    )


async def _areserve(
    runtime: ConverseRuntime,
    ledger: Ledger | None,
    request: Mapping[str, Any],
    max_tokens: int | None,
) -> Reservation | None:
    """Async :func:`_reserve` (CountTokens over the async client)."""
    if ledger is None:
        return None
    return await ledger.areserve_request(
        request, default_max_tokens=_max_tokens(max_tokens), runtime=runtime
    )


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
) -> ConverseResult:
    """Send a request built by :func:`build_chat_request`.

    With a ``ledger``, the call's worst case is reserved first (BudgetExceededError, before
    any request, when it does not fit) and settled to the billed usage afterwards (see
    :mod:`bedrock_kit.core.budget.ledger` for the settle rules). A ``deadline`` (seconds)
    bounds the whole call, retries included.
    """
    with _settling(_reserve(runtime, ledger, request, max_tokens)) as settle:
        call = runtime.converse if api == "converse" else runtime.invoke
        return settle(call(request, deadline=deadline))


async def asend(
    runtime: ConverseRuntime,
    api: Api,
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None = None,
    max_tokens: int | None = None,
    deadline: DeadlineArg = None,
) -> ConverseResult:
    """Async :func:`send`."""
    with _settling(await _areserve(runtime, ledger, request, max_tokens)) as settle:
        call = runtime.aconverse if api == "converse" else runtime.ainvoke
        return settle(await call(request, deadline=deadline))


def send_stream(
    runtime: ConverseRuntime,
    api: Api,
    request: Mapping[str, Any],
    *,
    ledger: Ledger | None = None,
    max_tokens: int | None = None,
    deadline: DeadlineArg = None,
) -> Iterator[StreamDelta]:
    """Stream a request built with ``stream=True`` (metered on ``ledger`` when given).

    The reservation is made here, before the request, so a refusal raises at the call.
    """
    reservation = _reserve(runtime, ledger, request, max_tokens)
    call = runtime.stream if api == "converse" else runtime.invoke_stream
    deltas = call(request, deadline=deadline)
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
) -> AsyncIterator[StreamDelta]:
    """Async :func:`send_stream`; the reservation (and any refusal) comes with the first
    ``__anext__``, before the request is sent."""
    reservation = await _areserve(runtime, ledger, request, max_tokens)
    call = runtime.astream if api == "converse" else runtime.ainvoke_stream
    deltas = call(request, deadline=deadline)
    if reservation is None:
        async for delta in deltas:
            yield delta
        return
    async for delta in ametered(reservation, deltas):
        yield delta
