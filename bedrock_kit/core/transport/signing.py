"""Request signing: botocore's SigV4Auth over botocore's credential chain, or a Bedrock API key.

Credentials come from botocore (profiles, SSO, assume-role, IMDS, container credentials,
refreshable credentials refreshed as botocore refreshes them: ``get_frozen_credentials``
before every signature). The async path refreshes in a worker thread when a refresh is due,
so the event loop never blocks on STS or IMDS.

Bedrock API keys (``AWS_BEARER_TOKEN_BEDROCK`` or an explicit key) are sent as
``Authorization: Bearer`` with botocore's BearerAuth, for services whose model allows bearer
auth, exactly when botocore would prefer it. No token or secret is ever part of a repr.
"""

from __future__ import annotations

import asyncio
from typing import Any

_BEARER_TRAIT = "smithy.api#httpBearerAuth"
_BEARER_SERVICES = frozenset({"bedrock"})  # botocore's get_bearer_auth_supported_services


class SigningRequest:
    """The request shape botocore's signers read and write: method, url, headers, body."""

    __slots__ = ("body", "context", "headers", "method", "params", "url")

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.params: dict[str, Any] = {}
        self.context: dict[str, Any] = {}


class Signer:
    """Signs requests for one service and region.

    Args:
        credentials: botocore credentials (``Credentials``, ``RefreshableCredentials``), or
            None when none were found (signing then raises ``NoCredentialsError``).
        signing_name: SigV4 service name (``bedrock``).
        region: SigV4 region.
        token: A Bedrock API key; when set, requests carry it as a bearer token instead.
    """

    def __init__(
        self, credentials: Any, signing_name: str, region: str, token: str | None = None
    ) -> None:
        from botocore.auth import SigV4Auth

        self._credentials = credentials
        self.signing_name = signing_name
        self.region = region
        self._bearer: Any = None
        if token:
            from botocore.auth import BearerAuth
            from botocore.tokens import FrozenAuthToken

            frozen_token: Any = FrozenAuthToken(token)
            self._bearer = BearerAuth(frozen_token)
        self._sigv4 = SigV4Auth
        refresh_needed = getattr(credentials, "refresh_needed", None)
        self._refreshable = callable(refresh_needed)

    def __repr__(self) -> str:
        scheme = "bearer" if self._bearer is not None else "sigv4"
        return f"Signer({scheme}, {self.signing_name!r}, {self.region!r})"

    @property
    def uses_bearer_token(self) -> bool:
        """Whether requests carry a Bedrock API key rather than a SigV4 signature."""
        return self._bearer is not None

    def frozen_credentials(self) -> Any:
        """Credentials for one signature, refreshed first when botocore says so."""
        if self._bearer is not None or self._credentials is None:
            return None
        return self._credentials.get_frozen_credentials()

    async def afrozen_credentials(self) -> Any:
        """:meth:`frozen_credentials` without blocking the event loop on a refresh."""
        if self._bearer is not None or self._credentials is None:
            return None
        if self._refreshable and self._credentials.refresh_needed():
            return await asyncio.to_thread(self._credentials.get_frozen_credentials)
        return self._credentials.get_frozen_credentials()

    def sign(self, request: SigningRequest, frozen: Any) -> None:
        """Add ``Authorization`` (and ``X-Amz-Date``, ``X-Amz-Security-Token``) in place.

        Raises:
            botocore.exceptions.NoCredentialsError: No credentials were found.
        """
        if self._bearer is not None:
            self._bearer.add_auth(request)
            return
        if frozen is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        target: Any = request  # botocore's signers only read and write these attributes
        self._sigv4(frozen, self.signing_name, self.region).add_auth(target)


def bearer_token_for(service_model: Any, api_key: str | None, config: Any = None) -> str | None:
    """The Bedrock API key to send, or None to sign with SigV4.

    An explicit key always wins; ``AWS_BEARER_TOKEN_BEDROCK`` is used when the service allows
    bearer auth and no signature version was set in code (botocore's
    ``_should_prefer_bearer_auth``).
    """
    auth = service_model.metadata.get("auth") or ()
    signing_name = service_model.signing_name
    if _BEARER_TRAIT not in auth or signing_name not in _BEARER_SERVICES:
        return None
    if api_key:
        return api_key
    from botocore.utils import get_token_from_environment

    token = get_token_from_environment(signing_name)
    if not token:
        return None
    if config is not None and _set_in_code(config):
        return None
    return str(token)


def _set_in_code(config: Any) -> bool:
    try:
        from botocore.args import ClientConfigString
    except ImportError:  # botocore before bearer-token support
        return False
    return isinstance(getattr(config, "signature_version", None), ClientConfigString) or (
        isinstance(getattr(config, "auth_scheme_preference", None), ClientConfigString)
    )
