"""HTTP routes and event-stream shapes derived from botocore's service models.

Every operation of the served services is routable by its botocore name: each
``http.requestUri`` template becomes a regex (``{label}`` matches one URL-encoded path
segment, ``{label+}`` any rest of the path), so model ids that are ARNs route correctly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

SERVICES: tuple[str, ...] = ("bedrock-runtime", "bedrock-agent-runtime", "bedrock-agent", "bedrock")
"""botocore services LocalBedrock serves on one endpoint."""

# bedrock-agent is the control plane and collides with the runtimes: PrepareAgent
# (POST /agents/{agentId}/) has InvokeInlineAgent's route (POST /agents/{sessionId}), and
# TagResource/UntagResource/ListTagsForResource repeat runtime operation names (scripts are
# queued by name). Only the operations listed here are served, so nothing is shadowed.
# bedrock (the model control plane) shares operation names with the others too (TagResource):
# only its batch inference job operations and (below) the customization ones are served.
_ONLY_OPERATIONS: dict[str, frozenset[str]] = {
    "bedrock-agent": frozenset({"GetPrompt"}),
    "bedrock": frozenset(
        {
            "CreateModelInvocationJob",
            "GetModelInvocationJob",
            "StopModelInvocationJob",
            "ListModelInvocationJobs",
        }
    ),
}

# Model customization and serving on the bedrock control plane (added alongside any other
# bedrock operations: composes with them rather than replacing the set).
_CUSTOMIZATION_OPERATIONS = frozenset(
    {
        "CreateModelCustomizationJob",
        "GetModelCustomizationJob",
        "StopModelCustomizationJob",
        "ListModelCustomizationJobs",
        "GetCustomModel",
        "CreateProvisionedModelThroughput",
        "GetProvisionedModelThroughput",
        "UpdateProvisionedModelThroughput",
        "DeleteProvisionedModelThroughput",
        "ListProvisionedModelThroughputs",
        "CreateCustomModelDeployment",
        "GetCustomModelDeployment",
        "DeleteCustomModelDeployment",
        "ListCustomModelDeployments",
    }
)
_ONLY_OPERATIONS["bedrock"] = _ONLY_OPERATIONS.get("bedrock", frozenset()) | (
    _CUSTOMIZATION_OPERATIONS
)

# -- Knowledge Base ingestion and agent deployment (bedrock-agent control plane), served
# statefully by testing/control_plane.py. PrepareAgent (POST /agents/{agentId}/) differs from
# InvokeInlineAgent (POST /agents/{sessionId}) only by the trailing slash botocore sends, so
# routes named in _EXACT_SLASH match their template's trailing slash exactly.
_INGEST_DEPLOY_OPERATIONS = frozenset(
    {
        "GetKnowledgeBase",
        "CreateDataSource",
        "GetDataSource",
        "ListDataSources",
        "StartIngestionJob",
        "GetIngestionJob",
        "IngestKnowledgeBaseDocuments",
        "DeleteKnowledgeBaseDocuments",
        "GetKnowledgeBaseDocuments",
        "ListKnowledgeBaseDocuments",
        "CreateAgent",
        "UpdateAgent",
        "GetAgent",
        "ListAgents",
        "DeleteAgent",
        "PrepareAgent",
        "CreateAgentActionGroup",
        "UpdateAgentActionGroup",
        "GetAgentActionGroup",
        "ListAgentActionGroups",
        "DeleteAgentActionGroup",
        "AssociateAgentKnowledgeBase",
        "DisassociateAgentKnowledgeBase",
        "ListAgentKnowledgeBases",
        "CreateAgentAlias",
        "UpdateAgentAlias",
        "GetAgentAlias",
        "ListAgentAliases",
        "DeleteAgentAlias",
        "ListAgentVersions",
    }
)
_ONLY_OPERATIONS["bedrock-agent"] = _ONLY_OPERATIONS["bedrock-agent"] | _INGEST_DEPLOY_OPERATIONS
_EXACT_SLASH = frozenset({("bedrock-agent", "PrepareAgent")})
# -- end of the ingestion and deployment block
# Prompt Management (issue 21, branch flows): prompt CRUD and versions, answered by
# LocalBedrock's prompt store (testing/_prompt_store.py) when nothing is scripted.
_PROMPT_OPERATIONS = frozenset(
    {
        "CreatePrompt",
        "GetPrompt",
        "UpdatePrompt",
        "DeletePrompt",
        "CreatePromptVersion",
        "ListPrompts",
    }
)
_ONLY_OPERATIONS["bedrock-agent"] = _ONLY_OPERATIONS["bedrock-agent"] | (_PROMPT_OPERATIONS)
# Application inference profiles: the base model behind a profile ARN (chat models resolve
# it once with GetInferenceProfile).
_ONLY_OPERATIONS["bedrock"] = _ONLY_OPERATIONS["bedrock"] | frozenset({"GetInferenceProfile"})

_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding."""

    service: str
    """botocore service name."""
    operation: str
    """botocore operation name, e.g. ``ConverseStream``."""
    method: str
    """HTTP method."""
    template: str
    """The model's ``requestUri`` without its query part."""
    pattern: re.Pattern[str]
    """Regex over the raw (still URL-encoded) request path."""
    operation_model: Any
    """The botocore ``OperationModel``."""

    @property
    def literal_length(self) -> int:
        """Characters outside labels; longer literals are more specific routes."""
        return len(_LABEL.sub("", self.template))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Decoded path parameters when ``method`` and raw ``path`` fit this route."""
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def _compile(template: str, exact_slash: bool = False) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for label in _LABEL.finditer(template):
        parts.append(re.escape(template[position : label.start()]))
        greedy = label.group(2) == "+"
        parts.append(f"(?P<{label.group(1)}>{'.+' if greedy else '[^/]+'})")
        position = label.end()
    tail = template[position:]
    # botocore keeps a trailing slash from the template; accept either form (unless exact).
    parts.append(re.escape(tail) if exact_slash else re.escape(tail.rstrip("/")) + "/?")
    return re.compile("".join(parts))


_LOCK = threading.Lock()


@cache
def _build_routes() -> tuple[Route, ...]:
    import botocore.session

    session = botocore.session.get_session()
    found: list[Route] = []
    for service in SERVICES:
        model = session.get_service_model(service)
        only = _ONLY_OPERATIONS.get(service)
        for name in model.operation_names:
            if only is not None and name not in only:
                continue
            operation = model.operation_model(name)
            template = operation.http["requestUri"].split("?", 1)[0]
            found.append(
                Route(
                    service=service,
                    operation=name,
                    method=operation.http["method"],
                    template=template,
                    pattern=_compile(template, (service, name) in _EXACT_SLASH),
                    operation_model=operation,
                )
            )
    found.sort(key=lambda route: (-route.literal_length, route.template.count("{")))
    return tuple(found)


def routes() -> tuple[Route, ...]:
    """All routes of :data:`SERVICES`, most specific first (built once, thread-safely)."""
    with _LOCK:
        return _build_routes()


@cache
def route_for(operation: str) -> Route:
    """The route of a botocore operation name.

    Raises:
        KeyError: No served service has that operation.
    """
    for route in routes():
        if route.operation == operation:
            return route
    raise KeyError(operation)


def matching(method: str, path: str) -> Iterator[tuple[Route, dict[str, str]]]:
    """Every route a request fits, with its decoded path parameters, most specific first.

    Args:
        method: HTTP method, upper case.
        path: Raw (still URL-encoded) request path, without query string.
    """
    for route in routes():
        params = route.match(method, path)
        if params is not None:
            yield route, params


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route and decoded path parameters for a request, or None."""
    return next(matching(method, path), None)


def event_members(operation_model: Any) -> Mapping[str, Any]:
    """Event shapes of an operation's output stream by event name (empty if none)."""
    stream = operation_model.get_event_stream_output()
    return dict(stream.members) if stream is not None else {}


def exception_events(operation_model: Any) -> frozenset[str]:
    """Event names that are modeled exceptions of the operation's output stream."""
    return frozenset(
        name
        for name, shape in event_members(operation_model).items()
        if shape.metadata.get("exception")
    )


def header_members(operation_model: Any) -> dict[str, str]:
    """Output members bound to HTTP headers: member name -> header name."""
    shape = operation_model.output_shape
    if shape is None:
        return {}
    return {
        name: member.serialization["name"]
        for name, member in shape.members.items()
        if member.serialization.get("location") == "header"
    }
