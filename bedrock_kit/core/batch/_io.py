"""One implementation of each batch flow, run by a sync or an async driver.

A flow is a generator that yields the I/O it needs (:class:`Call`, :class:`Read`,
:class:`List`, :class:`Put`, :class:`Sleep`, :class:`Invoke`, or :class:`Many` of them) and
receives each answer; :func:`run` answers with boto3, :func:`arun` with aiobotocore. Errors
are translated once here and thrown into the flow, which may handle them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.transport.clients import ClientPool
from bedrock_kit.errors import BedrockKitError, translate_errors

__all__ = ["Call", "Flow", "Invoke", "Io", "List", "Many", "Put", "Read", "Sleep", "arun", "run"]

T = TypeVar("T")
_CONCURRENCY = 8  # online fallback: calls in flight at once


@dataclass(frozen=True)
class Call:
    """A control-plane operation (boto3 method name and arguments)."""

    operation: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Read:
    """An S3 object's bytes."""

    bucket: str
    key: str


@dataclass(frozen=True)
class List:
    """Every key under an S3 prefix (all pages)."""

    bucket: str
    prefix: str


@dataclass(frozen=True)
class Put:
    """Write an S3 object."""

    bucket: str
    key: str
    body: bytes


@dataclass(frozen=True)
class Sleep:
    """Wait (``time.sleep`` or ``asyncio.sleep``)."""

    seconds: float


@dataclass(frozen=True)
class Invoke:
    """One online InvokeModel call (the fallback below the job minimum); answers the
    result or the typed error."""

    request: Mapping[str, Any]


@dataclass(frozen=True)
class Many:
    """Several operations at once; answers their results in order."""

    ops: tuple[Any, ...]


Flow: TypeAlias = Generator[Any, Any, T]


@dataclass
class Io:
    """The clients a flow's operations use."""

    bedrock: ClientPool
    """``bedrock`` (the control plane)."""
    s3: ClientPool
    """``s3``."""
    runtime: ConverseRuntime | None = None
    """For the online fallback."""


def _sync(io: Io, op: Any) -> Any:
    if isinstance(op, Many):
        with ThreadPoolExecutor(_CONCURRENCY) as pool:
            return list(pool.map(lambda one: _sync(io, one), op.ops))
    if isinstance(op, Sleep):
        time.sleep(op.seconds)
        return None
    if isinstance(op, Invoke):
        assert io.runtime is not None
        try:
            return io.runtime.invoke(op.request)
        except BedrockKitError as exc:
            return exc
    with translate_errors(region=io.bedrock.region):
        if isinstance(op, Call):
            return getattr(io.bedrock.client, op.operation)(**op.kwargs)
        if isinstance(op, Read):
            return io.s3.client.get_object(Bucket=op.bucket, Key=op.key)["Body"].read()
        if isinstance(op, Put):
            io.s3.client.put_object(Bucket=op.bucket, Key=op.key, Body=op.body)
            return None
        if isinstance(op, List):
            keys: list[str] = []
            pages = io.s3.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=op.bucket, Prefix=op.prefix):
                keys += [item["Key"] for item in page.get("Contents") or ()]
            return keys
    raise TypeError(f"unknown batch operation {op!r}")


async def _async(io: Io, op: Any) -> Any:
    if isinstance(op, Many):
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(inner: Any) -> Any:
            async with gate:
                return await _async(io, inner)

        return list(await asyncio.gather(*(one(inner) for inner in op.ops)))
    if isinstance(op, Sleep):
        await asyncio.sleep(op.seconds)
        return None
    if isinstance(op, Invoke):
        assert io.runtime is not None
        try:
            return await io.runtime.ainvoke(op.request)
        except BedrockKitError as exc:
            return exc
    with translate_errors(region=io.bedrock.region):
        if isinstance(op, Call):
            client = await io.bedrock.async_client()
            return await getattr(client, op.operation)(**op.kwargs)
        s3 = await io.s3.async_client()
        if isinstance(op, Read):
            response = await s3.get_object(Bucket=op.bucket, Key=op.key)
            async with response["Body"] as body:
                return await body.read()
        if isinstance(op, Put):
            await s3.put_object(Bucket=op.bucket, Key=op.key, Body=op.body)
            return None
        if isinstance(op, List):
            keys: list[str] = []
            async for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=op.bucket, Prefix=op.prefix
            ):
                keys += [item["Key"] for item in page.get("Contents") or ()]
            return keys
    raise TypeError(f"unknown batch operation {op!r}")


def run(flow: Flow[T], io: Io) -> T:
    """Drive ``flow`` with blocking calls."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            op = flow.throw(error) if error is not None else flow.send(answer)
        except StopIteration as stop:
            result: T = stop.value
            return result
        try:
            answer, error = _sync(io, op), None
        except Exception as exc:
            answer, error = None, exc


async def arun(flow: Flow[T], io: Io) -> T:
    """Drive ``flow`` with aiobotocore (native async)."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            op = flow.throw(error) if error is not None else flow.send(answer)
        except StopIteration as stop:
            result: T = stop.value
            return result
        try:
            answer, error = await _async(io, op), None
        except Exception as exc:
            answer, error = None, exc
