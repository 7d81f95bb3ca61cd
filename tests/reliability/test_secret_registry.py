"""The registry of explicit keys survives finalizers that run while it is busy."""

from __future__ import annotations

import gc
import threading

from bedrock_kit import _secrets


class _Owner:
    pass


def test_a_finalizer_during_pattern_building_does_not_deadlock() -> None:
    # Owners die while another thread keeps building the pattern: with a plain lock taken
    # in the finalizer this hung forever (seen in the suite under the cyclic collector).
    registry = _secrets._KnownSecrets()
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            owner = _Owner()
            registry.remember(owner, ["AKIACHURNCHURNCHURN00"])
            del owner
            gc.collect()

    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    for _ in range(2000):
        registry.pattern()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_an_owner_dying_while_the_registry_lock_is_held_does_not_block() -> None:
    # Deterministic form of the hang: the finalizer runs in the thread holding the lock.
    registry = _secrets._KnownSecrets()

    def die_under_the_lock() -> None:
        owner = _Owner()
        registry.remember(owner, ["AKIAUNDERTHELOCK0001"])
        with registry._lock:
            del owner  # refcount 0: the finalizer runs here, in this thread

    thread = threading.Thread(target=die_under_the_lock, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "finalizer blocked on the registry's lock"
    assert registry.pattern() is None  # the dead owner's key is gone


def test_keys_are_forgotten_with_their_owner_and_ids_reused_safely() -> None:
    registry = _secrets._KnownSecrets()
    first = _Owner()
    registry.remember(first, ["FIRSTSECRETVALUE0001"])
    del first
    gc.collect()
    second = _Owner()  # may reuse the first owner's id
    registry.remember(second, ["SECONDSECRETVALUE002"])
    pattern = registry.pattern()
    assert pattern is not None
    assert pattern.search("SECONDSECRETVALUE002")
    assert not pattern.search("FIRSTSECRETVALUE0001")
