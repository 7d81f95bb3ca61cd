"""The client arguments every bedrock-kit LangChain class takes, declared once."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, SecretStr

from bedrock_kit._strict_arguments import (
    StrictArguments,
)
from bedrock_kit.core.transport.arguments import Arguments
from bedrock_kit.core.transport.clients import ClientSettings, client_settings_from, withhold
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.langchain._arguments import CLIENT

_SECRET_FIELDS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})
# Left out of a pickle: secrets, and clients (which hold credentials and sockets).
_WITHHELD_FIELDS = _SECRET_FIELDS | {"client", "async_client"}


class BedrockClientArgs(OwnsClients, StrictArguments):
    """How a LangChain class reaches Bedrock: the same names as ``ChatBedrockConverse``.

    Closes the clients it built with ``close()`` / ``aclose()`` or as a (sync or async)
    context manager.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)
    argument_table: ClassVar[Arguments] = CLIENT

    region_name: str | None = None
    """AWS region; falls back to the profile or ``AWS_REGION``."""
    endpoint_url: str | None = Field(default=None, alias="base_url")
    """Custom endpoint, e.g. a VPC endpoint or LocalBedrock."""
    credentials_profile_name: str | None = None
    """Named AWS profile."""
    aws_access_key_id: SecretStr | None = None
    """Explicit access key id."""
    aws_secret_access_key: SecretStr | None = None
    """Explicit secret access key."""
    aws_session_token: SecretStr | None = None
    """Explicit session token."""
    max_retries: int | None = None
    """Retries botocore makes on throttling and transient errors."""
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    """botocore retry mode."""
    timeout: float | None = None
    """Read timeout in seconds."""
    max_pool_connections: int = 64
    """HTTP connections kept per client: the most calls in flight at once."""
    client: Any = Field(default=None, exclude=True)
    """Injected boto3 client of the class's service."""
    async_client: Any = Field(default=None, exclude=True)
    """Injected aiobotocore client of the class's service."""

    def __getstate__(self) -> dict[Any, Any]:
        # Credentials and clients never travel in a pickle; an unpickled copy that had them
        # raises ConfigurationError on its first call instead of using other credentials.
        state = dict(super().__getstate__())
        state["__dict__"] = {
            k: withhold(k, v) if k in _WITHHELD_FIELDS else v for k, v in state["__dict__"].items()
        }
        return state

    def client_settings(self) -> ClientSettings:
        """The core :class:`ClientSettings` for these arguments (validated)."""
        return client_settings_from(
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            credentials_profile_name=self.credentials_profile_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            max_retries=self.max_retries,
            retry_mode=self.retry_mode,
            timeout=self.timeout,
            max_pool_connections=self.max_pool_connections,
        )
