"""Tool schema conversion: JSON Schema -> ToolSpec -> toolSpec / action groups, and back."""

from __future__ import annotations

import json
import keyword
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, create_model

from bedrock_kit.core.chat.tool_config import build_tool_config, build_tool_spec
from bedrock_kit.core.chat.tools import (
    build_action_group,
    build_function_schema,
    build_openapi_schema,
    coerce_arguments,
    is_flat_schema,
    resolve_refs,
    schema_from_function,
    tool_spec,
    tool_specs_from_function_schema,
    tool_specs_from_openapi,
)
from bedrock_kit.errors import ConfigurationError


class Unit(str, Enum):
    C = "celsius"
    F = "fahrenheit"


class Address(BaseModel):
    street: str
    city: str = "Seattle"
    zip_code: str | None = None


class Order(BaseModel):
    """Place an order."""

    item: str = Field(description="What to buy")
    quantity: int = 0
    gift: bool = False
    note: str = ""
    tags: list[str] = Field(default_factory=list)
    ship_to: Address
    unit: Unit = Unit.C


def weather(location: str, days: int = 0, metric: bool = False, note: str | None = None) -> str:
    """Weather forecast."""
    return f"{location}:{days}:{metric}:{note}"


# -- falsy defaults, $ref, required exactly


def test_falsy_defaults_stay_optional_and_keep_their_values():
    schema = schema_from_function(weather)
    assert schema["required"] == ["location"]
    props = schema["properties"]
    assert props["days"] == {"type": "integer", "default": 0}
    assert props["metric"] == {"type": "boolean", "default": False}
    assert props["note"]["default"] is None
    assert props["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


def test_pydantic_refs_are_inlined_and_defaults_kept():
    spec = tool_spec("order", Order.__doc__, Order.model_json_schema())
    text = json.dumps(spec.input_schema)
    assert "$ref" not in text and "$defs" not in text
    props = spec.input_schema["properties"]
    assert set(spec.input_schema["required"]) == {"item", "ship_to"}
    assert props["quantity"]["default"] == 0
    assert props["gift"]["default"] is False
    assert props["note"]["default"] == ""
    assert props["ship_to"]["properties"]["city"]["default"] == "Seattle"
    assert props["ship_to"]["required"] == ["street"]
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert props["unit"]["default"] == "celsius"
    assert "title" not in spec.input_schema


def test_ref_siblings_override_the_target():
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A", "description": "outer"}},
        "$defs": {"A": {"type": "string", "description": "inner"}},
    }
    assert resolve_refs(schema)["properties"]["a"] == {"type": "string", "description": "outer"}


def test_recursive_and_dangling_refs_are_configuration_errors():
    recursive = {
        "type": "object",
        "properties": {"node": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
    }
    with pytest.raises(ConfigurationError, match="refers to itself"):
        resolve_refs(recursive)
    with pytest.raises(ConfigurationError, match="cannot resolve"):
        resolve_refs({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}})


def test_function_hints_cover_literal_enum_annotated_and_models():
    def f(
        mode: Literal["a", "b"],
        unit: Unit = Unit.F,
        count: Annotated[int, "how many"] = 1,
        where: Address | None = None,
        **extra: Any,
    ) -> None:
        """Doc."""

    schema = schema_from_function(f)
    props = schema["properties"]
    assert props["mode"] == {"enum": ["a", "b"]}
    assert props["unit"] == {"enum": ["celsius", "fahrenheit"], "default": "fahrenheit"}
    assert props["count"] == {"type": "integer", "description": "how many", "default": 1}
    assert props["where"]["anyOf"][0]["properties"]["street"]["type"] == "string"
    assert "extra" not in props
    assert schema["required"] == ["mode"]


# -- validation


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "dot.name"])
def test_bad_converse_names_are_rejected(name):
    with pytest.raises(ConfigurationError, match="tool name"):
        tool_spec(name, "d", {"type": "object"})


def test_non_object_schema_and_unknown_required_are_rejected():
    with pytest.raises(ConfigurationError, match="type 'object'"):
        tool_spec("t", "d", {"type": "string"})
    with pytest.raises(ConfigurationError, match=r"\['b'\]"):
        tool_spec("t", "d", {"type": "object", "properties": {"a": {}}, "required": ["b"]})


def test_agent_limits_are_checked():
    flat = tool_spec("ok", "d", {"type": "object", "properties": {"a": {"type": "string"}}})
    with pytest.raises(ConfigurationError, match="action group name"):
        build_action_group([flat], name="bad name")
    with pytest.raises(ConfigurationError, match="at most 200"):
        build_action_group([flat], name="g", description="x" * 201)
    with pytest.raises(ConfigurationError, match="at most 1200"):
        build_function_schema([tool_spec("ok", "x" * 1201, flat.input_schema)])
    with pytest.raises(ConfigurationError, match="function name"):
        build_function_schema([tool_spec("a__b", "d", flat.input_schema)])
    with pytest.raises(ConfigurationError, match="Lambda function ARN"):
        build_action_group([flat], name="g", lambda_arn="arn:aws:s3:::bucket")
    with pytest.raises(ConfigurationError, match="unique"):
        build_action_group([flat, flat], name="g")
    long = {"type": "object", "properties": {"a": {"type": "string", "description": "y" * 501}}}
    with pytest.raises(ConfigurationError, match="at most 500"):
        build_function_schema([tool_spec("t", "d", long)])
    nested = tool_spec("order", "d", Order.model_json_schema())
    with pytest.raises(ConfigurationError, match="nested"):
        build_action_group([nested], name="g", schema="function")


# -- action groups


def test_flat_tools_become_a_function_schema_with_return_control():
    spec = tool_spec("weather", "Weather forecast.", schema_from_function(weather))
    group = build_action_group([spec], name="weather_tools", description="Weather")
    assert group["actionGroupExecutor"] == {"customControl": "RETURN_CONTROL"}
    assert "apiSchema" not in group
    (function,) = group["functionSchema"]["functions"]
    params = function["parameters"]
    assert params["location"] == {"type": "string", "required": True}
    assert params["days"] == {"type": "integer", "required": False, "description": "Default: 0."}
    assert params["metric"]["required"] is False
    assert params["metric"]["description"] == "Default: false."
    assert params["note"] == {"type": "string", "required": False}


def test_nested_tools_become_openapi_and_round_trip_exactly():
    order = tool_spec("order", "Place an order.", Order.model_json_schema())
    flat = tool_spec("weather", "Weather.", schema_from_function(weather))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:tools"
    group = build_action_group([order, flat], name="shop", lambda_arn=arn)
    assert group["actionGroupExecutor"] == {"lambda": arn}
    document = json.loads(group["apiSchema"]["payload"])
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/order", "/weather"}
    assert document["paths"]["/order"]["post"]["operationId"] == "order"
    assert tool_specs_from_openapi(group["apiSchema"]["payload"]) == [order, flat]


def test_enum_alone_forces_openapi():
    spec = tool_spec("convert", "d", schema_from_function(lambda unit=Unit.C: None))
    assert not is_flat_schema(spec.input_schema)
    assert "apiSchema" in build_action_group([spec], name="g")


def test_no_argument_tool_has_no_request_body():
    spec = tool_spec("ping", "Ping.", {"type": "object", "properties": {}})
    document = build_openapi_schema([spec])
    assert "requestBody" not in document["paths"]["/ping"]["post"]
    assert tool_specs_from_openapi(document) == [spec]


def test_converse_tool_spec_round_trip_reuses_build_tool_config():
    spec = tool_spec("order", "Place an order.", Order.model_json_schema(), strict=True)
    config = build_tool_config([spec])
    assert config is not None
    wire = config["tools"][0]["toolSpec"]
    assert wire["inputSchema"]["json"] == spec.input_schema
    back = tool_spec(wire["name"], wire["description"], wire["inputSchema"]["json"], strict=True)
    assert back == spec


# -- coercion of Bedrock's string parameters


def test_coerce_arguments_reads_declared_types():
    schema = schema_from_function(weather)
    params = [
        {"name": "location", "type": "string", "value": "Seattle"},
        {"name": "days", "type": "integer", "value": "3"},
        {"name": "metric", "type": "boolean", "value": "false"},
    ]
    args = coerce_arguments(schema, params)
    assert args == {"location": "Seattle", "days": 3, "metric": False}
    assert "note" not in args  # the tool applies its own default
    assert weather(**args) == "Seattle:3:False:None"


def test_coerce_arguments_parses_nested_json_and_reports_bad_values():
    schema = tool_spec("order", "d", Order.model_json_schema()).input_schema
    args = coerce_arguments(
        schema,
        [
            {"name": "item", "type": "string", "value": "tea"},
            {"name": "tags", "type": "array", "value": '["a", "b"]'},
            {"name": "ship_to", "type": "object", "value": '{"street": "Pike"}'},
        ],
    )
    assert Order(**args).ship_to.city == "Seattle"
    with pytest.raises(ConfigurationError, match="'quantity'"):
        coerce_arguments(schema, [{"name": "quantity", "type": "integer", "value": "many"}])
    with pytest.raises(ConfigurationError, match="'gift'"):
        coerce_arguments(schema, [{"name": "gift", "type": "boolean", "value": "yes"}])


# -- property-based round trips over generated pydantic models

_FIELD_KINDS: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "str": (str, st.text(max_size=8)),
    "int": (int, st.integers(-1000, 1000)),
    "float": (float, st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 3))),
    "bool": (bool, st.booleans()),
    "list_int": (list[int], st.lists(st.integers(-5, 5), max_size=3)),
    "opt_str": (str | None, st.none() | st.text(max_size=5)),
    "literal": (Literal["x", "y"], st.sampled_from(["x", "y"])),
    "nested": (Address, st.builds(Address, street=st.text(max_size=5))),
}

_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and n not in {"model_config", "schema", "copy"}
)


@st.composite
def _models(draw: st.DrawFn) -> tuple[type[BaseModel], dict[str, Any]]:
    names = draw(st.lists(_NAMES, min_size=1, max_size=5, unique=True))
    fields: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(_FIELD_KINDS)))
        hint, values_of = _FIELD_KINDS[kind]
        # Bedrock sends no nulls: a value the agent passes is never None.
        values[name] = draw(values_of.filter(lambda v: v is not None))
        if draw(st.booleans()):
            default = draw(values_of)
            fields[name] = (hint, default)
        else:
            fields[name] = (hint, ...)
    return create_model("Generated", **fields), values


def _wire_value(value: Any) -> str:
    """How Bedrock Agents sends a value: strings for scalars, JSON for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_models())
def test_generated_models_round_trip(generated):
    model, values = generated
    spec = tool_spec("generated", "Generated tool.", model.model_json_schema())
    schema = spec.input_schema
    # required/optional and defaults exactly as the model says
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    assert set(schema.get("required", [])) == required
    for name, info in model.model_fields.items():
        if not info.is_required():
            default = (
                info.default.model_dump() if isinstance(info.default, BaseModel) else info.default
            )
            assert schema["properties"][name]["default"] == default
    # Converse wire form carries the schema unchanged
    assert build_tool_spec(spec)["toolSpec"]["inputSchema"]["json"] == schema
    # action group: OpenAPI is exact, functionSchema keeps names, types and required flags
    group = build_action_group([spec], name="gen")
    if "apiSchema" in group:
        assert tool_specs_from_openapi(group["apiSchema"]["payload"]) == [spec]
    else:
        (back,) = tool_specs_from_function_schema(group["functionSchema"])
        assert set(back.input_schema.get("required", [])) == required
        assert set(back.input_schema["properties"]) == set(schema["properties"])
    # string parameters from the agent come back typed and validate against the model
    params = [
        {"name": n, "type": "string", "value": _wire_value(v)}
        for n, v in values.items()
        if v is not None
    ]
    args = coerce_arguments(schema, params)
    rebuilt = model(**args)
    for name, value in values.items():
        if value is None:
            continue
        got = getattr(rebuilt, name)
        if isinstance(value, float):
            assert got == pytest.approx(value)
        else:
            assert got == value


def test_openapi_action_group_holds_at_most_eleven_operations():
    nested = Order.model_json_schema()
    specs = [tool_spec(f"order{i}", "d", nested) for i in range(12)]
    with pytest.raises(ConfigurationError, match="at most 11"):
        build_action_group(specs, name="g")
    assert "apiSchema" in build_action_group(specs[:11], name="g")
