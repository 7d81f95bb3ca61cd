"""bedrock_kit._prebuilt's compiled builders: the validated object's state, field for field."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from pydantic import BaseModel, Field

from bedrock_kit._prebuilt import _setter, prebuilt


class Wide(BaseModel):
    zeta: str
    alpha: list[int] = Field(default_factory=list)
    mid: str | None = None
    beta: dict[str, int] = Field(default_factory=dict)
    count: int = 3


def _state(obj: Any) -> tuple[Any, ...]:
    return (
        list(obj.__dict__.items()),
        obj.model_fields_set,
        obj.__pydantic_extra__,
        obj.__pydantic_private__,
    )


def test_state_in_field_order_with_fresh_containers():
    build = prebuilt(Wide(zeta="-"), ("zeta",))
    assert build is not None
    for text in ("a", "", "x" * 1000):
        assert _state(build(text)) == _state(Wide(zeta=text))
    one, two = build("a"), build("b")
    assert one.alpha is not two.alpha and one.beta is not two.beta
    assert one.model_fields_set is not two.model_fields_set


def test_two_varying_fields_keep_their_places():
    build = prebuilt(Wide(zeta="-", mid="m"), ("mid", "zeta"))
    assert build is not None
    assert _state(build("M", "Z")) == _state(Wide(zeta="Z", mid="M"))
    assert list(build("M", "Z").__dict__) == list(Wide.model_fields)


def test_the_same_field_twice_gets_no_builder():
    assert prebuilt(Wide(zeta="-"), ("zeta", "zeta")) is None


def test_langchain_chunks_equal_validated_ones():
    chunk = prebuilt(AIMessageChunk(content="-"), ("content",))
    generation = prebuilt(
        ChatGenerationChunk(message=AIMessageChunk(content="-")), ("text", "message")
    )
    assert chunk is not None and generation is not None
    message = chunk("hello")
    built = generation(message.text, message)
    validated = ChatGenerationChunk(message=AIMessageChunk(content="hello"))
    assert built == validated
    assert _state(built.message) == _state(validated.message)
    assert list(built.__dict__) == list(validated.__dict__)
    assert type(built.text) is type(validated.text)


def test_setter_without_a_descriptor_sets_the_attribute():
    class Plain:
        pass

    obj = Plain()
    _setter(Plain, "extra_name")(obj, 5)
    assert obj.extra_name == 5  # type: ignore[attr-defined]
    holder = Wide(zeta="z")
    _setter(Wide, "__pydantic_extra__")(holder, None)
    assert holder.__pydantic_extra__ is None
