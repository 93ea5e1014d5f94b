"""The event engine against a plain reference model, through the GraphQL API.

Random sequences of events (two users, small values including negatives, optional idempotency
keys from a small set) must leave the same totals and completions as a few lines of Python that
add numbers and remember the first time each threshold was reached.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from conftest import Api, new_tenant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

THRESHOLDS = {"t3": 3, "t5": 5, "t8": 8}
USERS = ("u1", "u2")

events = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.integers(min_value=-3, max_value=4),
        st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"])),
    ),
    max_size=15,
)


@dataclass
class Model:
    """What docs/concepts.md promises for events, completions and idempotency, with no storage."""

    totals: dict[str, float] = field(default_factory=lambda: dict.fromkeys(USERS, 0.0))
    completed: set[tuple[str, str]] = field(default_factory=set)
    keys: dict[str, tuple[str, int]] = field(default_factory=dict)

    def outcome(self, user: str, value: int, key: str | None) -> str:
        """'applied', 'replayed' or 'conflict'; applying also records new completions."""
        if key is not None and key in self.keys:
            return "replayed" if self.keys[key] == (user, value) else "conflict"
        if key is not None:
            self.keys[key] = (user, value)
        self.totals[user] += value
        for name, threshold in THRESHOLDS.items():
            if self.totals[user] >= threshold:
                self.completed.add((user, name))
        return "applied"


async def run_sequence(
    client: httpx.AsyncClient, sequence: list[tuple[str, int, str | None]]
) -> None:
    api = await new_tenant(client, "model")
    await api.metric()
    for name, threshold in THRESHOLDS.items():
        await api.achievement(name, {"metric": {"metricKey": "lessons", "value": threshold}})
    model = Model()
    reports: Counter[tuple[str, str]] = Counter()
    first_response: dict[str, Any] = {}
    for user, value, key in sequence:
        expected = model.outcome(user, value, key)
        extra = {} if key is None else {"idempotencyKey": key}
        body = await api.track(user, value, **extra)
        if expected == "conflict":
            assert body["errors"][0]["extensions"]["code"] == "CONFLICT", body
            continue
        assert "errors" not in body, body
        payload = body["data"]["trackEvent"]
        assert payload["idempotentReplayed"] is (expected == "replayed")
        if expected == "replayed":
            assert key is not None
            assert {
                k: v for k, v in payload.items() if k != "idempotentReplayed"
            } == first_response[key]
            continue
        assert payload["total"] == model.totals[user]
        if key is not None:
            first_response[key] = {k: v for k, v in payload.items() if k != "idempotentReplayed"}
        for unlock in payload["achievements"]:
            reports[(user, unlock["achievement"]["key"])] += 1
    assert set(reports) == model.completed
    assert all(count == 1 for count in reports.values()), reports
    for user in USERS:
        assert await stored(api, user) == (
            model.totals[user],
            {n for u, n in model.completed if u == user},
        )


async def stored(api: Api, user: str) -> tuple[float, set[str]]:
    data = await api.data(
        """query($id: String!) { user(id: $id) { metricTotal(metricKey: "lessons")
             achievements { achievement { ... on MetricAchievement { key } } } } }""",
        {"id": user},
    )
    if data["user"] is None:
        return 0.0, set()
    keys = {a["achievement"]["key"] for a in data["user"]["achievements"]}
    return float(data["user"]["metricTotal"]), keys


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=events)
async def test_engine_matches_the_reference_model(
    http: httpx.AsyncClient, sequence: list[tuple[str, int, str | None]]
) -> None:
    await run_sequence(http, sequence)
