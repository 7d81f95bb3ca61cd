"""An overall deadline per call: however the server trickles, retries included.

botocore's ``read_timeout`` bounds each socket read, not a call: a server sending one byte
every half second holds a call with ``timeout=1`` for as long as it likes, and retries add
their backoff sleeps on top. A :class:`Deadline` bounds the whole call.

Async calls run under an asyncio timeout (every step of a stream too). Sync calls on the lean
transport (the default client) are bounded by the transport itself, in the caller's thread:
it reads :func:`current_deadline` and refuses an attempt or a backoff sleep that would end
past the deadline, caps each attempt's connect and read timeouts by the time left, and arms a
watchdog that shuts the attempt's socket down at the deadline (headers or body trickled).
Sync calls on an injected boto3 client use four mechanisms together, since a blocked socket
read cannot be interrupted from Python:

* the botocore call runs in a short-lived worker thread and the caller waits at most the
  remaining time, so nothing (DNS, connect, backoff sleeps, a trickled header) keeps the
  caller past the deadline;
* a ``before-send`` hook refuses every attempt (retries included) once the deadline passed,
  and bounds the attempt's read timeout by the remaining time; a ``needs-retry`` hook skips
  the backoff sleep once it passed (a sleep already begun ends on its own: the caller has
  been released at the deadline, the worker exits when the sleep is over);
* once response headers arrived, a watchdog timer shuts the connection's socket down at the
  deadline, so a trickled body or event stream ends there and the worker does not linger;
* stream iteration checks the deadline between events.

Whatever error the cut connection produces, a call whose deadline passed raises
:class:`~bedrock_kit.errors.DeadlineExceededError` (a ModelTimeoutError) naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import socket
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from bedrock_kit.core.transport.validation import check_number
from bedrock_kit.errors import ConfigurationError, DeadlineExceededError

__all__ = ["Deadline", "check_deadline", "current_deadline"]

T = TypeVar("T")

_ACTIVE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "bedrock_kit_deadline", default=None
)
_HOOKED: weakref.WeakSet[Any] = weakref.WeakSet()
_HOOK_LOCK = threading.Lock()


def check_deadline(value: Any, argument: str = "deadline") -> float | None:
    """Validate a ``deadline=`` argument: None, or a positive finite number of seconds."""
    if value is None:
        return None
    check_number(value, argument)
    if not 0 < value < math.inf:
        raise ConfigurationError(f"{argument} must be a positive number of seconds, got {value!r}")
    return float(value)


class _Watch:
    """Shuts one connection's socket down at the deadline, unless the response finished.

    ``socket_of`` is asked at that moment: a connection still being set up may have no
    socket yet (its connect timeout is bounded by the deadline already).
    """

    def __init__(self, socket_of: Callable[[], Any]) -> None:
        self._socket_of = socket_of
        self._lock = threading.Lock()
        self._done = False

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            sock = self._socket_of()
            if not isinstance(sock, socket.socket):
                return
            # The plain socket's shutdown, also for an SSLSocket: its own shutdown would drop
            # the TLS object under the reading thread; the fd-level one just ends the read.
            with contextlib.suppress(OSError):  # already closed: nothing left to stop
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def stand_down(self) -> None:
        with self._lock:
            self._done = True


class Deadline:
    """A wall-clock bound on one call, started when the call starts.

    Args:
        seconds: How long the call may take in total.
        model_id: Named in the error, with ``region``.
        region: AWS region, for the error.
    """

    def __init__(
        self, seconds: float, *, model_id: str | None = None, region: str | None = None
    ) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.model_id = model_id
        self.region = region
        self._watches: list[_Watch] = []
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()
        self._abandoned = False

    @classmethod
    def of(cls, value: Deadline | float | None, **context: Any) -> Deadline | None:
        """A running Deadline for ``value`` seconds (a Deadline passes through, None too)."""
        if value is None or isinstance(value, Deadline):
            return value
        return cls(check_deadline(value) or 0.0, **context)

    def bounded(self, seconds: float | None) -> float:
        """``seconds`` (a connect or read timeout; None: none) capped by the time left."""
        left = max(self.remaining(), 0.001)
        return left if seconds is None else min(seconds, left)

    def remaining(self) -> float:
        """Seconds left (negative once expired)."""
        return self.expires - time.monotonic()

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self._abandoned or self.remaining() <= 0

    def error(self) -> DeadlineExceededError:
        """The error a call past this deadline raises."""
        return DeadlineExceededError(
            f"the call did not finish within its deadline of {self.seconds:g} s",
            deadline=self.seconds,
            model_id=self.model_id,
            region=self.region,
        )

    def check(self) -> None:
        """Raise DeadlineExceededError if the deadline has passed."""
        if self.expired():
            raise self.error()

    @contextmanager
    def translating(self) -> Iterator[None]:
        """Errors raised once the deadline passed (a cut socket...) become the deadline's."""
        try:
            yield
        except DeadlineExceededError:
            raise
        except Exception as exc:
            if self.expired():
                raise self.error() from exc
            raise

    # -- sync: worker thread, before-send hook, socket watchdog

    def call(self, client: Any, func: Callable[[], T]) -> T:
        """Run ``func`` (one botocore call on ``client``) within the deadline.

        Raises:
            DeadlineExceededError: The deadline passed first; the worker is told to stop.
        """
        self.check()
        if getattr(client, "enforces_deadline", False):
            return self._native(func)
        _hook(client)
        box: dict[str, Any] = {}
        finished = threading.Event()
        context = contextvars.copy_context()

        def work() -> None:
            try:
                box["result"] = context.run(self._run, func)
            except BaseException as exc:
                box["error"] = exc
            finally:
                finished.set()
                if self._abandoned:
                    _close_streams(box.get("result"))

        threading.Thread(target=work, name="bedrock-kit-deadline", daemon=True).start()
        if not finished.wait(max(self.remaining(), 0.0)):
            self.abandon()
            raise self.error()
        if "error" in box:
            error = box["error"]
            if self.expired() and not isinstance(error, DeadlineExceededError):
                raise self.error() from error
            raise error
        result: T = box["result"]
        return result

    def _native(self, func: Callable[[], T]) -> T:
        # The lean transport bounds every attempt itself (see current_deadline): no worker.
        token = _ACTIVE.set(self)
        try:
            with self.translating():
                return func()
        finally:
            _ACTIVE.reset(token)

    def _run(self, func: Callable[[], T]) -> T:
        _ACTIVE.set(self)  # inside the worker's copied context only
        return func()

    def iterate(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` (stream events) with the deadline checked before every one."""
        iterator = iter(items)
        while True:
            self.check()
            with self.translating():
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    def abandon(self) -> None:
        """Stop now: cut every watched connection; later attempts are refused."""
        self._abandoned = True
        with self._lock:
            watches = list(self._watches)
        for watch in watches:
            watch.fire()

    def close(self) -> None:
        """The call is over: stand every watchdog down."""
        with self._lock:
            timers, watches = list(self._timers), list(self._watches)
            self._timers.clear()
            self._watches.clear()
        for timer in timers:
            timer.cancel()
        for watch in watches:
            watch.stand_down()

    def _watch(self, response: Any) -> _Watch | None:
        connection = getattr(getattr(response, "raw", None), "connection", None)
        sock = getattr(connection, "sock", None)
        if not isinstance(sock, socket.socket):
            return None
        return self.watch(lambda: sock)

    def watch(self, socket_of: Callable[[], Any]) -> _Watch:
        """Shut the socket ``socket_of()`` returns down at the deadline (until stood down).

        Every watch stands down when the call is over (:meth:`close`).
        """
        watch = _Watch(socket_of)
        timer = threading.Timer(max(self.remaining(), 0.0), watch.fire)
        timer.daemon = True
        timer.name = "bedrock-kit-watchdog"
        with self._lock:
            self._watches.append(watch)
            self._timers.append(timer)
        timer.start()
        if self._abandoned:
            watch.fire()
        return watch

    def _send(self, session: Any, request: Any) -> Any:
        """Send one attempt ourselves so the response's socket can be watched."""
        streaming = request.stream_output
        request.stream_output = True  # return after the headers; the body is read below
        try:
            response = session.send(request)
        finally:
            request.stream_output = streaming
        watch = self._watch(response)
        if not streaming:
            with self.translating():
                response.content  # noqa: B018 - reads the body under the watchdog
            if watch is not None:
                watch.stand_down()
            self.check()  # a body cut at the deadline may look complete to urllib3
        return response

    # -- async

    @asynccontextmanager
    async def abound(self) -> AsyncIterator[None]:
        """Run the block under an asyncio timeout at the deadline."""
        self.check()
        if sys.version_info >= (3, 11):
            loop = asyncio.get_running_loop()
            scope = asyncio.timeout_at(loop.time() + self.remaining())
            try:
                async with scope:
                    yield
            except TimeoutError as exc:
                if scope.expired():
                    raise self.error() from exc
                raise
        else:  # pragma: no cover - Python 3.10
            task = asyncio.current_task()
            fired = []
            handle = asyncio.get_running_loop().call_later(
                self.remaining(), lambda: (fired.append(True), task and task.cancel())
            )
            try:
                yield
            except asyncio.CancelledError as exc:
                if fired:
                    raise self.error() from exc
                raise
            finally:
                handle.cancel()

    async def aiterate(self, items: AsyncIterable[T]) -> AsyncIterator[T]:
        """Async :meth:`iterate`: every step runs under the deadline's timeout."""
        iterator = items.__aiter__()
        while True:
            async with self.abound():
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
            yield item


def current_deadline() -> Deadline | None:
    """The deadline of the call running in this context (set by :meth:`Deadline.call`).

    A client with ``enforces_deadline = True`` (the lean transport) reads it on every call
    and bounds its attempts itself: timeouts from the time left, no attempt or backoff past
    the deadline, a watchdog on each connection.
    """
    return _ACTIVE.get()


def _close_streams(result: Any) -> None:
    # A worker that finished after its caller gave up: close what nobody will read.
    if isinstance(result, dict):
        for value in result.values():
            close = getattr(value, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):  # best effort: the caller has gone
                    close()


def _hook(client: Any) -> None:
    """Register the deadline's ``before-send`` hook on a boto3 client, once."""
    with _HOOK_LOCK:
        if client in _HOOKED:
            return
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is None:
            return
        ref = weakref.ref(client)

        def before_send(request: Any, **_: Any) -> Any:
            deadline = _ACTIVE.get()
            if deadline is None:
                return None
            deadline.check()
            configured = getattr(request.context.get("client_config"), "read_timeout", None)
            remaining = max(deadline.remaining(), 0.001)
            request.context["read_timeout"] = min(remaining, configured or remaining)
            owner = ref()
            session = getattr(getattr(owner, "_endpoint", None), "http_session", None)
            if session is None:  # not botocore's usual client: the other mechanisms remain
                return None
            return deadline._send(session, request)

        def needs_retry(**_: Any) -> None:
            # Before botocore's retry handler: no backoff sleep once the deadline passed.
            deadline = _ACTIVE.get()
            if deadline is not None:
                deadline.check()

        events.register("before-send", before_send, unique_id="bedrock-kit-deadline")
        events.register_first("needs-retry", needs_retry, unique_id="bedrock-kit-deadline")
        _HOOKED.add(client)
