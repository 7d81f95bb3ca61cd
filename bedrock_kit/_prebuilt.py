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


def prebuilt(sample: Any, varying: tuple[str, ...]) -> Callable[..., Any] | None:
    """A builder of objects equal to ``sample`` but for the ``varying`` fields.

    Args:
        sample: A validated instance of the pydantic model.
        varying: One or two field names given positionally to the builder, in this order.

    Returns:
        ``build(value)`` or ``build(first, second)``, or None when ``sample`` holds a value
        that cannot be shared between objects nor made afresh (a non-empty list or dict,
        another object).
    """
    cls = type(sample)
    state = sample.__dict__
    if not 1 <= len(varying) <= 2 or not set(varying) <= set(state):
        return None
    if sample.__pydantic_private__ is not None:
        return None
    extra = sample.__pydantic_extra__
    if extra is not None and (type(extra) is not dict or extra):
        return None
    template: dict[str, Any] = {}
    lists: list[str] = []
    dicts: list[str] = []
    for name, value in state.items():
        if name in varying or isinstance(value, _IMMUTABLE):
            template[name] = value
        elif type(value) is list and not value:
            lists.append(name)
            template[name] = None  # replaced by a fresh list per object
        elif type(value) is dict and not value:
            dicts.append(name)
            template[name] = None
        else:
            return None
    fields_set = frozenset(sample.model_fields_set)
    extra_dict = extra is not None
    new = object.__new__
    setattr_ = object.__setattr__

    # Straight-line code for the usual shapes (one or two varying fields): a helper call, a
    # loop or a zip per object costs as much as the rest of the build.
    if len(varying) == 1:
        (only,) = varying

        def build_one(value: Any) -> Any:
            obj = new(cls)
            data = template.copy()
            data[only] = value
            for name in lists:
                data[name] = []
            for name in dicts:
                data[name] = {}
            setattr_(obj, "__dict__", data)
            setattr_(obj, "__pydantic_fields_set__", set(fields_set))
            setattr_(obj, "__pydantic_extra__", {} if extra_dict else None)
            setattr_(obj, "__pydantic_private__", None)
            return obj

        return build_one
    first, second = varying[0], varying[-1]

    def build_two(one: Any, two: Any) -> Any:
        obj = new(cls)
        data = template.copy()
        data[first] = one
        data[second] = two
        for name in lists:
            data[name] = []
        for name in dicts:
            data[name] = {}
        setattr_(obj, "__dict__", data)
        setattr_(obj, "__pydantic_fields_set__", set(fields_set))
        setattr_(obj, "__pydantic_extra__", {} if extra_dict else None)
        setattr_(obj, "__pydantic_private__", None)
        return obj

    return build_two
