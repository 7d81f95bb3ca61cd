"""LlamaIndex adapter: ``BedrockKitLLM`` on bedrock-kit's framework-neutral core.

Needs the ``llama-index`` extra: ``pip install 'bedrock-kit[llama-index]'``.
"""

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "bedrock_kit.llama_index needs llama-index-core: pip install 'bedrock-kit[llama-index]'"
    ) from exc

from bedrock_kit.llama_index._tools import ToolCallMissingError
from bedrock_kit.llama_index.llms import BedrockKitLLM

__all__ = ["BedrockKitLLM", "ToolCallMissingError"]
