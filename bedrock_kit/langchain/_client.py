"""The client arguments every bedrock-kit LangChain class takes, declared once."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bedrock_kit.core.clients import ClientSettings


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class BedrockClientArgs(BaseModel):
    """How a LangChain class reaches Bedrock: the same names as ``ChatBedrockConverse``."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

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
    client: Any = Field(default=None, exclude=True)
    """Injected boto3 client of the class's service."""
    async_client: Any = Field(default=None, exclude=True)
    """Injected aiobotocore client of the class's service."""

    def client_settings(self) -> ClientSettings:
        """The core :class:`ClientSettings` for these arguments (validated)."""
        return ClientSettings(
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            profile_name=self.credentials_profile_name,
            aws_access_key_id=_secret(self.aws_access_key_id),
            aws_secret_access_key=_secret(self.aws_secret_access_key),
            aws_session_token=_secret(self.aws_session_token),
            max_retries=self.max_retries,
            retry_mode=self.retry_mode,
            timeout=self.timeout,
        )
