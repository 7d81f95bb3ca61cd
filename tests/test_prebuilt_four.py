"""prebuilt() builds with up to four varying fields (LangChain's plain answer varies four)
and declines more."""

from __future__ import annotations

from bedrock_kit._prebuilt import prebuilt
from tests.test_prebuilt import Piece


def test_three_and_four_varying_fields_in_the_order_given():
    three = prebuilt(Piece(text="-", note="n", checked=True), ("checked", "note", "text"))
    assert three is not None
    assert three(True, "a note", "a text") == Piece(text="a text", note="a note", checked=True)
    four = prebuilt(
        Piece(text="-", note="n", meta={}, checked=True), ("text", "note", "meta", "checked")
    )
    assert four is not None
    built = four("t", "n2", {"a": 1}, True)
    assert built == Piece(text="t", note="n2", meta={"a": 1}, checked=True)
    assert (
        built.model_fields_set
        == Piece(text="t", note="n2", meta={"a": 1}, checked=True).model_fields_set
    )


def test_more_than_four_varying_fields_get_no_builder():
    sample = Piece(text="-", note="n", checked=True)
    assert prebuilt(sample, ("text", "note", "checked", "color", "tags")) is None
