"""Prompt Management served statefully by LocalBedrock: prompt CRUD and versions.

CreatePrompt, GetPrompt, UpdatePrompt (the DRAFT), CreatePromptVersion (a numbered snapshot
of the DRAFT), ListPrompts (prompts, or one prompt's versions, paginated) and DeletePrompt,
shaped as botocore's ``bedrock-agent`` model says. Ids are fresh 10-character ids.
"""

from __future__ import annotations

import copy
import random
import string
import threading
from datetime import datetime, timezone
from typing import Any, Protocol

from bedrock_kit.testing.replies import Reply


class _Request(Protocol):
    """What the store reads of a ``ReceivedRequest`` (server.py imports this module)."""

    @property
    def operation(self) -> str: ...
    @property
    def body(self) -> Any: ...
    @property
    def path_params(self) -> dict[str, str]: ...
    @property
    def query(self) -> dict[str, list[str]] | None: ...


PROMPT_OPERATIONS = frozenset(
    {
        "CreatePrompt",
        "GetPrompt",
        "UpdatePrompt",
        "DeletePrompt",
        "CreatePromptVersion",
        "ListPrompts",
    }
)
"""``bedrock-agent`` operations the store answers when nothing is scripted."""

_ACCOUNT = "123456789012"
_REGION = "us-east-1"
_ALPHABET = string.ascii_uppercase + string.digits
_KEPT = ("name", "description", "variants", "defaultVariant", "customerEncryptionKeyArn")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _not_found(identifier: str, version: str | None = None) -> Reply:
    what = f"prompt {identifier}" + (f" version {version}" if version else "")
    return Reply.error(404, "ResourceNotFoundException", f"{what} does not exist")


class PromptStore:
    """Prompts by id: a DRAFT each, plus numbered versions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drafts: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, list[dict[str, Any]]] = {}
        self._random = random.SystemRandom()

    def _new_id(self) -> str:
        while True:
            found = "".join(self._random.choice(_ALPHABET) for _ in range(10))
            if found not in self._drafts:
                return found

    @staticmethod
    def _id_of(identifier: str) -> str:
        # An ARN (arn:...:prompt/ID or prompt/ID:VERSION) or the bare id.
        tail = identifier.rsplit("/", 1)[-1]
        return tail.split(":", 1)[0]

    def reply(self, request: _Request) -> Reply:
        """The answer to one Prompt Management request."""
        body = request.body if isinstance(request.body, dict) else {}
        query = {k: v[0] for k, v in (request.query or {}).items() if v}
        identifier = request.path_params.get("promptIdentifier", "")
        with self._lock:
            handler = getattr(self, f"_{request.operation}")
            reply: Reply = handler(body, query, self._id_of(identifier) if identifier else "")
            return reply

    # -- operations (called with the lock held)

    def _CreatePrompt(self, body: dict[str, Any], query: dict[str, str], _: str) -> Reply:  # noqa: N802
        name = body.get("name")
        if any(d["name"] == name for d in self._drafts.values()):
            return Reply.error(409, "ConflictException", f"a prompt named {name!r} already exists")
        prompt_id = self._new_id()
        now = _now()
        draft = {k: copy.deepcopy(body[k]) for k in _KEPT if k in body}
        draft.update(
            id=prompt_id,
            arn=f"arn:aws:bedrock:{_REGION}:{_ACCOUNT}:prompt/{prompt_id}",
            version="DRAFT",
            createdAt=now,
            updatedAt=now,
        )
        self._drafts[prompt_id] = draft
        self._versions[prompt_id] = []
        return Reply.json(draft, status=201)

    def _GetPrompt(self, body: dict[str, Any], query: dict[str, str], prompt_id: str) -> Reply:  # noqa: N802
        version = query.get("promptVersion", "DRAFT")
        found = self._find(prompt_id, version)
        return Reply.json(found) if found is not None else _not_found(prompt_id, version)

    def _UpdatePrompt(self, body: dict[str, Any], query: dict[str, str], prompt_id: str) -> Reply:  # noqa: N802
        draft = self._drafts.get(prompt_id)
        if draft is None:
            return _not_found(prompt_id)
        for key in _KEPT:
            draft.pop(key, None)
            if key in body:
                draft[key] = copy.deepcopy(body[key])
        draft["updatedAt"] = _now()
        return Reply.json(draft)

    def _CreatePromptVersion(  # noqa: N802
        self, body: dict[str, Any], query: dict[str, str], prompt_id: str
    ) -> Reply:
        draft = self._drafts.get(prompt_id)
        if draft is None:
            return _not_found(prompt_id)
        versions = self._versions[prompt_id]
        number = str(int(versions[-1]["version"]) + 1 if versions else 1)
        snapshot = copy.deepcopy(draft)
        snapshot.update(
            version=number,
            arn=f"{draft['arn']}:{number}",
            createdAt=_now(),
            updatedAt=_now(),
        )
        if "description" in body:
            snapshot["description"] = body["description"]
        versions.append(snapshot)
        return Reply.json(snapshot, status=201)

    def _ListPrompts(self, body: dict[str, Any], query: dict[str, str], _: str) -> Reply:  # noqa: N802
        identifier = query.get("promptIdentifier")
        if identifier:
            prompt_id = self._id_of(identifier)
            if prompt_id not in self._drafts:
                return _not_found(prompt_id)
            items = [self._drafts[prompt_id], *self._versions[prompt_id]]
        else:
            items = list(self._drafts.values())
        summaries = [
            {
                k: item[k]
                for k in ("name", "description", "id", "arn", "version", "createdAt", "updatedAt")
                if k in item
            }
            for item in items
        ]
        start = int(query.get("nextToken") or 0)
        size = int(query.get("maxResults") or 100)
        page = summaries[start : start + size]
        out: dict[str, Any] = {"promptSummaries": page}
        if start + size < len(summaries):
            out["nextToken"] = str(start + size)
        return Reply.json(out)

    def _DeletePrompt(self, body: dict[str, Any], query: dict[str, str], prompt_id: str) -> Reply:  # noqa: N802
        version = query.get("promptVersion")
        if prompt_id not in self._drafts:
            return _not_found(prompt_id)
        if version is None:
            del self._drafts[prompt_id]
            del self._versions[prompt_id]
            return Reply.json({"id": prompt_id, "version": "DRAFT"})
        kept = [v for v in self._versions[prompt_id] if v["version"] != version]
        if len(kept) == len(self._versions[prompt_id]):
            return _not_found(prompt_id, version)
        self._versions[prompt_id] = kept
        return Reply.json({"id": prompt_id, "version": version})

    def _find(self, prompt_id: str, version: str) -> dict[str, Any] | None:
        if version == "DRAFT":
            return self._drafts.get(prompt_id)
        for item in self._versions.get(prompt_id, ()):
            if item["version"] == version:
                return item
        return None
