"""Every field of every public pydantic model bedrock-kit defines has a description.

``help()``, the JSON schema and the API reference read ``FieldInfo.description``; a field
without one is unexplained outside the source. Fields inherited from LangChain or LlamaIndex
are theirs to describe; every field a bedrock-kit class declares (itself or through a
private base) is checked.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pydantic
import pytest

import bedrock_kit

PACKAGES = ("bedrock_kit", "bedrock_kit.core", "bedrock_kit.langchain", "bedrock_kit.llama_index")


def _modules() -> list[ModuleType]:
    found: list[ModuleType] = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found.append(package)
        if name == "bedrock_kit":
            continue  # its subpackages are walked on their own (testing is not public API)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            found.append(importlib.import_module(info.name))
    return found


def _public_models() -> dict[str, type[pydantic.BaseModel]]:
    models: dict[str, type[pydantic.BaseModel]] = {}
    for module in _modules():
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and issubclass(obj, pydantic.BaseModel)
                and obj.__module__.startswith("bedrock_kit")
                and not obj.__name__.startswith("_")
            ):
                models[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return models


MODELS = _public_models()


def _declared_by_us(model: type[pydantic.BaseModel], field: str) -> str | None:
    """The bedrock-kit class that declares ``field`` (None when a framework class does)."""
    for klass in model.__mro__:
        if field in vars(klass).get("__annotations__", {}):
            return klass.__qualname__ if klass.__module__.startswith("bedrock_kit") else None
    return None


def test_the_walk_finds_the_public_models() -> None:
    names = {name.rsplit(".", 1)[-1] for name in MODELS}
    expected = {"ChatBedrockKit", "BedrockKitLLM", "BedrockGuardrail", "BedrockKitEmbeddings",
                "BedrockKitEmbedding", "BedrockKnowledgeBaseRetriever", "BedrockAgentRunnable",
                "BedrockStreamGuard", "BedrockRetrieveAndGenerateQueryEngine"}  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_field_has_a_description(name: str) -> None:
    model = MODELS[name]
    missing = [
        f"{owner}.{field}"
        for field, info in model.model_fields.items()
        if (owner := _declared_by_us(model, field)) is not None
        and not (info.description or "").strip()
    ]
    assert not missing, f"fields without a description: {missing}"


def test_a_field_docstring_is_its_description() -> None:
    from bedrock_kit.langchain import ChatBedrockKit

    described = ChatBedrockKit.model_fields["guard_last_turn"].description or ""
    assert "guard" in described.lower() and len(described) > 20
    assert bedrock_kit.__version__  # the package imported is the one under test
