"""The client arguments every bedrock-kit LlamaIndex class takes, declared once.

Pydantic classes (the LLM, the guardrail, the RetrieveAndGenerate engine) inherit
:class:`BedrockClientArgs`; LlamaIndex's retrievers and plain query engines are not pydantic
models, so they pass their keyword arguments to the core's :func:`client_settings_from`.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Literal

from llama_index.core.bridge.pydantic import BaseModel, Field, SecretStr
from pydantic import AliasChoices
from pydantic_core import PydanticUndefined

from bedrock_kit._strict_arguments import (
    StrictArguments,
)
from bedrock_kit.core.transport.arguments import Arguments
from bedrock_kit.core.transport.clients import ClientSettings, client_settings_from, withhold
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.llama_index._arguments import CLIENT

# Accepted spellings besides the field names (LangChain's ``base_url``, boto3's profile name).
CLIENT_ALIASES = frozenset({"base_url", "profile_name"})
"""Constructor keywords that are aliases of :class:`BedrockClientArgs` fields."""


_SECRET_FIELDS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})
# Left out of a pickle: secrets, and clients (which hold credentials and sockets).
_WITHHELD_FIELDS = _SECRET_FIELDS | {"api_key", "client", "async_client"}
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class BedrockClientArgs(OwnsClients, StrictArguments):
    """How a LlamaIndex class reaches Bedrock: the same names as the LangChain classes.

    Closes the clients it built with ``close()`` / ``aclose()`` or as a (sync or async)
    context manager.
    """

    argument_table: ClassVar[Arguments] = CLIENT

    region_name: str | None = Field(default=None, description="AWS region.")
    endpoint_url: str | None = Field(
        default=None,
        description="Custom endpoint URL (VPC endpoint, LocalBedrock).",
        validation_alias=AliasChoices("endpoint_url", "base_url"),
    )
    credentials_profile_name: str | None = Field(
        default=None,
        description="AWS profile name.",
        validation_alias=AliasChoices("credentials_profile_name", "profile_name"),
    )
    # Credentials are never serialised (to_dict / to_json / model_dump): a saved component
    # must not carry keys; a reloaded one finds credentials the usual way.
    aws_access_key_id: SecretStr | None = Field(
        default=None, exclude=True, description="AWS access key id."
    )
    aws_secret_access_key: SecretStr | None = Field(
        default=None, exclude=True, description="AWS secret key."
    )
    aws_session_token: SecretStr | None = Field(
        default=None, exclude=True, description="AWS session token."
    )
    max_retries: int | None = Field(default=None, description="Retries botocore makes.")
    retry_mode: Literal["standard", "adaptive", "legacy"] = Field(
        default="standard", description="botocore retry mode."
    )
    timeout: float | None = Field(default=None, description="Read timeout in seconds.")
    max_pool_connections: int = Field(
        default=64, description="HTTP connections kept per client: the most calls in flight."
    )
    client: Any = Field(default=None, exclude=True, repr=False, description="boto3 client.")
    async_client: Any = Field(
        default=None, exclude=True, repr=False, description="aiobotocore client."
    )

    def __getstate__(self) -> dict[Any, Any]:
        # Credentials and clients never travel in a pickle; an unpickled copy that had them
        # raises ConfigurationError on its first call instead of using other credentials.
        # pydantic's state, not BaseComponent's: that one deletes what does not pickle (the
        # clients) from the live object's __dict__, breaking the original. Copies only here.
        state = dict(BaseModel.__getstate__(self))
        withheld = {
            k: withhold(k, v) for k, v in state["__dict__"].items() if k in _WITHHELD_FIELDS
        }
        state["__dict__"] = {**state["__dict__"], **withheld}
        private = state.get("__pydantic_private__")
        if isinstance(private, dict):  # locks are rebuilt by __setstate__, not pickled
            state["__pydantic_private__"] = {
                k: v for k, v in private.items() if not isinstance(v, _LOCK_TYPES)
            }
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        # LlamaIndex's BaseComponent re-runs __init__ from the state and, when that fails (a
        # withheld key is not a SecretStr), restores it raw, minus the private attributes it
        # could not pickle (locks): give those their defaults again.
        super().__setstate__(state)
        private = getattr(self, "__pydantic_private__", None)
        if isinstance(private, dict):
            for name, attribute in type(self).__private_attributes__.items():
                default = attribute.get_default(call_default_factory=True)
                if name not in private and default is not PydanticUndefined:
                    private[name] = default

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
