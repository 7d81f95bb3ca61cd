"""Strict keyword arguments for the adapters' pydantic classes, written once for both.

Both frameworks build their classes on pydantic v2; only pydantic and the core are imported
here, so the LangChain adapter still never imports LlamaIndex (and vice versa).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bedrock_kit.core.transport.arguments import Arguments, typed_validation_error

__all__ = ["NO_ARGUMENTS", "StrictArguments", "check_call_arguments", "constructor_arguments"]

NO_ARGUMENTS = Arguments(frozenset())
"""No spellings or refusals beyond a class's fields; for calls, no keyword arguments."""


@cache
def constructor_arguments(cls: type[BaseModel]) -> Arguments:
    """What ``cls(...)`` takes: its fields and aliases, plus its ``argument_table``."""
    table: Arguments = getattr(cls, "argument_table", NO_ARGUMENTS)
    return Arguments.of_fields(cls.model_fields).extend(
        aliases=table.aliases, refused=table.refused
    )


def check_call_arguments(
    owner: str, kwargs: Mapping[str, Any], table: Arguments = NO_ARGUMENTS
) -> dict[str, Any]:
    """Per-call keyword arguments checked against ``table`` (aliases renamed).

    Raises:
        UnknownArgumentError: Naming the argument and the closest valid one.
    """
    return table.check(owner, kwargs) if kwargs else {}


class StrictArguments(BaseModel):
    """A pydantic model whose unknown constructor arguments are errors, not dropped.

    Subclasses list extra spellings and refusals in ``argument_table``. A field's docstring
    is its ``description`` (``use_attribute_docstrings``), so ``help()``, the JSON schema and
    the API reference explain every field from the one text in the source.
    """

    model_config = ConfigDict(use_attribute_docstrings=True)
    argument_table: ClassVar[Arguments] = NO_ARGUMENTS

    def __init__(self, **data: Any) -> None:
        # Before pydantic: inside a validator, pydantic would wrap the typed error.
        owner = type(self).__name__
        data = constructor_arguments(type(self)).check(owner, data)
        try:
            super().__init__(**data)
        except ValidationError as exc:  # what validators raised, typed again
            raise typed_validation_error(owner, exc) from exc
