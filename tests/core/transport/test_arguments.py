"""Keyword arguments are checked by name, with the closest valid name suggested."""

from __future__ import annotations

import pytest
from pydantic import AliasChoices, BaseModel, Field

from bedrock_kit.core.transport.arguments import Arguments, closest, strict_keywords
from bedrock_kit.errors import ConfigurationError, UnknownArgumentError

VALID = ("region_name", "max_tokens", "temperature", "top_p", "endpoint_url", "timeout")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("regoin_name", "region_name"),
        ("max_token", "max_tokens"),
        ("temprature", "temperature"),
        ("region", "region_name"),
        ("endpoint", "endpoint_url"),
        ("topp", "top_p"),
        ("zzz", None),
    ],
)
def test_closest(given, expected):
    assert closest(given, VALID) == expected


def test_check_names_the_argument_and_the_suggestion():
    table = Arguments(frozenset(VALID))
    with pytest.raises(UnknownArgumentError) as info:
        table.check("ChatX", {"regoin_name": "us-east-1", "timeout": 3})
    error = info.value
    assert error.argument == "regoin_name"
    assert error.suggestion == "region_name"
    assert str(error) == "ChatX: unknown argument 'regoin_name' (did you mean 'region_name'?)"
    assert isinstance(error, ConfigurationError) and isinstance(error, TypeError)


def test_every_unknown_argument_is_listed():
    with pytest.raises(UnknownArgumentError) as info:
        Arguments(frozenset(VALID)).check("ChatX", {"temprature": 1, "max_token": 2})
    message = str(info.value)
    assert "'max_token' (did you mean 'max_tokens'?)" in message
    assert "'temprature' (did you mean 'temperature'?)" in message


def test_no_close_match_lists_the_valid_arguments():
    with pytest.raises(UnknownArgumentError) as info:
        Arguments(frozenset({"a_long_name", "other"})).check("X", {"zzz": 1})
    assert info.value.suggestion is None
    assert "Valid arguments: a_long_name, other" in str(info.value)


def test_aliases_are_renamed_and_conflicts_refused():
    table = Arguments(frozenset({"guardrail_config"}), aliases={"guardrails": "guardrail_config"})
    assert table.check("X", {"guardrails": {"a": 1}}) == {"guardrail_config": {"a": 1}}
    with pytest.raises(ConfigurationError, match="name the same argument"):
        table.check("X", {"guardrails": 1, "guardrail_config": 2})


def test_refused_names_say_what_to_do_instead():
    table = Arguments(frozenset({"timeout"}), refused={"config": "pass timeout= instead"})
    with pytest.raises(UnknownArgumentError) as info:
        table.check("X", {"config": object()})
    assert str(info.value) == "X: 'config' is not supported: pass timeout= instead"
    assert info.value.suggestion is None


def test_an_accepted_name_wins_over_a_refusal():
    # A class that grows the field takes it, whatever the table still says.
    table = Arguments(frozenset({"service_tier"}), refused={"service_tier": "not yet"})
    assert table.check("X", {"service_tier": "flex"}) == {"service_tier": "flex"}


def test_of_fields_reads_names_and_aliases_of_a_pydantic_model():
    class Model(BaseModel):
        model_id: str = Field(alias="model")
        endpoint_url: str | None = Field(
            default=None, validation_alias=AliasChoices("endpoint_url", "base_url")
        )
        plain: int = 0

    table = Arguments.of_fields(Model.model_fields)
    assert table.accepted == {"model_id", "model", "endpoint_url", "base_url", "plain"}


def test_extend_keeps_everything():
    base = Arguments(frozenset({"a"}), aliases={"x": "a"}, refused={"r": "no"})
    more = base.extend({"b"}, aliases={"y": "b"}, refused={"s": "no"})
    assert more.accepted == {"a", "b"}
    assert dict(more.aliases) == {"x": "a", "y": "b"}
    assert set(more.refused) == {"r", "s"}


class _Plain:
    @strict_keywords
    def __init__(self, knowledge_base_id: str, *, max_results: int | None = None) -> None:
        self.knowledge_base_id = knowledge_base_id
        self.max_results = max_results


def test_strict_keywords_on_a_plain_constructor():
    assert _Plain("KB", max_results=3).max_results == 3
    assert _Plain(knowledge_base_id="KB").knowledge_base_id == "KB"
    with pytest.raises(UnknownArgumentError) as info:
        _Plain("KB", max_result=3)  # type: ignore[call-arg]
    assert str(info.value) == "_Plain: unknown argument 'max_result' (did you mean 'max_results'?)"


def test_strict_keywords_leaves_var_keyword_functions_alone():
    def takes_all(**kwargs: object) -> int:
        return len(kwargs)

    assert strict_keywords(takes_all) is takes_all
