"""The one place that builds clients: the lean transport by default, boto3/aiobotocore on request.

Every bedrock-kit class that talks to AWS takes the same :class:`ClientSettings` and asks
:class:`ClientPool` for its clients: one sync client per object, one async client per object
and event loop, reused for every call.

Lifecycle: an async client is closed when its event loop shuts down (``asyncio.run`` and
``Runner.close`` run ``loop.shutdown_asyncgens()``, which closes it) and dropped from the
pool, so a loop never leaves a client behind; a long-lived loop (Jupyter) keeps one.
``close()`` / ``aclose()`` release everything at once.

Pickling: a pool pickles as its settings only. Credentials and injected clients never travel;
an unpickled pool that had them raises :class:`ConfigurationError` on its first call instead
of silently signing with whatever credentials the other process finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from bedrock_kit._secrets import install_log_redaction, remember_secrets
from bedrock_kit.core.transport.single_flight import SingleFlight
from bedrock_kit.core.transport.telemetry import install_botocore_spans
from bedrock_kit.core.transport.validation import check_endpoint_url, check_region_name
from bedrock_kit.core.transport.wire import install_body_check
from bedrock_kit.errors import ConfigurationError

_RETRY_MODES = ("standard", "adaptive", "legacy")
_SECRET_FIELDS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "bearer_token",
)


def withheld_error(what: str) -> ConfigurationError:
    """The error of a call on an unpickled object whose ``what`` did not travel."""
    return ConfigurationError(
        f"this object was unpickled without its {what}: credentials and injected clients never "
        "travel in a pickle. Pass them again (build the object in this process with "
        "aws_access_key_id / aws_secret_access_key / aws_session_token, or client= / "
        "async_client=), or use credentials_profile_name or an IAM role (the default "
        "credential chain), which need no keys in the object"
    )


class Withheld:
    """Stands, in a pickle, for a credential or an injected client that was left out.

    Adapters put it in place of their secret and client fields; :func:`client_settings_from`
    and :class:`ClientPool` turn it into a :class:`ConfigurationError` on the first call.

    Args:
        what: The argument it replaces (``aws_secret_access_key``, ``client``...).
    """

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what} withheld from the pickle>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Withheld) and other.what == self.what

    def __hash__(self) -> int:
        return hash((Withheld, self.what))


def withhold(name: str, value: Any) -> Any:
    """What a pickle keeps of a secret or client argument: None stays None."""
    return None if value is None or isinstance(value, Withheld) else Withheld(name)


@dataclass(frozen=True)
class ClientSettings:
    """How to reach Bedrock. Secrets are excluded from ``repr``."""

    region_name: str | None = None
    """AWS region; falls back to the profile or ``AWS_REGION``."""
    endpoint_url: str | None = None
    """Custom endpoint (VPC endpoint, LocalBedrock)."""
    profile_name: str | None = None
    """Named profile from the AWS config files."""
    aws_access_key_id: str | None = field(default=None, repr=False)
    """Explicit access key id."""
    aws_secret_access_key: str | None = field(default=None, repr=False)
    """Explicit secret key."""
    aws_session_token: str | None = field(default=None, repr=False)
    """Explicit session token."""
    max_retries: int | None = None
    """Total attempts botocore makes (its ``max_attempts``); None keeps botocore's default."""
    retry_mode: str = "standard"
    """botocore retry mode: ``standard``, ``adaptive`` or ``legacy``."""
    timeout: float | None = None
    """Read timeout in seconds; None keeps botocore's 60 s."""
    connect_timeout: float | None = None
    """Connect timeout in seconds; None keeps botocore's 60 s."""
    max_pool_connections: int = 64
    """HTTP connection pool size (botocore's default of 10 throttles concurrent async calls)."""
    _withheld: bool = field(default=False, init=False, repr=False, compare=False)
    # True on an unpickled copy whose explicit credentials were left out of the pickle.
    config: Any = field(default=None, compare=False)
    """A ``botocore.config.Config`` of the caller's, merged over bedrock-kit's defaults;
    explicit ``timeout`` and ``max_retries`` win over it."""
    bearer_token: str | None = field(default=None, repr=False)
    """A Bedrock API key: requests carry ``Authorization: Bearer`` instead of SigV4, for this
    client only (botocore's own route, ``AWS_BEARER_TOKEN_BEDROCK``, is process-wide)."""

    def __post_init__(self) -> None:
        # botocore only checks these when it builds the client, with bare ValueErrors.
        if self.region_name is not None:
            check_region_name(self.region_name)
        if self.endpoint_url is not None:
            check_endpoint_url(self.endpoint_url)
        if self.retry_mode not in _RETRY_MODES:
            raise ConfigurationError(
                f"retry_mode must be one of {_RETRY_MODES}, got {self.retry_mode!r}"
            )
        if self.max_retries is not None and (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ConfigurationError(f"max_retries must be an int >= 0, got {self.max_retries!r}")
        for name in ("timeout", "connect_timeout"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
            ):
                raise ConfigurationError(f"{name} must be a positive number, got {value!r}")
        pool = self.max_pool_connections
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            raise ConfigurationError(f"max_pool_connections must be an int >= 1, got {pool!r}")
        if self.config is not None and not _is_botocore_config(self.config):
            raise ConfigurationError(
                f"config must be a botocore.config.Config, got {type(self.config).__name__}"
            )
        if bool(self.aws_access_key_id) != bool(self.aws_secret_access_key):
            raise ConfigurationError(
                "aws_access_key_id and aws_secret_access_key must be given together"
            )
        # Error messages and log records redact these literally, whatever their shape.
        remember_secrets(self, (getattr(self, name) for name in _SECRET_FIELDS))

    @property
    def has_explicit_credentials(self) -> bool:
        """Whether keys were given (or were, before this copy was unpickled)."""
        return self._withheld or any(getattr(self, name) for name in _SECRET_FIELDS)

    def __getstate__(self) -> dict[str, Any]:
        # Credentials never travel in a pickle; the copy refuses to call instead of silently
        # signing with other credentials.
        state = dict(self.__dict__)
        state["_withheld"] = self.has_explicit_credentials
        for name in _SECRET_FIELDS:
            state[name] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __copy__(self) -> ClientSettings:
        return self  # immutable: a copy in memory may keep its keys

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientSettings:
        return self

    def check_usable(self) -> None:
        """Raise when this is an unpickled copy whose credentials were left out.

        Raises:
            ConfigurationError: Naming the fix (pass the keys again, or use a profile or role).
        """
        if self._withheld:
            raise withheld_error("credentials (aws_access_key_id / aws_secret_access_key)")

    def with_region(self, region_name: str | None) -> ClientSettings:
        """Copy with another region."""
        return replace(self, region_name=region_name)

    def botocore_config(self) -> Any:
        """The ``botocore.config.Config`` for these settings.

        bedrock-kit's defaults, then the caller's ``config``, then the explicit timeouts and
        retry count, each overriding the one before.
        """
        from botocore import UNSIGNED
        from botocore.config import Config

        retries: Any = {"mode": self.retry_mode}
        config = Config(
            retries=retries,
            max_pool_connections=self.max_pool_connections,
            user_agent_extra="bedrock-kit",
        )
        if self.config is not None:
            config = config.merge(self.config)
        explicit: dict[str, Any] = {}
        if self.max_retries is not None:
            # max_retries counts retries, botocore's total_max_attempts counts the first try.
            explicit["retries"] = {
                "mode": self.retry_mode,
                "total_max_attempts": self.max_retries + 1,
            }
        if self.timeout is not None:
            explicit["read_timeout"] = self.timeout
        if self.connect_timeout is not None:
            explicit["connect_timeout"] = self.connect_timeout
        if self.bearer_token:
            explicit["signature_version"] = UNSIGNED  # the bearer header replaces SigV4
        return config.merge(Config(**explicit)) if explicit else config

    def _add_bearer(self, client: Any) -> Any:
        token = self.bearer_token
        if token:

            def bearer(request: Any, **_: Any) -> None:
                request.headers["Authorization"] = f"Bearer {token}"

            client.meta.events.register("before-send", bearer)
        return client

    def _session_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.profile_name:
            kwargs["profile_name"] = self.profile_name
        if self.aws_access_key_id:
            kwargs["aws_access_key_id"] = self.aws_access_key_id
            kwargs["aws_secret_access_key"] = self.aws_secret_access_key
            kwargs["aws_session_token"] = self.aws_session_token
        return kwargs

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"config": self.botocore_config()}
        if self.region_name:
            kwargs["region_name"] = self.region_name
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return kwargs

    def create_client(self, service: str) -> Any:
        """A new boto3 client for ``service``, from a session shared by equal credentials.

        Building a boto3 session loads botocore's data files (about 150 ms); objects with the
        same profile and credentials share one session, so each builds only its client.

        Raises:
            ConfigurationError: On an unpickled copy whose credentials were left out.
        """
        self.check_usable()
        kwargs = self._session_kwargs()
        with _SESSIONS_LOCK:  # boto3 sessions are not thread-safe; their clients are
            session = _session_for(tuple(sorted(kwargs.items())))
            client = install_body_check(
                self._add_bearer(session.client(service, **self._client_kwargs()))
            )
        install_log_redaction()  # botocore creates some of its loggers while building one
        return client

    async def create_async_client(self, service: str) -> Any:
        """A new, entered aiobotocore client for ``service`` (close with ``__aexit__``).

        Raises:
            ConfigurationError: On an unpickled copy whose credentials were left out.
        """
        self.check_usable()
        try:
            from aiobotocore.session import AioSession
        except ImportError as exc:
            raise ImportError(
                "create_async_client builds an aiobotocore client: pip install aiobotocore "
                "(bedrock-kit's own async calls need only the async extra, aiohttp)"
            ) from exc
        kwargs = self._session_kwargs()
        session = AioSession(profile=kwargs.pop("profile_name", None))
        # Every loop builds its own client (aiohttp is bound to its loop), but the service
        # models need not be parsed again each time: 0.2-0.6 s -> about 0.05 s per loop.
        session.register_component(
            "data_loader", _loader_for(session.get_config_variable("data_path"))
        )
        context = session.create_client(service, **self._client_kwargs(), **kwargs)
        client = install_body_check(self._add_bearer(await context.__aenter__()))
        install_log_redaction()  # botocore and aiobotocore create loggers while building one
        return client


_SESSIONS_LOCK = threading.Lock()


# Members real Bedrock responses carry that botocore's service model lacks (Converse
# ``usage.serverToolUsage``), merged into the model as botocore "sdk-extras" so the parser
# keeps them instead of dropping them. Searched last: botocore's own data always wins.
MODEL_EXTRAS = str(Path(__file__).with_name("botocore_data"))


def add_model_extras(loader: Any) -> Any:
    """Add bedrock-kit's service-model extras to a botocore loader (idempotent)."""
    paths = getattr(loader, "search_paths", None)
    if isinstance(paths, list) and MODEL_EXTRAS not in paths:
        paths.append(MODEL_EXTRAS)
    return loader


@lru_cache(maxsize=4)
def _loader_for(data_path: str | None) -> Any:
    from botocore.loaders import create_loader

    return add_model_extras(create_loader(data_path))


def _is_botocore_config(value: Any) -> bool:
    from botocore.config import Config

    return isinstance(value, Config)


@lru_cache(maxsize=32)
def _session_for(kwargs: tuple[tuple[str, Any], ...]) -> Any:
    import boto3

    session = boto3.session.Session(**dict(kwargs))
    add_model_extras(session._session.get_component("data_loader"))
    return session


def _plain_secret(value: Any) -> Any:
    # Adapters hold pydantic SecretStr; the core needs only the string.
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


def client_settings_from(
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    credentials_profile_name: str | None = None,
    aws_access_key_id: Any = None,
    aws_secret_access_key: Any = None,
    aws_session_token: Any = None,
    max_retries: int | None = None,
    retry_mode: str | None = None,
    timeout: float | None = None,
    config: Any = None,
    bearer_token: Any = None,
    max_pool_connections: int = 64,
) -> ClientSettings:
    """:class:`ClientSettings` from the client keyword arguments every bedrock-kit class takes.

    Secrets may be plain strings or anything with ``get_secret_value()`` (pydantic SecretStr).
    A :class:`Withheld` secret (an unpickled adapter that was given keys) gives settings that
    raise :class:`ConfigurationError` on the first call.

    Raises:
        ConfigurationError: A bad retry mode, retry count, timeout or half a key pair.
    """
    secrets = (aws_access_key_id, aws_secret_access_key, aws_session_token)
    withheld = any(isinstance(s, Withheld) for s in secrets)
    key_id, secret, token = (None, None, None) if withheld else map(_plain_secret, secrets)
    settings = ClientSettings(
        region_name=region_name,
        endpoint_url=endpoint_url,
        profile_name=credentials_profile_name,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        max_retries=max_retries,
        retry_mode=retry_mode or "standard",
        timeout=timeout,
        config=config,
        bearer_token=_plain_secret(bearer_token),
        max_pool_connections=max_pool_connections,
    )
    if withheld:
        object.__setattr__(settings, "_withheld", True)
    return settings


def check_client(client: Any, service: str, argument: str) -> Any:
    """Reject an injected client of the wrong service, naming the argument."""
    meta = getattr(client, "meta", None)
    model = getattr(meta, "service_model", None)
    name = getattr(model, "service_name", None)
    if name != service:
        raise ConfigurationError(
            f"{argument} must be a {service!r} client, got {name or type(client).__name__!r}"
        )
    return install_botocore_spans(install_body_check(client))


class _LoopClient:
    """The async client of one event loop and the async generator that closes it.

    The generator is started on its loop, so the loop tracks it: ``shutdown_asyncgens()``
    (run by ``asyncio.run`` at exit) closes it, which closes the client; if the pool is
    garbage-collected first, the loop's finalizer hook closes it the same way.
    """

    def __init__(self, client: Any, closer: Any) -> None:
        self.client = client
        self.closer = closer


async def _close_with_loop(client: Any, forget: Callable[[Any], None]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        forget(client)
        # Closing at loop shutdown must not raise into asyncio's shutdown: there is nobody
        # left to handle it, and the connection is gone either way.
        with contextlib.suppress(Exception):
            await client.__aexit__(None, None, None)


_CLOSING: set[Any] = set()  # close tasks scheduled by a sync close(), kept until done


class ClientPool:
    """Lazily built, reused clients for one service: one sync, one async per event loop.

    Args:
        settings: How to reach Bedrock.
        service: botocore service name (``bedrock-runtime``, ``bedrock-agent-runtime``).
        client: An injected sync client, used as is (and never closed by the pool).
        async_client: An injected async client, used on every loop as is (never closed).
    """

    def __init__(
        self,
        settings: ClientSettings,
        service: str,
        *,
        client: Any = None,
        async_client: Any = None,
    ) -> None:
        self.settings = settings
        self.service = service
        withheld = [a for a in (client, async_client) if isinstance(a, Withheld)]
        self._withheld = withheld[0].what if withheld else None
        client, async_client = (
            None if isinstance(a, Withheld) else a for a in (client, async_client)
        )
        self._client = check_client(client, service, "client") if client is not None else None
        self._owns_client = client is None
        self._injected_async = (
            check_client(async_client, service, "async_client")
            if async_client is not None
            else None
        )
        self._async: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        self._building = SingleFlight()
        self._lock = threading.Lock()
        self.created = 0
        """How many clients this pool built (benchmarks check it stays at one per loop)."""
        install_log_redaction()

    # -- pickling: settings only; the other side builds its clients on first use

    def __getstate__(self) -> dict[str, Any]:
        injected = not self._owns_client or self._injected_async is not None
        return {
            "settings": self.settings,
            "service": self.service,
            "withheld": self._withheld or ("client" if injected else None),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        fresh = ClientPool(state["settings"], state["service"])
        self.__dict__.update(fresh.__dict__)
        self._withheld = state["withheld"]

    def __copy__(self) -> ClientPool:
        # A copy shares the settings and injected clients, never the clients it built.
        clone = ClientPool(
            self.settings,
            self.service,
            client=None if self._owns_client else self._client,
            async_client=self._injected_async,
        )
        clone._withheld = self._withheld
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientPool:
        return self.__copy__()

    def _check_usable(self) -> None:
        install_log_redaction()
        if self._withheld is not None:
            raise withheld_error(f"injected {self._withheld}")

    # -- clients

    @property
    def client(self) -> Any:
        """The sync client (the lean transport; an injected client as is), built on first use.

        Raises:
            ConfigurationError: On an unpickled pool whose credentials or client were left out.
        """
        install_log_redaction()  # _check_usable, inline: read on every call
        if self._withheld is not None:
            raise withheld_error(f"injected {self._withheld}")
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
                    self.created += 1
        return self._client

    @property
    def region(self) -> str | None:
        """Region of the client (resolved by botocore when not given)."""
        if self._client is not None:
            return str(self._client.meta.region_name)
        return self.settings.region_name

    @property
    def open_async_clients(self) -> int:
        """How many event loops hold an async client of this pool right now."""
        return len(self._async)

    async def async_client(self) -> Any:
        """The async client (lean transport, aiohttp) for the running loop, built on first use.

        The client is closed and dropped when the loop shuts down (``asyncio.run``'s exit).

        Raises:
            ConfigurationError: On an unpickled pool whose credentials or client were left out.
        """
        self._check_usable()
        if self._injected_async is not None:
            return self._injected_async
        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is not None:
            return found.client
        self._drop_closed_loops()
        # The calls that start together on a fresh pool wait for one build, made off the
        # loop (a botocore session loads its data files and resolves credentials: 150 ms,
        # more when the chain asks IMDS or SSO); see SingleFlight.
        client = await self._building.run("client", self._abuild)
        with self._lock:
            found = self._async.get(loop)
            if found is None:
                entry = _LoopClient(client, _close_with_loop(client, self._forgetter(loop)))
                self._async[loop] = entry
        if found is not None:  # another waiter of this build registered it
            return found.client
        self.created += 1
        await entry.closer.__anext__()  # started on this loop, so the loop will close it
        return client

    def _build(self) -> Any:
        from bedrock_kit.core.transport.lean import LEAN_SERVICES, build_lean_client

        if self.service in LEAN_SERVICES:
            return build_lean_client(self.settings, self.service)
        return self.settings.create_client(self.service)  # S3 and the like: boto3

    async def _abuild(self) -> Any:
        from bedrock_kit.core.transport.lean import LEAN_SERVICES, build_lean_client

        if self.service in LEAN_SERVICES:
            return await asyncio.to_thread(
                build_lean_client, self.settings, self.service, asynchronous=True
            )
        return await self.settings.create_async_client(self.service)  # needs aiobotocore

    def _forgetter(self, loop: asyncio.AbstractEventLoop) -> Callable[[Any], None]:
        ref = weakref.ref(self)  # the closer must not keep the pool alive

        def forget(client: Any) -> None:
            pool = ref()
            if pool is None:
                return
            with pool._lock:
                found = pool._async.get(loop)
                if found is not None and found.client is client:  # not a newer client
                    del pool._async[loop]

        return forget

    def _drop_closed_loops(self) -> None:
        # A loop closed without shutdown_asyncgens() (a hand-run loop) cannot close its
        # client any more; let it go rather than keep it (and the loop) forever.
        with self._lock:
            for loop in [loop for loop in self._async if loop.is_closed()]:
                del self._async[loop]
            self._building.forget_closed_loops()

    # -- closing

    def _take_async(self) -> list[tuple[asyncio.AbstractEventLoop, _LoopClient]]:
        with self._lock:
            taken, self._async = list(self._async.items()), {}
        return taken

    def _close_sync(self) -> None:
        client = self._client
        if client is not None and self._owns_client:
            self._client = None
            client.close()

    def close(self) -> None:
        """Close every client this pool built (injected clients stay open).

        The sync client closes now. An async client closes on its own loop: now when that
        loop is idle, as soon as it runs again when it is busy in another thread or task.
        The next call builds new clients.
        """
        self._close_sync()
        for loop, entry in self._take_async():
            _close_on(loop, entry)

    async def aclose(self) -> None:
        """Close every client this pool built, awaiting the running loop's (see :meth:`close`)."""
        self._close_sync()
        running = asyncio.get_running_loop()
        for loop, entry in self._take_async():
            if loop is running:
                await entry.closer.aclose()
            else:
                _close_on(loop, entry)


def _close_on(loop: asyncio.AbstractEventLoop, entry: _LoopClient) -> None:
    """Close ``entry`` on ``loop`` from code that may not await (sync close, another loop)."""
    if loop.is_closed():
        return  # nothing can run there any more; the garbage collector has it
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is running:
        task = loop.create_task(entry.closer.aclose())
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)
    elif loop.is_running():
        asyncio.run_coroutine_threadsafe(entry.closer.aclose(), loop)
    elif running is None:
        loop.run_until_complete(entry.closer.aclose())
    # else: an idle loop while another runs in this thread; dropping the closer lets the
    # idle loop's finalizer hook schedule the close for when it runs again.
