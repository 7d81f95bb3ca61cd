"""Per-chunk pydantic objects built without re-running validation that cannot change them.

A streamed answer makes one framework object per chunk (LangChain's ``AIMessageChunk`` and
``ChatGenerationChunk``, LlamaIndex's ``ChatResponse``), and pydantic validation of those
costs more CPU than reading the chunk off the wire. For a text delta the validators have
nothing to do: the text is a ``str``, every other field keeps its default. :func:`prebuilt`
validates one sample the ordinary way, records what validation produced (field values,
which fields count as set, extra and private state) and returns a builder that makes equal
objects directly: same ``__dict__`` (fresh empty lists and dicts for each object, never
shared), same ``model_fields_set``, so ``==`` and ``model_dump`` agree with the validated
object. Only the ``varying`` fields change between objects; the caller guarantees they hold
what validation would have kept unchanged (a ``str``, an already validated model).

When a sample has a field the builder cannot reproduce safely (a non-empty container, an
object of another type), :func:`prebuilt` returns None and the caller validates as before.
Imports nothing: it works on any pydantic v2 model.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

_IMMUTABLE = (str, int, float, bool, bytes, type(None), enum.Enum)
_MAX_VARYING = 4


def prebuilt(sample: Any, varying: tuple[str, ...]) -> Callable[..., Any] | None:
    """A builder of objects equal to ``sample`` but for the ``varying`` fields.

    Args:
        sample: A validated instance of the pydantic model.
        varying: One to four field names given positionally to the builder, in this order.

    Returns:
        ``build(value)``, ``build(first, second)``... or None when ``sample`` holds a value
        that cannot be shared between objects nor made afresh (a non-empty list or dict,
        another object).
    """
    state = sample.__dict__
    if not 1 <= len(varying) <= _MAX_VARYING or len(set(varying)) != len(varying):
        return None
    if not set(varying) <= set(state):
        return None
    if sample.__pydantic_private__ is not None:
        return None
    extra = sample.__pydantic_extra__
    if extra is not None and (type(extra) is not dict or extra):
        return None
    lists: list[str] = []  # made afresh for each object
    dicts: list[str] = []
    for name, value in state.items():
        if name in varying or isinstance(value, _IMMUTABLE):
            continue
        if type(value) is list and not value:
            lists.append(name)
        elif type(value) is dict and not value:
            dicts.append(name)
        else:
            return None
    return _compile(sample, varying, lists, dicts)


def _compile(
    sample: Any, varying: tuple[str, ...], lists: list[str], dicts: list[str]
) -> Callable[..., Any]:
    # One straight-line function per model, made the way dataclasses makes ``__init__``:
    # the state dict is one dict display (fresh lists and dicts in it, the other values
    # bound once), the slots set through their own descriptors. A loop, a copy and
    # ``object.__setattr__`` per object cost as much as the rest of the build.
    cls = type(sample)
    state = sample.__dict__
    extra_dict = sample.__pydantic_extra__ is not None
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_cls": cls,
        "_fields": frozenset(sample.model_fields_set),
        "_set_dict": _setter(cls, "__dict__"),
        "_set_fields": _setter(cls, "__pydantic_fields_set__"),
        "_set_extra": _setter(cls, "__pydantic_extra__"),
        "_set_private": _setter(cls, "__pydantic_private__"),
    }
    items = []
    for number, name in enumerate(state):
        if name in varying:
            value = f"_a{varying.index(name)}"
        elif name in lists:
            value = "[]"
        elif name in dicts:
            value = "{}"
        else:
            value = f"_c{number}"
            namespace[value] = state[name]
        items.append(f"{name!r}: {value}")
    arguments = ", ".join(f"_a{i}" for i in range(len(varying)))
    source = (
        f"def build({arguments}):\n"
        "    obj = _new(_cls)\n"
        f"    _set_dict(obj, {{{', '.join(items)}}})\n"
        "    _set_fields(obj, set(_fields))\n"
        f"    _set_extra(obj, {'{}' if extra_dict else 'None'})\n"
        "    _set_private(obj, None)\n"
        "    return obj\n"
    )
    exec(compile(source, f"<prebuilt {cls.__qualname__}>", "exec"), namespace)
    build: Callable[..., Any] = namespace["build"]
    return build


def _setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """``object.__setattr__(obj, name, value)`` as the descriptor that does it, if found."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if found is not None:
            setter = getattr(found, "__set__", None)
            if setter is not None:
                return setter  # type: ignore[no-any-return]
            break
    setattr_ = object.__setattr__
    return lambda obj, value: setattr_(obj, name, value)
