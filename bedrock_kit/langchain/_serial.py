"""LangChain serialization (``dumpd`` / ``dumps`` / ``loads``) for bedrock-kit's runnables.

What is saved is configuration: model ids, guardrail ids, options. Never saved: credentials
(``lc_secrets`` turns them into ``{"type": "secret"}`` markers that ``loads`` fills from
``secrets_map`` or, when asked, the environment), injected clients, ledgers and callbacks.
A runnable holding code (local tools) is not serializable and says so.

Loading needs bedrock-kit's namespace and classes allowed, as for every partner package
outside langchain-core's own list::

    from langchain_core.load import dumps, loads
    from bedrock_kit.langchain import LOAD_MAPPINGS

    text = dumps(prompt | ChatBedrockKit(model="..."))
    chain = loads(
        text,
        allowed_objects="core",
        valid_namespaces=["bedrock_kit"],
        additional_import_mappings=LOAD_MAPPINGS,
        secrets_map={"AWS_ACCESS_KEY_ID": ..., "AWS_SECRET_ACCESS_KEY": ...},  # if any
    )
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.load.serializable import (
    Serializable,
    SerializedConstructor,
    SerializedNotImplemented,
)

AWS_SECRETS = {
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
}
"""Secret fields of the client arguments -> the environment variable ``loads`` reads."""


class LangChainSerializable(Serializable):
    """Mixin: serializable under its module path, AWS credentials kept out of the dump."""

    lc_code_fields: ClassVar[tuple[str, ...]] = ()
    """Fields holding code (tools, callables): when set, the object is not serializable."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """bedrock-kit runnables hold configuration only: they serialize."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """The module path ``loads`` imports the class from (``bedrock_kit.langchain...``)."""
        return cls.__module__.split(".")

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Credential fields and the environment variables they are loaded from."""
        return dict(AWS_SECRETS)

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """The constructor arguments; typed values (filters) in their wire form."""
        if any(getattr(self, name, None) for name in self.lc_code_fields):
            return self.to_json_not_implemented()
        found = super().to_json()
        if found["type"] == "constructor":
            kwargs: dict[str, Any] = found["kwargs"]
            for key, value in kwargs.items():
                to_wire = getattr(value, "to_wire", None)
                if callable(to_wire):
                    kwargs[key] = to_wire()
        return found


def load_mappings(*classes: type[Serializable]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """``additional_import_mappings`` for ``loads`` that admit exactly ``classes``."""
    return {tuple(cls.lc_id()): tuple(cls.lc_id()) for cls in classes}
