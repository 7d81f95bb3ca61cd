"""Converse, ConverseStream, InvokeModel (+stream) and CountTokens, sync and native async.

Request building and response parsing are the pure functions of :mod:`converse` and
:mod:`stream`; this module only moves requests over the wire and translates errors, so the
sync and async forms are short loops around the same code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Protocol

from bedrock_kit.core.chat.converse import parse_converse_response, request_id_of
from bedrock_kit.core.chat.invoke import InvokeStreamAdapter, parse_invoke_response
from bedrock_kit.core.chat.models import base_model_id, check_model_region
from bedrock_kit.core.chat.stream import StreamDelta, StreamReducer, aiter_deltas, iter_deltas
from bedrock_kit.core.chat.types import ConverseResult
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.deadline import Deadline
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.core.transport.wire_events import aclose_events, event_stream_of, released_on_error
from bedrock_kit.errors import translate_errors

_SERVICE = "bedrock-runtime"
_KEPT_TRANSLATIONS = 64
_COUNT_TOKENS_KEYS = ("messages", "system", "toolConfig", "additionalModelRequestFields")


def build_count_tokens_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """CountTokens arguments for the same input a Converse request would send.

    CountTokens takes the foundation model id, not an inference profile id.
    """
    converse = {k: request[k] for k in _COUNT_TOKENS_KEYS if k in request}
    return {"modelId": base_model_id(request["modelId"]), "input": {"converse": converse}}


def parse_count_tokens_response(response: Mapping[str, Any], *, model_id: str) -> int:
    """``inputTokens`` of a CountTokens response (required: a missing count is not 0).

    Raises:
        MalformedResponseError: The response has no ``inputTokens`` count.
    """
    r = WireReader("CountTokens response", model_id=model_id, request_id=request_id_of(response))
    with r.guard(response):
        return r.count(r.obj(response, "the response").get("inputTokens"), "inputTokens")


class _Adapter(Protocol):
    """Turns wire events into Converse stream events; ``end`` adds any owed at the end."""

    def events(self, event: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]: ...

    def end(self) -> Iterable[Mapping[str, Any]]: ...


class _Passthrough:
    """ConverseStream events already are Converse events."""

    @staticmethod
    def events(event: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return (event,)

    @staticmethod
    def end() -> Iterable[Mapping[str, Any]]:
        return ()


_PASSTHROUGH = _Passthrough()


def _adapted(wires: Iterable[Mapping[str, Any]], adapt: _Adapter) -> Iterator[Mapping[str, Any]]:
    for wire in wires:
        yield from adapt.events(wire)
    yield from adapt.end()


async def _aadapted(
    wires: AsyncIterable[Mapping[str, Any]], adapt: _Adapter
) -> AsyncIterator[Mapping[str, Any]]:
    async for wire in wires:
        for event in adapt.events(wire):
            yield event
    for event in adapt.end():
        yield event


DeadlineArg = Deadline | float | None
"""A call's ``deadline``: seconds, a running :class:`Deadline`, or None (no bound)."""


class ConverseRuntime(OwnsClients):
    """Sends Converse requests built by :func:`build_converse_request`.

    Every method takes ``deadline``: seconds (or a running :class:`Deadline`) bounding the
    whole call, retries and slow streams included (:class:`DeadlineExceededError`).

    Args:
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-runtime`` client.
    """

    def __init__(
        self, settings: ClientSettings, *, client: Any = None, async_client: Any = None
    ) -> None:
        self.pool = ClientPool(settings, _SERVICE, client=client, async_client=async_client)
        self._translations: dict[tuple[Any, str | None], Any] = {}

    def _errors(self, request: Mapping[str, Any]) -> Any:
        # The translation holds nothing but its context: one per model and region serves
        # every call (a plain dict read; a few models per runtime, bounded anyway).
        key = (request.get("modelId"), self.pool.region)
        try:
            return self._translations[key]
        except (KeyError, TypeError, AttributeError):  # new, unhashable, or an old pickle
            translation = translate_errors(model_id=key[0], region=key[1])
            kept = self.__dict__.setdefault("_translations", {})
            if len(kept) < _KEPT_TRANSLATIONS and type(key[0]) in (str, type(None)):
                kept[key] = translation
            return translation

    def _deadline(self, request: Mapping[str, Any], deadline: DeadlineArg) -> Deadline | None:
        return Deadline.of(deadline, model_id=request.get("modelId"), region=self.pool.region)

    def _bounded(
        self, request: Mapping[str, Any], deadline: DeadlineArg
    ) -> contextlib.AbstractContextManager[Deadline | None]:
        """Errors translated; within the deadline, if any (its watchdogs stood down after)."""
        if deadline is None:  # the common case: the translation alone (it gives None)
            return self._errors(request)  # type: ignore[no-any-return]
        return self._within(request, self._deadline(request, deadline))

    @contextlib.contextmanager
    def _within(
        self, request: Mapping[str, Any], bound: Deadline | None
    ) -> Iterator[Deadline | None]:
        with self._errors(request):
            if bound is None:
                yield None
                return
            try:
                with bound.translating():
                    yield bound
            finally:
                bound.close()

    def _call(self, operation: str, request: Mapping[str, Any], deadline: Deadline | None) -> Any:
        client = self.pool.client
        # The client's region is known now (botocore resolved it): refuse an unreachable ARN.
        check_model_region(str(request.get("modelId")), client.meta.region_name)
        method = getattr(client, operation)
        if deadline is None:
            return method(**request)
        return deadline.call(client, lambda: method(**request))

    async def _acall(self, operation: str, request: Mapping[str, Any]) -> Any:
        client = await self.pool.async_client()
        check_model_region(str(request.get("modelId")), client.meta.region_name)
        return await getattr(client, operation)(**request)

    # -- Converse

    def converse(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> ConverseResult:
        """Call Converse."""
        with self._bounded(request, deadline) as bound:
            response = self._call("converse", request, bound)
            return parse_converse_response(response, model_id=request["modelId"])

    async def aconverse(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> ConverseResult:
        """Call Converse with the async client."""
        bound = None if deadline is None else self._deadline(request, deadline)
        with self._errors(request):
            if bound is None:
                response = await self._acall("converse", request)
            else:
                async with bound.abound():
                    response = await self._acall("converse", request)
            return parse_converse_response(response, model_id=request["modelId"])

    # -- ConverseStream and InvokeModelWithResponseStream

    def stream(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> Iterator[StreamDelta]:
        """Call ConverseStream; yields deltas, ends with a CompletedDelta or raises."""
        return self._stream("converse_stream", "stream", request, _PASSTHROUGH, deadline)

    async def astream(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> AsyncIterator[StreamDelta]:
        """Call ConverseStream with the async client."""
        async for delta in self._astream(
            "converse_stream", "stream", request, _PASSTHROUGH, deadline
        ):
            yield delta

    def invoke_stream(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> Iterator[StreamDelta]:
        """Call InvokeModelWithResponseStream; the same deltas as :meth:`stream`."""
        adapter = InvokeStreamAdapter(request["modelId"])
        return self._stream("invoke_model_with_response_stream", "body", request, adapter, deadline)

    async def ainvoke_stream(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> AsyncIterator[StreamDelta]:
        """Async :meth:`invoke_stream`."""
        adapter = InvokeStreamAdapter(request["modelId"])
        async for delta in self._astream(
            "invoke_model_with_response_stream", "body", request, adapter, deadline
        ):
            yield delta

    def _stream(
        self,
        operation: str,
        key: str,
        request: Mapping[str, Any],
        adapt: _Adapter,
        deadline: DeadlineArg,
    ) -> Iterator[StreamDelta]:
        with self._bounded(request, deadline) as bound:
            response = self._call(operation, request, bound)
            reducer = StreamReducer(request["modelId"], self.pool.region)
            reducer.request_id = request_id_of(response)
            with released_on_error(response):
                events = event_stream_of(response, key, reducer.reader)
            try:
                wires = events if bound is None else bound.iterate(events)
                converse_events = wires if adapt is _PASSTHROUGH else _adapted(wires, adapt)
                yield from iter_deltas(converse_events, reducer)
            finally:
                events.close()

    async def _astream(
        self,
        operation: str,
        key: str,
        request: Mapping[str, Any],
        adapt: _Adapter,
        deadline: DeadlineArg,
    ) -> AsyncIterator[StreamDelta]:
        bound = self._deadline(request, deadline)
        with self._errors(request):
            async with _abound(bound):
                response = await self._acall(operation, request)
            reducer = StreamReducer(request["modelId"], self.pool.region)
            reducer.request_id = request_id_of(response)
            with released_on_error(response):
                events = event_stream_of(response, key, reducer.reader)
            try:
                wires = events if bound is None else bound.aiterate(events)
                converse_events = wires if adapt is _PASSTHROUGH else _aadapted(wires, adapt)
                async for delta in aiter_deltas(converse_events, reducer):
                    yield delta
            finally:
                await aclose_events(events)

    # -- InvokeModel

    def invoke(self, request: Mapping[str, Any], *, deadline: DeadlineArg = None) -> ConverseResult:
        """Call InvokeModel with a body built by :func:`build_invoke_request`."""
        with self._bounded(request, deadline) as bound:
            response = self._call("invoke_model", request, bound)
            raw = response["body"].read()
            if bound is not None:
                bound.check()  # a body cut at the deadline may look complete
            return parse_invoke_response(response, raw, model_id=request["modelId"])

    async def ainvoke(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> ConverseResult:
        """Async :meth:`invoke`."""
        bound = self._deadline(request, deadline)
        with self._errors(request):
            async with _abound(bound):
                response = await self._acall("invoke_model", request)
                async with response["body"] as body:
                    raw = await body.read()
            return parse_invoke_response(response, raw, model_id=request["modelId"])

    # -- CountTokens

    def count_tokens(self, request: Mapping[str, Any], *, deadline: DeadlineArg = None) -> int:
        """Input tokens the Converse ``request`` would use, from the CountTokens API."""
        with self._bounded(request, deadline) as bound:
            response = self._call("count_tokens", build_count_tokens_request(request), bound)
            return parse_count_tokens_response(response, model_id=request["modelId"])

    async def acount_tokens(
        self, request: Mapping[str, Any], *, deadline: DeadlineArg = None
    ) -> int:
        """Async :meth:`count_tokens`."""
        bound = self._deadline(request, deadline)
        with self._errors(request):
            async with _abound(bound):
                response = await self._acall("count_tokens", build_count_tokens_request(request))
            return parse_count_tokens_response(response, model_id=request["modelId"])


def _abound(deadline: Deadline | None) -> Any:
    return contextlib.nullcontext() if deadline is None else deadline.abound()
