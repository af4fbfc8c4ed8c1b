"""ui.state's small shared LRU (_Recent): hits, expiry, eviction, and no caching of failures."""

from __future__ import annotations

import pytest

from ui import state


def test_a_value_is_made_once_per_key_and_shared():
    recent = state._Recent(size=4, ttl=300)
    calls = []

    def make(value):
        def run():
            calls.append(value)
            return [value]

        return run

    first = recent.get(("options", "url", "v1"), make(1))
    assert recent.get(("options", "url", "v1"), make(2)) is first  # the same object, not a copy
    assert recent.get(("options", "url", "v2"), make(3)) == [3]  # a new data version: made again
    assert calls == [1, 3]


def test_old_entries_expire_and_the_least_recent_go_first(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(state.time, "monotonic", lambda: clock[0])
    recent = state._Recent(size=2, ttl=10)
    recent.get("a", lambda: "a1")
    recent.get("b", lambda: "b1")
    assert recent.get("a", lambda: "a2") == "a1"  # "a" is now the most recent
    recent.get("c", lambda: "c1")  # evicts "b"
    assert recent.get("b", lambda: "b2") == "b2"
    assert "a" not in recent.items  # evicted by "b" in turn (size 2: "c" and "b")
    clock[0] += 11
    assert recent.get("c", lambda: "c2") == "c2"  # expired


def test_a_failure_is_not_remembered():
    recent = state._Recent()

    def fail():
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        recent.get("k", fail)
    assert recent.get("k", lambda: 1) == 1
