"""bedrock_kit._prebuilt: objects equal to validated ones, or no builder at all."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bedrock_kit._prebuilt import prebuilt


class Color(enum.Enum):
    RED = "red"


class Piece(BaseModel):
    text: str
    color: Color = Color.RED
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, int] = Field(default_factory=dict)
    note: str | None = None
    checked: bool = False

    @model_validator(mode="after")
    def _mark(self) -> Piece:
        self.checked = True
        return self


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str


def test_built_objects_equal_validated_ones_and_share_nothing():
    build = prebuilt(Piece(text="-"), ("text",))
    assert build is not None
    one, two = build("a"), build("b")
    for built, text in ((one, "a"), (two, "b")):
        validated = Piece(text=text)
        assert built == validated
        assert built.model_dump() == validated.model_dump()
        assert built.model_fields_set == validated.model_fields_set
        assert list(built.__dict__) == list(validated.__dict__)
    assert one.tags is not two.tags and one.meta is not two.meta
    one.tags.append("x")
    one.model_fields_set.add("note")
    assert two.tags == [] and "note" not in two.model_fields_set
    assert build("c") == Piece(text="c")


def test_extra_allowed_models_get_a_fresh_extra_dict():
    build = prebuilt(Open(text="-"), ("text",))
    assert build is not None
    one, two = build("a"), build("b")
    assert one == Open(text="a")
    assert one.__pydantic_extra__ == {} and one.__pydantic_extra__ is not two.__pydantic_extra__


def test_no_builder_when_a_value_cannot_be_reproduced_safely():
    assert prebuilt(Piece(text="-", tags=["kept"]), ("text",)) is None  # non-empty list
    assert prebuilt(Piece(text="-", meta={"a": 1}), ("text",)) is None  # non-empty dict
    assert prebuilt(Open(text="-", other=[1]), ("text",)) is None  # extra members
    assert prebuilt(Piece(text="-"), ("missing",)) is None  # not a field
    assert prebuilt(Piece(text="-"), ()) is None
    assert prebuilt(Piece(text="-"), ("text", "text")) is None  # each field once


def test_two_varying_fields_in_the_order_given():
    build = prebuilt(Piece(text="-", note="n"), ("note", "text"))
    assert build is not None
    assert build("a note", "a text") == Piece(text="a text", note="a note")
    assert build("a note", "a text").model_fields_set == {"text", "note", "checked"}
