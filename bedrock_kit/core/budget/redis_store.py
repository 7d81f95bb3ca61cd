"""One budget shared by every process and host: a ledger store in Redis (``redis-py``).

Usage::

    from bedrock_kit import Ledger
    from bedrock_kit.core.budget.redis_store import RedisStore

    ledger = Ledger(store=RedisStore("redis://budget-host:6379/0", name="app"), max_cost=200)

Every worker that builds its ledger on the same Redis and ``name`` shares the counters: a
call is refused before any request when its worst case does not fit what *all* workers
have spent and hold, and reports add up every worker's calls.

* Reserve, settle and release are each one Lua script (:mod:`._redis_lua`), so a check and
  the hold it allows cannot interleave with another process's.
* Holds are leases. Each process keeps one lease key alive with a heartbeat thread (every
  third of ``lease_seconds``); when the process dies the key expires, and the next script
  any process runs gives its holds up: charged their full reservation by default (the
  call may have been billed, its usage is unknown: the report counts it in ``expired``,
  ``usage_missing`` and ``errors``), or freed with ``on_expired="release"``.
* A hold with ``lease_seconds`` (a batch job's commitment) is its own owner: it is kept
  that long whatever becomes of the process that made it, renewed by :meth:`RedisStore.renew`
  (a process waiting for the job), found again by id from any process
  (:meth:`RedisStore.lookup`), and remembered for
  :data:`~bedrock_kit.core.budget.store.TOMBSTONE_SECONDS` once finished or expired, so it
  is never charged twice.
* Costs are kept as integers of nano-USD, rounded up: the shared total is never below the
  exact cost, so the budget errs on the safe side by less than a billionth of a dollar a
  call. Totals stay exact up to nine million dollars per scope.

The store talks to Redis inline (sub-millisecond on a local network), in sync and async
calls alike. A store given to a child process by pickle reconnects with its URL and forgets
any password (secrets never travel in a pickle): pass the password again there.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import fields
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from bedrock_kit.core.budget import _redis_lua as lua
from bedrock_kit.core.budget.limits import Limits
from bedrock_kit.core.budget.report import ModelUsage
from bedrock_kit.core.budget.store import (
    TOMBSTONE_SECONDS,
    Amounts,
    Hold,
    HoldState,
    ScopeSnapshot,
    refusal,
)
from bedrock_kit.errors import BedrockKitError, ConfigurationError

__all__ = ["BudgetStoreError", "RedisStore", "redis_client"]

_NANO = Decimal(10) ** 9
OnExpired = Literal["charge", "release"]


class BudgetStoreError(BedrockKitError):
    """The shared budget store could not be reached or refused a script: nothing is sent."""


def redis_client(url: str, **kwargs: Any) -> Any:
    """A ``redis.Redis`` for ``url``, with an install hint when redis-py is missing."""
    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            "shared budgets need redis-py: pip install 'bedrock-bridge[redis]'"
        ) from None
    return redis.Redis.from_url(url, **kwargs)


def to_nano(cost: Decimal, *, up: bool = True) -> int:
    """USD as integer nano-USD (rounded up for what is charged, down for limits)."""
    return int((cost * _NANO).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR))


def from_nano(value: int | str | bytes) -> Decimal:
    """Integer nano-USD as USD."""
    return Decimal(int(value)) / _NANO


def _row_values(row: ModelUsage) -> list[Any]:
    values: list[Any] = [row.model_id]
    for name in lua.ROW_FIELDS:
        value = getattr(row, name)
        values.append(to_nano(value) if name == "cost" else int(value))
    return values


def _amount_values(amounts: Amounts) -> list[int]:
    return [to_nano(amounts.cost)] + [int(getattr(amounts, f)) for f in lua.AMOUNTS[1:]]


def _limit_values(limits: Limits) -> list[int]:
    values = []
    for name in lua.LIMITS:
        limit = getattr(limits, name)
        if limit is None:
            values.append(-1)
        else:
            values.append(to_nano(limit, up=False) if name == "max_cost" else int(limit))
    return values


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[Any]) -> dict[str, int]:
    return {_text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}


def _amounts(values: dict[str, int]) -> Amounts:
    return Amounts(
        from_nano(values.get("cost", 0)),
        *(values.get(name, 0) for name in lua.AMOUNTS[1:]),
    )


def _rows(flat: Sequence[Any]) -> tuple[ModelUsage, ...]:
    columns: dict[str, dict[str, Any]] = {}
    for key, value in _pairs(flat).items():
        model_id, _, column = key.rpartition("\t")
        columns.setdefault(model_id, {})[column] = from_nano(value) if column == "cost" else value
    known = {f.name for f in fields(ModelUsage)}
    return tuple(
        ModelUsage(model_id, **{k: v for k, v in values.items() if k in known})
        for model_id, values in sorted(columns.items())
    )


def without_password(url: str) -> str:
    """``url`` with any password removed (for repr, errors and pickles)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def url_of_client(client: Any) -> str:
    """A URL for an injected ``redis.Redis`` (no password), to reconnect after a pickle."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
    return f"redis://{host}:{port}/{kwargs.get('db', 0)}"


def _lasting_owner(hold_id: str) -> str:
    return f"hold-{hold_id}"


class _Heartbeat:
    """Keeps one owner's lease key alive from a daemon thread until stopped."""

    def __init__(self, store: RedisStore, owner: str) -> None:
        self.owner = owner
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(weakref.ref(store),), daemon=True, name="bedrock-kit-lease"
        )
        self._thread.start()

    def _run(self, ref: weakref.ref[RedisStore]) -> None:
        while True:
            store = ref()
            if store is None:
                return
            interval = store.lease_seconds / 3
            try:
                store._renew(self.owner)
            except Exception:  # Redis away: retry soon; the lease may lapse meanwhile
                interval = min(interval, 0.5)
            del store
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        self._stop.set()


class RedisStore:
    """Ledger counters in Redis, shared by every process that names the same budget.

    Args:
        url: ``redis://[:password@]host:port/db`` (or ``rediss://``, ``unix://``).
        name: The budget's name: ledgers with the same Redis and name share their counts.
        client: A ``redis.Redis`` to use instead of ``url``.
        lease_seconds: How long a process's holds outlive its last heartbeat.
        on_expired: What a dead process's holds become: ``"charge"`` (default) books the
            full reservation, ``"release"`` frees it.
        prefix: First part of every key.

    Raises:
        ConfigurationError: no ``url`` or ``client``, a bad lease or policy, or redis-py
            missing.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        name: str = "default",
        client: Any = None,
        lease_seconds: float = 30.0,
        on_expired: OnExpired = "charge",
        prefix: str = "bedrock-kit",
    ) -> None:
        if (url is None) == (client is None):
            raise ConfigurationError("RedisStore needs exactly one of url or client")
        if not isinstance(lease_seconds, int | float) or lease_seconds <= 0:
            raise ConfigurationError(f"lease_seconds must be > 0, got {lease_seconds!r}")
        if on_expired not in ("charge", "release"):
            raise ConfigurationError(
                f"on_expired must be 'charge' or 'release', got {on_expired!r}"
            )
        if not name or any(c in name for c in "{}\t"):
            raise ConfigurationError(
                f"budget name must be non-empty without {{}} or tabs: {name!r}"
            )
        self.url = url if url is not None else url_of_client(client)
        self.name = name
        self.lease_seconds = float(lease_seconds)
        self.on_expired: OnExpired = on_expired
        self.prefix = prefix
        self._client = client if client is not None else redis_client(url)  # type: ignore[arg-type]
        self._key = f"{prefix}:{{{name}}}:"
        self._lock = threading.Lock()
        self._pid = -1
        self._heartbeat: _Heartbeat | None = None
        self._scripts = {
            script: self._client.register_script(getattr(lua, script))
            for script in ("HOLD", "FINISH", "BOOK", "SNAPSHOT")
        }

    # -- owner and lease

    @property
    def owner(self) -> str:
        """This process's owner id (a new one after a fork), its heartbeat started."""
        with self._lock:
            if self._pid != os.getpid() or self._heartbeat is None:
                self._pid = os.getpid()
                self._heartbeat = _Heartbeat(self, uuid.uuid4().hex)
            return self._heartbeat.owner

    def _renew(self, owner: str) -> None:
        alive = f"{self._key}o:{owner}:alive"
        self._client.set(alive, "1", px=int(self.lease_seconds * 1000))

    def close(self) -> None:
        """Stop the heartbeat; holds still open lapse after ``lease_seconds``."""
        with self._lock:
            if self._heartbeat is not None:
                self._heartbeat.stop()
                self._heartbeat = None

    def new_id(self) -> str:
        """A hold id unique across processes."""
        return uuid.uuid4().hex

    def _run(self, script: str, *args: Any) -> Any:
        try:
            return self._scripts[script](keys=[self._key], args=list(args))
        except Exception as exc:
            if type(exc).__module__.startswith("redis"):
                # No silent pass: a call whose budget cannot be checked is not sent.
                raise BudgetStoreError(f"budget store {self!r} failed: {exc}") from exc
            raise

    # -- the store protocol

    def hold(self, hold: Hold) -> None:
        """See :meth:`~bedrock_kit.core.budget.store.LedgerStore.hold`."""
        expired = hold.expired_row or ModelUsage(hold.model_id, calls=1, errors=1, expired=1)
        record = {
            "s": [[name, _limit_values(limits)] for name, limits in hold.scopes],
            "a": _amount_values(hold.amounts),
            "e": _row_values(expired),
            "x": self.on_expired,
        }
        owner, lease = self.owner, int(self.lease_seconds * 1000)
        if hold.lease_seconds is not None:  # outlives this process: its own owner and lease
            owner, lease = _lasting_owner(hold.id), int(hold.lease_seconds * 1000)
            record["t"], record["l"] = TOMBSTONE_SECONDS, hold.lease_seconds
        answer = self._run("HOLD", owner, hold.id, lease, json.dumps(record))
        if int(answer[0]) == 1:
            return
        if int(answer[0]) == 2:
            raise ConfigurationError(f"a budget hold {hold.id!r} exists already in {self!r}")
        scope, index = _text(answer[1]), int(answer[2]) - 1
        name = lua.LIMITS[index]
        limits = dict(hold.scopes)[scope]

        def shown(raw: Any) -> Decimal | int:
            return from_nano(raw) if name == "max_cost" else int(raw)

        raise refusal(
            scope,
            name,
            limit=getattr(limits, name),
            used=shown(answer[3]),
            held=shown(answer[4]),
            wanted=hold.amounts.value(name),
            model_id=hold.model_id,
        )

    def finish(self, hold: Hold, rows: Sequence[ModelUsage] | None) -> bool:
        """See :meth:`~bedrock_kit.core.budget.store.LedgerStore.finish`."""
        payload = json.dumps([_row_values(row) for row in rows or ()])
        return int(self._run("FINISH", hold.id, payload)) == 1

    def lookup(self, hold_id: str) -> tuple[HoldState, Hold | None]:
        """What the budget knows of ``hold_id`` (any process's), and the hold when open.

        Raises:
            BudgetStoreError: Redis could not be reached.
        """
        try:
            data, finished = self._client.hmget(f"{self._key}h:{hold_id}", "d"), None
            if data[0] is None:
                finished = self._client.exists(f"{self._key}t:{hold_id}")
        except Exception as exc:
            raise BudgetStoreError(f"budget store {self!r} failed: {exc}") from exc
        if data[0] is None:
            return ("finished" if finished else "unknown"), None
        record = json.loads(_text(data[0]))
        amounts = Amounts(
            from_nano(record["a"][0]), *(int(v) for v in record["a"][1:])
        )  # limits stay with the processes that set them: finishing needs none
        scopes = tuple((name, Limits()) for name, _ in record["s"])
        model_id = _text(record["e"][0])
        return "open", Hold(hold_id, scopes, amounts, model_id, lease_seconds=record.get("l"))

    def renew(self, hold_id: str, seconds: float) -> bool:
        """Keep ``hold_id`` (a hold with ``lease_seconds``) ``seconds`` more; False when it
        is no longer open.

        Raises:
            BudgetStoreError: Redis could not be reached.
        """
        try:
            if not self._client.exists(f"{self._key}h:{hold_id}"):
                return False
            alive = f"{self._key}o:{_lasting_owner(hold_id)}:alive"
            self._client.set(alive, "1", px=int(seconds * 1000))
        except Exception as exc:
            raise BudgetStoreError(f"budget store {self!r} failed: {exc}") from exc
        return True

    def book(self, scopes: Sequence[str], rows: Sequence[ModelUsage]) -> None:
        """See :meth:`~bedrock_kit.core.budget.store.LedgerStore.book`."""
        if rows:
            payload = json.dumps([_row_values(row) for row in rows])
            self._run("BOOK", json.dumps(list(scopes)), payload)

    def snapshot(self, scope: str) -> ScopeSnapshot:
        """See :meth:`~bedrock_kit.core.budget.store.LedgerStore.snapshot` (every process's
        totals; leases that lapsed are given up first)."""
        committed, reserved, models, _, _ = self._run("SNAPSHOT", scope)
        held = _pairs(reserved)
        return ScopeSnapshot(
            _amounts(_pairs(committed)), _amounts(held), held.get("open", 0), _rows(models)
        )

    def has_scope(self, scope: str) -> bool:
        """See :meth:`~bedrock_kit.core.budget.store.LedgerStore.has_scope`."""
        return bool(self._run("SNAPSHOT", scope)[3])

    def clear(self) -> int:
        """Delete every key of this budget (tests, a new day's budget); returns how many."""
        keys = list(self._client.scan_iter(match=f"{self._key}*", count=1000))
        return int(self._client.delete(*keys)) if keys else 0

    # -- pickling and repr: never the password

    def __getstate__(self) -> dict[str, Any]:
        return {
            "url": without_password(self.url),
            "name": self.name,
            "lease_seconds": self.lease_seconds,
            "on_expired": self.on_expired,
            "prefix": self.prefix,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["url"],
            name=state["name"],
            lease_seconds=state["lease_seconds"],
            on_expired=state["on_expired"],
            prefix=state["prefix"],
        )

    def __repr__(self) -> str:
        return f"RedisStore({without_password(self.url)!r}, name={self.name!r})"
