"""The one place that builds boto3 and aiobotocore clients.

Every bedrock-kit class that talks to AWS takes the same :class:`ClientSettings` and asks
:class:`ClientPool` for its clients: one sync client per object, one async client per object
and event loop, reused for every call.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from bedrock_kit.errors import ConfigurationError

_RETRY_MODES = ("standard", "adaptive", "legacy")
_SECRET_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")


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

    def __post_init__(self) -> None:
        if self.retry_mode not in _RETRY_MODES:
            raise ConfigurationError(
                f"retry_mode must be one of {_RETRY_MODES}, got {self.retry_mode!r}"
            )
        if self.max_retries is not None and (
            not isinstance(self.max_retries, int) or self.max_retries < 0
        ):
            raise ConfigurationError(f"max_retries must be an int >= 0, got {self.max_retries!r}")
        for name in ("timeout", "connect_timeout"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                raise ConfigurationError(f"{name} must be a positive number, got {value!r}")
        if bool(self.aws_access_key_id) != bool(self.aws_secret_access_key):
            raise ConfigurationError(
                "aws_access_key_id and aws_secret_access_key must be given together"
            )

    def __getstate__(self) -> dict[str, Any]:
        # Credentials never travel in a pickle: an unpickled copy uses the default chain.
        state = dict(self.__dict__)
        for name in _SECRET_FIELDS:
            state[name] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def with_region(self, region_name: str | None) -> ClientSettings:
        """Copy with another region."""
        return replace(self, region_name=region_name)

    def botocore_config(self) -> Any:
        """The ``botocore.config.Config`` for these settings."""
        from botocore.config import Config

        retries: dict[str, Any] = {"mode": self.retry_mode}
        if self.max_retries is not None:
            # max_retries counts retries, botocore's total_max_attempts counts the first try.
            retries["total_max_attempts"] = self.max_retries + 1
        kwargs: dict[str, Any] = {
            "retries": retries,
            "max_pool_connections": self.max_pool_connections,
            "user_agent_extra": "bedrock-kit",
        }
        if self.timeout is not None:
            kwargs["read_timeout"] = self.timeout
        if self.connect_timeout is not None:
            kwargs["connect_timeout"] = self.connect_timeout
        return Config(**kwargs)

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
        """
        kwargs = self._session_kwargs()
        with _SESSIONS_LOCK:  # boto3 sessions are not thread-safe; their clients are
            session = _session_for(tuple(sorted(kwargs.items())))
            return session.client(service, **self._client_kwargs())

    async def create_async_client(self, service: str) -> Any:
        """A new, entered aiobotocore client for ``service`` (close with ``__aexit__``)."""
        try:
            from aiobotocore.session import AioSession
        except ImportError as exc:
            raise ImportError(
                "native async needs aiobotocore: pip install 'bedrock-bridge[async]'"
            ) from exc
        kwargs = self._session_kwargs()
        session = AioSession(profile=kwargs.pop("profile_name", None))
        context = session.create_client(service, **self._client_kwargs(), **kwargs)
        return await context.__aenter__()


_SESSIONS_LOCK = threading.Lock()


@lru_cache(maxsize=32)
def _session_for(kwargs: tuple[tuple[str, Any], ...]) -> Any:
    import boto3

    return boto3.session.Session(**dict(kwargs))


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
) -> ClientSettings:
    """:class:`ClientSettings` from the client keyword arguments every bedrock-kit class takes.

    Secrets may be plain strings or anything with ``get_secret_value()`` (pydantic SecretStr).

    Raises:
        ConfigurationError: A bad retry mode, retry count, timeout or half a key pair.
    """
    return ClientSettings(
        region_name=region_name,
        endpoint_url=endpoint_url,
        profile_name=credentials_profile_name,
        aws_access_key_id=_plain_secret(aws_access_key_id),
        aws_secret_access_key=_plain_secret(aws_secret_access_key),
        aws_session_token=_plain_secret(aws_session_token),
        max_retries=max_retries,
        retry_mode=retry_mode or "standard",
        timeout=timeout,
    )


def check_client(client: Any, service: str, argument: str) -> Any:
    """Reject an injected client of the wrong service, naming the argument."""
    meta = getattr(client, "meta", None)
    model = getattr(meta, "service_model", None)
    name = getattr(model, "service_name", None)
    if name != service:
        raise ConfigurationError(
            f"{argument} must be a {service!r} client, got {name or type(client).__name__!r}"
        )
    return client


class ClientPool:
    """Lazily built, reused clients for one service: one sync, one async per event loop.

    Args:
        settings: How to reach Bedrock.
        service: botocore service name (``bedrock-runtime``, ``bedrock-agent-runtime``).
        client: An injected sync client, used as is.
        async_client: An injected async client, used on every loop as is.
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
        self._client = check_client(client, service, "client") if client is not None else None
        self._injected_async = (
            check_client(async_client, service, "async_client")
            if async_client is not None
            else None
        )
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self.created = 0
        """How many clients this pool built (benchmarks check it stays at one per loop)."""

    @property
    def client(self) -> Any:
        """The sync boto3 client, built on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self.settings.create_client(self.service)
                    self.created += 1
        return self._client

    @property
    def region(self) -> str | None:
        """Region of the client (resolved by botocore when not given)."""
        if self._client is not None:
            return str(self._client.meta.region_name)
        return self.settings.region_name

    async def async_client(self) -> Any:
        """The aiobotocore client for the running loop, built on first use."""
        if self._injected_async is not None:
            return self._injected_async
        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            found = await self.settings.create_async_client(self.service)
            existing = self._async.setdefault(loop, found)
            if existing is not found:  # another task of this loop won the race
                await found.__aexit__(None, None, None)
                return existing
            self.created += 1
        return found

    async def aclose(self) -> None:
        """Close the async client of the running loop (injected clients are left open)."""
        loop = asyncio.get_running_loop()
        found = self._async.pop(loop, None)
        if found is not None:
            await found.__aexit__(None, None, None)
