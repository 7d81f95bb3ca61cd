"""One tool schema converter: JSON Schema -> Converse tool specs and Bedrock Agents action groups.

Every tool source (pydantic models, typed functions, LangChain and LlamaIndex tools, raw
dicts) is first turned into a JSON Schema by its adapter; this module does the rest once:

* :func:`tool_spec` validates a name, a description and a schema into a core
  :class:`~bedrock_kit.core.chat.types.ToolSpec` (``$ref``/``$defs`` inlined, required/optional and
  defaults kept exactly); :func:`bedrock_kit.core.chat.tool_config.build_tool_config` turns it into
  Converse ``toolConfig``.
* :func:`build_action_group` turns tool specs into ``create_agent_action_group`` /
  ``InvokeInlineAgent`` action group arguments: a ``functionSchema`` when every argument is
  flat, an OpenAPI 3 ``apiSchema`` when any argument is nested (or an enum), so nothing is
  mapped lossily.
* :func:`coerce_arguments` turns the string-typed parameters Bedrock Agents send back into
  typed Python values for the tool.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Literal

from bedrock_kit.core.chat.schema import check_json_schema
from bedrock_kit.core.chat.types import SystemTool, ToolSpec
from bedrock_kit.core.transport.wire import WireReader, excerpt
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

_ARGUMENT = WireReader("Bedrock Agents parameter value")
_OPENAPI = WireReader("OpenAPI document")

__all__ = [
    "as_system_tool",
    "build_action_group",
    "build_function_schema",
    "build_openapi_schema",
    "coerce_arguments",
    "is_flat_schema",
    "is_system_tool",
    "resolve_refs",
    "schema_from_function",
    "schema_from_model",
    "split_system_tools",
    "tool_spec",
    "tool_specs_from_function_schema",
    "tool_specs_from_openapi",
]

# Bedrock's limits (botocore models of bedrock-runtime and bedrock-agent).
_CONVERSE_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_AGENT_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_FUNCTION_DESCRIPTION_MAX = 1200
_PARAMETER_DESCRIPTION_MAX = 500
_ACTION_GROUP_DESCRIPTION_MAX = 200
_LAMBDA_ARN = re.compile(
    r"^arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:"
    r"[a-zA-Z0-9-_\.]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
# functionSchema parameter types; anything else needs the OpenAPI form.
_FLAT_TYPES = frozenset({"string", "number", "integer", "boolean"})
_FUNCTION_TYPES = _FLAT_TYPES | {"array"}
_OPENAPI_VERSION = "3.0.0"
# "An action group can contain up to 11 API operations" (Bedrock Agents user guide).
_MAX_API_OPERATIONS = 11


# -- JSON Schema clean-up


def resolve_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Inline every local ``$ref`` (``#/$defs/...``, ``#/definitions/...``) and drop the defs.

    Bedrock resolves no references, so the schema it receives must be self-contained.

    Raises:
        ConfigurationError: On a recursive model (it cannot be inlined) or a dangling ref.
    """
    root = dict(schema)
    defs: dict[str, Any] = {**root.pop("definitions", {}), **root.pop("$defs", {})}

    def inline(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, trail) for item in node]
        if not isinstance(node, Mapping):
            return node
        if "$ref" in node:
            ref = str(node["$ref"])
            name = ref.rsplit("/", 1)[-1]
            if not ref.startswith("#/") or name not in defs:
                raise ConfigurationError(f"tool schema: cannot resolve $ref {ref!r}")
            if name in trail:
                raise ConfigurationError(
                    f"tool schema: {name!r} refers to itself; Bedrock needs a finite schema"
                )
            target = inline(defs[name], (*trail, name))
            # Keys next to the $ref (description, default) override the referenced schema.
            siblings = {k: inline(v, trail) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings}
        return {k: inline(v, trail) for k, v in node.items()}

    resolved: dict[str, Any] = inline(root, ())
    return resolved


def _normalise_object_schema(schema: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise ConfigurationError(f"{where}: schema must be a JSON Schema dict, got {schema!r}")
    check_json_schema(schema, where)  # before $ref inlining reads $defs and properties
    resolved = resolve_refs(copy.deepcopy(dict(schema)))
    if resolved.get("type", "object") != "object":
        raise ConfigurationError(
            f"{where}: the argument schema must be of type 'object', got {resolved.get('type')!r}"
        )
    resolved["type"] = "object"
    resolved.setdefault("properties", {})
    required = resolved.get("required", [])
    unknown = [name for name in required if name not in resolved["properties"]]
    if unknown:
        raise ConfigurationError(f"{where}: required arguments {unknown} are not in properties")
    return resolved


def tool_spec(
    name: str,
    description: str | None,
    schema: Mapping[str, Any],
    *,
    strict: bool | None = None,
) -> ToolSpec:
    """A validated core :class:`ToolSpec` from a name, description and JSON Schema.

    Args:
        name: Tool name, ``[a-zA-Z0-9_-]{1,64}`` (Converse's limit).
        description: What the tool does; falls back to the name when empty.
        schema: JSON Schema of the arguments (type object); ``$ref``/``$defs`` are inlined.
        strict: Ask models that support it for schema-exact arguments.

    Raises:
        ConfigurationError: When the name or schema breaks Bedrock's rules.
    """
    if not isinstance(name, str) or not _CONVERSE_NAME.match(name):
        raise ConfigurationError(
            f"tool name {name!r} is invalid: Bedrock allows 1-64 characters of letters, "
            "digits, '_' and '-'"
        )
    resolved = _normalise_object_schema(schema, f"tool {name!r}")
    # Pydantic puts the model name in "title"; it is noise for the model, not a constraint.
    resolved.pop("title", None)
    return ToolSpec(
        name=name,
        description=(description or "").strip() or name,
        input_schema=resolved,
        strict=strict,
    )


# -- schemas from Python objects (no pydantic import needed here)


def schema_from_model(model: Any) -> dict[str, Any]:
    """JSON Schema of a pydantic v2 model class (or anything with ``model_json_schema``)."""
    make = getattr(model, "model_json_schema", None)
    if make is None:
        raise ConfigurationError(
            f"{model!r} is not a pydantic model: it has no model_json_schema()"
        )
    return resolve_refs(make())


_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _hint_schema(hint: Any, where: str) -> dict[str, Any]:
    if hint is Any or hint is inspect.Parameter.empty:
        return {}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint is type(None):
        return {"type": "null"}
    if inspect.isclass(hint) and issubclass(hint, Enum):
        return {"enum": [member.value for member in hint]}
    if inspect.isclass(hint) and hasattr(hint, "model_json_schema"):
        return schema_from_model(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        inner = _hint_schema(args[0], where)
        notes = [a for a in args[1:] if isinstance(a, str)]
        return {**inner, "description": notes[0]} if notes else inner
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (list, tuple, set, frozenset, Sequence):
        item = args[0] if args else Any
        return {"type": "array", "items": _hint_schema(item, where)}
    if origin in (dict, Mapping) or hint is dict:
        return {"type": "object"}
    if hint is list:
        return {"type": "array", "items": {}}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_hint_schema(arg, where) for arg in args]}
    raise ConfigurationError(f"{where}: cannot describe type {hint!r} as JSON Schema")


def schema_from_function(func: Callable[..., Any]) -> dict[str, Any]:
    """JSON Schema of a plain function's arguments, from its type hints and defaults.

    An argument is required exactly when it has no default; a default (even ``0``, ``""``,
    ``False`` or ``None``) is kept as the schema's ``default``.
    """
    where = f"function {getattr(func, '__name__', func)!r}"
    hints = typing.get_type_hints(func, include_extras=True)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(func).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        prop = _hint_schema(hints.get(name, Any), f"{where} argument {name!r}")
        if param.default is param.empty:
            required.append(name)
        else:
            default = param.default.value if isinstance(param.default, Enum) else param.default
            prop["default"] = default
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


# -- action groups


def _check_agent_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _AGENT_NAME.match(name):
        raise ConfigurationError(
            f"{what} {name!r} is invalid for Bedrock Agents: 1-100 letters or digits, each "
            "optionally followed by one '_' or '-'"
        )


def _check_length(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise ConfigurationError(
            f"{what} is {len(text)} characters; Bedrock Agents allow at most {limit}"
        )


def _scalar_type(prop: Mapping[str, Any]) -> str | None:
    """The single flat type of a property, seeing through ``Optional[X]`` (anyOf X|null)."""
    if "type" in prop:
        kind = prop["type"]
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            return kinds[0] if len(kinds) == 1 else None
        return str(kind)
    options = prop.get("anyOf") or prop.get("oneOf")
    if options:
        kinds = [o for o in options if o.get("type") != "null"]
        if len(kinds) == 1 and set(kinds[0]) <= {"type", "title", "description"}:
            return _scalar_type(kinds[0])
    return None


def _is_flat_property(prop: Mapping[str, Any]) -> bool:
    if any(key in prop for key in ("enum", "const", "properties", "allOf")):
        return False
    kind = _scalar_type(prop)
    if kind in _FLAT_TYPES:
        return True
    if kind == "array":
        items = prop.get("items") or {}
        return not items or (_is_flat_property(items) and _scalar_type(items) in _FLAT_TYPES)
    return False


def is_flat_schema(schema: Mapping[str, Any]) -> bool:
    """True when every argument fits a ``functionSchema`` parameter without loss.

    Flat means a string, number, integer or boolean (optionally nullable) or an array of
    those, with no enum: ``functionSchema`` can express nothing more.
    """
    return all(_is_flat_property(p) for p in (schema.get("properties") or {}).values())


def _describe(prop: Mapping[str, Any], required: bool) -> str:
    """Parameter description; a default the schema cannot carry is told to the model."""
    text = str(prop.get("description") or prop.get("title") or "").strip()
    if not required and "default" in prop and prop["default"] is not None:
        note = f"Default: {json.dumps(prop['default'])}."
        text = f"{text} {note}".strip()
    return text


def build_function_schema(specs: Sequence[ToolSpec]) -> dict[str, Any]:
    """``functionSchema`` for flat tools (see :func:`is_flat_schema`).

    Raises:
        ConfigurationError: When a tool is nested, or a name/description breaks the limits.
    """
    functions = []
    for spec in specs:
        _check_agent_name(spec.name, "function name")
        _check_length(spec.description, _FUNCTION_DESCRIPTION_MAX, f"description of {spec.name!r}")
        if not is_flat_schema(spec.input_schema):
            raise ConfigurationError(
                f"tool {spec.name!r} has nested or enum arguments; functionSchema cannot "
                "express them (use the OpenAPI form)"
            )
        required = set(spec.input_schema.get("required") or ())
        parameters: dict[str, Any] = {}
        for name, prop in (spec.input_schema.get("properties") or {}).items():
            _check_agent_name(name, f"parameter name of {spec.name!r}")
            detail: dict[str, Any] = {"type": _scalar_type(prop), "required": name in required}
            description = _describe(prop, name in required)
            if description:
                _check_length(
                    description,
                    _PARAMETER_DESCRIPTION_MAX,
                    f"description of parameter {name!r} of {spec.name!r}",
                )
                detail["description"] = description
            parameters[name] = detail
        functions.append(
            {"name": spec.name, "description": spec.description, "parameters": parameters}
        )
    return {"functions": functions}


def build_openapi_schema(
    specs: Sequence[ToolSpec], *, title: str = "tools", version: str = "1.0.0"
) -> dict[str, Any]:
    """OpenAPI 3 document with one ``POST /<tool name>`` operation per tool.

    Arguments travel whole, as the ``application/json`` request body, so nested objects,
    enums and defaults reach the agent unchanged.
    """
    if len(specs) > _MAX_API_OPERATIONS:
        raise ConfigurationError(
            f"{len(specs)} tools in one OpenAPI action group; Bedrock Agents allow at most "
            f"{_MAX_API_OPERATIONS} API operations per action group: split the tools"
        )
    paths: dict[str, Any] = {}
    for spec in specs:
        _check_agent_name(spec.name, "operation name")
        _check_length(spec.description, _FUNCTION_DESCRIPTION_MAX, f"description of {spec.name!r}")
        operation: dict[str, Any] = {
            "operationId": spec.name,
            "description": spec.description,
            "responses": {
                "200": {
                    "description": f"Result of {spec.name}",
                    "content": {"application/json": {"schema": {"type": "string"}}},
                }
            },
        }
        if spec.input_schema.get("properties"):
            operation["requestBody"] = {
                "required": bool(spec.input_schema.get("required")),
                "content": {"application/json": {"schema": copy.deepcopy(spec.input_schema)}},
            }
        paths[f"/{spec.name}"] = {"post": operation}
    return {
        "openapi": _OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
    }


def build_action_group(
    specs: Sequence[ToolSpec],
    *,
    name: str,
    description: str | None = None,
    lambda_arn: str | None = None,
    schema: Literal["auto", "function", "openapi"] = "auto",
) -> dict[str, Any]:
    """Action group arguments for ``create_agent_action_group`` or ``InvokeInlineAgent``.

    Args:
        specs: The tools of the group (unique names).
        name: ``actionGroupName``.
        description: ``description`` (1-200 characters) or None.
        lambda_arn: Run the tools in this Lambda function; None returns control to the
            caller (``customControl: RETURN_CONTROL``).
        schema: ``auto`` picks ``functionSchema`` when every tool is flat and an OpenAPI
            ``apiSchema`` otherwise; ``function`` / ``openapi`` force one form.

    Raises:
        ConfigurationError: On a bad name, description, ARN, duplicate tools, or a forced
            ``function`` form for nested tools.
    """
    _check_agent_name(name, "action group name")
    if not specs:
        raise ConfigurationError("build_action_group: specs is empty; give at least one tool")
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"build_action_group: tool names must be unique, got {names}")
    if schema not in ("auto", "function", "openapi"):
        raise ConfigurationError(f"schema must be 'auto', 'function' or 'openapi', got {schema!r}")
    group: dict[str, Any] = {"actionGroupName": name}
    if description:
        _check_length(description, _ACTION_GROUP_DESCRIPTION_MAX, "action group description")
        group["description"] = description
    if lambda_arn is None:
        group["actionGroupExecutor"] = {"customControl": "RETURN_CONTROL"}
    elif not _LAMBDA_ARN.match(lambda_arn):
        raise ConfigurationError(f"lambda_arn {lambda_arn!r} is not a Lambda function ARN")
    else:
        group["actionGroupExecutor"] = {"lambda": lambda_arn}
    flat = all(is_flat_schema(spec.input_schema) for spec in specs)
    if schema == "function" or (schema == "auto" and flat):
        group["functionSchema"] = build_function_schema(specs)
    else:
        document = build_openapi_schema(specs, title=name)
        group["apiSchema"] = {"payload": json.dumps(document)}
    return group


# -- the way back: schemas Bedrock holds -> tool specs (round trips, Lambda handlers)


def tool_specs_from_function_schema(function_schema: Mapping[str, Any]) -> list[ToolSpec]:
    """Tool specs described by a ``functionSchema`` (types and required flags)."""
    specs = []
    for function in function_schema.get("functions") or ():
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, detail in (function.get("parameters") or {}).items():
            prop: dict[str, Any] = {"type": detail["type"]}
            if detail.get("description"):
                prop["description"] = detail["description"]
            properties[name] = prop
            if detail.get("required"):
                required.append(name)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        specs.append(tool_spec(function["name"], function.get("description"), schema))
    return specs


def tool_specs_from_openapi(document: Mapping[str, Any] | str) -> list[ToolSpec]:
    """Tool specs described by an OpenAPI document built by :func:`build_openapi_schema`."""
    try:
        doc = _OPENAPI.loads_object(document) if isinstance(document, str) else document
    except MalformedResponseError as exc:
        raise ConfigurationError(f"the OpenAPI document is not a JSON object: {exc}") from exc
    specs = []
    for path, operations in (doc.get("paths") or {}).items():
        for operation in operations.values():
            body = (operation.get("requestBody") or {}).get("content") or {}
            schema = (body.get("application/json") or {}).get("schema") or {"type": "object"}
            name = operation.get("operationId") or path.strip("/")
            specs.append(tool_spec(name, operation.get("description"), schema))
    return specs


# -- string parameters from Bedrock Agents -> typed arguments


def _coerce(value: Any, prop: Mapping[str, Any], name: str) -> Any:
    if not isinstance(value, str):
        return value
    kind = _scalar_type(prop)
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() and "." not in value else number
        if kind == "boolean":
            lowered = value.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(f"not a boolean: {value!r}")
            return lowered == "true"
        if kind in ("array", "object") or (kind is None and value[:1] in ("[", "{")):
            parsed = _ARGUMENT.loads(value, where=f"argument {name!r}")
            items = prop.get("items")
            if kind == "array" and isinstance(parsed, list) and isinstance(items, Mapping):
                return [_coerce(item, items, name) for item in parsed]
            return parsed
    except (ValueError, MalformedResponseError) as exc:
        shown = excerpt(value, 80)
        raise ConfigurationError(f"argument {name!r}: cannot read {shown!r} as {kind}") from exc
    return value


def coerce_arguments(
    schema: Mapping[str, Any], parameters: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Typed keyword arguments from Bedrock Agents' ``[{name, type, value}]`` parameters.

    Values arrive as strings; each is read as the type the tool's schema declares (ints,
    floats, booleans, JSON arrays and objects). Missing optional arguments stay missing so
    the tool applies its own default.

    Raises:
        ConfigurationError: When a value cannot be read as its declared type.
    """
    properties = schema.get("properties") or {}
    arguments: dict[str, Any] = {}
    for parameter in parameters:
        name = str(parameter.get("name"))
        prop = properties.get(name) or {"type": parameter.get("type")}
        arguments[name] = _coerce(parameter.get("value"), prop, name)
    return arguments


# -- server-side (system) tools


def is_system_tool(value: Any) -> bool:
    """True for the forms :func:`as_system_tool` reads (names alone excepted)."""
    if isinstance(value, SystemTool):
        return True
    if isinstance(value, Mapping):
        return "systemTool" in value or value.get("type") == "system_tool"
    # langchain-aws's NovaSystemTool: an object with a name and type "system_tool"
    return getattr(value, "type", None) == "system_tool" and isinstance(
        getattr(value, "name", None), str
    )


def as_system_tool(value: Any) -> SystemTool:
    """A :class:`SystemTool` from a name, a SystemTool, a Converse ``{"systemTool": {...}}``
    dict, ``{"type": "system_tool", "name": ...}`` or langchain-aws's ``NovaSystemTool``.

    Raises:
        ConfigurationError: Any other value, or a name Bedrock would refuse.
    """
    name: Any = None
    if isinstance(value, str):
        name = value
    elif isinstance(value, SystemTool):
        name = value.name
    elif isinstance(value, Mapping):
        inner = value.get("systemTool", value)
        name = inner.get("name") if isinstance(inner, Mapping) else None
    elif is_system_tool(value):
        name = value.name
    if not isinstance(name, str) or not _CONVERSE_NAME.match(name):
        raise ConfigurationError(
            f"system tool {value!r:.80} is not a system tool name ([a-zA-Z0-9_-]{{1,64}}, e.g. "
            "'nova_code_interpreter'), a SystemTool or a {'systemTool': {'name': ...}} dict"
        )
    return SystemTool(name)


def split_system_tools(tools: Sequence[Any]) -> tuple[list[Any], list[SystemTool]]:
    """Tools to convert as client tools, and the system tools found among them."""
    client: list[Any] = []
    system: list[SystemTool] = []
    for tool in tools:
        if is_system_tool(tool):
            system.append(as_system_tool(tool))
        else:
            client.append(tool)
    return client, system
