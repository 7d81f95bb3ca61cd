"""Keyword arguments are checked by name: a misspelt one is an error, never ignored.

Pydantic models (every LangChain and most LlamaIndex classes) drop unknown keywords without
a word, and ``**kwargs`` call signatures accept anything, so ``regoin_name=`` or
``temprature=0.5`` would silently do nothing. :class:`Arguments` describes what a class or a
call takes (its own names, the other spellings it accepts, names it refuses with advice) and
raises :class:`~bedrock_kit.errors.UnknownArgumentError` naming the closest valid name.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from bedrock_kit.errors import BedrockKitError, ConfigurationError, UnknownArgumentError

__all__ = [
    "Arguments",
    "closest",
    "strict_keywords",
    "typed_validation_error",
    "unknown_argument_error",
]

P = ParamSpec("P")
R = TypeVar("R")


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name closest to ``name`` (difflib ratio >= 0.6), or None."""
    matches = difflib.get_close_matches(name, sorted(set(valid)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_argument_error(
    owner: str,
    names: Iterable[str],
    valid: Iterable[str],
    *,
    refused: Mapping[str, str] | None = None,
) -> UnknownArgumentError:
    """The error for keyword arguments ``owner`` does not take.

    Args:
        owner: What was called (``ChatBedrockKit``, ``ChatBedrockKit.invoke``).
        names: The offending arguments.
        valid: Every name ``owner`` accepts (the suggestion is picked among them).
        refused: Names deliberately not taken, with what to use instead.
    """
    refused = refused or {}
    valid = sorted(set(valid))
    parts = []
    first: tuple[str, str | None] | None = None
    for name in sorted(names):
        suggestion = None
        if name in refused:
            parts.append(f"{name!r} is not supported: {refused[name]}")
        else:
            suggestion = closest(name, valid)
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            parts.append(f"unknown argument {name!r}{hint}")
        first = first or (name, suggestion)
    if first is None:
        raise ValueError("unknown_argument_error needs at least one name")
    message = f"{owner}: {'; '.join(parts)}"
    if first[1] is None and first[0] not in refused:
        message += (
            f". Valid arguments: {', '.join(valid)}" if valid else ": it takes no keyword arguments"
        )
    return UnknownArgumentError(message, argument=first[0], suggestion=first[1])


@dataclass(frozen=True)
class Arguments:
    """The keyword arguments one class or call takes, and how other spellings map to them.

    Attributes:
        accepted: Names taken as they are.
        aliases: Other spellings taken for an accepted name (langchain-aws's names, for
            instance): ``{"guardrails": "guardrail_config"}``.
        refused: Names known from elsewhere that are deliberately not taken, with what to
            do instead: ``{"config": "pass timeout=, max_retries= and retry_mode="}``.
    """

    accepted: frozenset[str]
    aliases: Mapping[str, str] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)
    synonyms: tuple[frozenset[str], ...] = ()
    """Groups of accepted names that set the same field (a pydantic field and its aliases):
    giving two of one group is an error, not a silent pick."""

    @classmethod
    def of_fields(cls, fields: Mapping[str, Any], *, exclude: Iterable[str] = ()) -> Arguments:
        """The constructor arguments of a pydantic model from its ``model_fields``.

        Every field name, ``alias`` and ``validation_alias`` (``AliasChoices`` included) is
        accepted. Read by duck typing, so the core imports no pydantic.
        """
        names: set[str] = set()
        groups: list[frozenset[str]] = []
        for name, info in fields.items():
            group = {name}
            alias = getattr(info, "alias", None)
            if isinstance(alias, str):
                group.add(alias)
            validation = getattr(info, "validation_alias", None)
            choices = getattr(validation, "choices", None)
            for choice in choices if choices is not None else (validation,):
                if isinstance(choice, str):
                    group.add(choice)
            names |= group
            if len(group) > 1:
                groups.append(frozenset(group))
        return cls(frozenset(names) - frozenset(exclude), synonyms=tuple(groups))

    def extend(
        self,
        accepted: Iterable[str] = (),
        *,
        aliases: Mapping[str, str] | None = None,
        refused: Mapping[str, str] | None = None,
    ) -> Arguments:
        """A copy that also takes ``accepted``, ``aliases`` and refuses ``refused``."""
        return Arguments(
            self.accepted | frozenset(accepted),
            {**self.aliases, **(aliases or {})},
            {**self.refused, **(refused or {})},
            self.synonyms,
        )

    def check(self, owner: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` with aliases renamed to the accepted names.

        Raises:
            UnknownArgumentError: On a name neither accepted nor an alias (or a refused one),
                naming the closest valid name.
            ConfigurationError: When a name and its alias are both given.
        """
        aliases = {k: v for k, v in self.aliases.items() if k not in self.accepted}
        unknown = [k for k in given if k not in self.accepted and k not in aliases]
        if unknown:
            raise unknown_argument_error(
                owner, unknown, self.accepted | set(aliases), refused=self.refused
            )
        renamed: dict[str, Any] = {}
        for key, value in given.items():
            target = aliases.get(key, key)
            if target in renamed:
                raise ConfigurationError(
                    f"{owner}: {key!r} and {target!r} name the same argument; give one"
                )
            renamed[target] = value
        for group in self.synonyms:
            both = sorted(group.intersection(renamed))
            if len(both) > 1:
                raise ConfigurationError(
                    f"{owner}: {both[0]!r} and {both[1]!r} name the same argument; give one"
                )
        return renamed


def typed_validation_error(owner: str, exc: Exception) -> BedrockKitError:
    """A bedrock-kit error for a pydantic ``ValidationError`` raised by a constructor.

    Pydantic wraps what validators raise; when the one failure is already a bedrock-kit
    error (a ConfigurationError from a check), that error is returned as it was raised.
    Otherwise (a wrong type, a missing field) the result is a ConfigurationError quoting
    pydantic. Read by duck typing (``exc.errors()``), so the core imports no pydantic.
    """
    failures = exc.errors() if callable(getattr(exc, "errors", None)) else []  # type: ignore[attr-defined]
    if len(failures) == 1:
        original = (failures[0].get("ctx") or {}).get("error")
        if isinstance(original, BedrockKitError):
            return original
    return ConfigurationError(f"{owner}: invalid arguments: {exc}")


def strict_keywords(func: Callable[P, R]) -> Callable[P, R]:
    """Make unknown keyword arguments of ``func`` an UnknownArgumentError, with a suggestion.

    For plain (non-pydantic) constructors and functions: Python's own TypeError names the
    argument but suggests nothing and is not a bedrock-kit error.
    """
    signature = inspect.signature(func)
    params = signature.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return func  # takes anything by design
    names = frozenset(
        p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ) - {"self", "cls"}
    owner = func.__qualname__.removesuffix(".__init__")

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            raise unknown_argument_error(owner, unknown, names)
        return func(*args, **kwargs)

    return wrapper
