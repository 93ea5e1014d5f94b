"""`trackEvents` exactly once under real concurrency: ten batches at once, over the same users
in different orders, against a live uvicorn process on whichever backend the session uses."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from conftest import Api
from test_points import system, trigger
from test_points_concurrency import assert_ledger_consistent

BATCH = """
mutation($e: [TrackEventInput!]!) {
  trackEvents(input: {events: $e}) { results {
    total achievements { achievement { ... on MetricAchievement { key } } }
    points { awards { awarded } } } }
}
"""
STANDING = """
query($u: String!) { user(id: $u) { metricTotal(metricKey: "lessons")
  points(systemKey: "xp") { total awards(limit: 100) { id awarded total } } } }
"""
USERS = [f"u{n}" for n in range(10)]


def rotated(batch: int) -> list[dict[str, Any]]:
    """Six events for each user, the users in an order of the batch's own."""
    order = USERS[batch:] + USERS[:batch]
    if batch % 2:
        order.reverse()
    return [
        {"metricKey": "lessons", "user": {"id": user}, "value": 1}
        for _ in range(6)
        for user in order
    ]


async def test_overlapping_batches_count_and_award_each_event_once(live_api: Api) -> None:
    await live_api.metric()
    await live_api.achievement("thirty", {"metric": {"metricKey": "lessons", "value": 30}})
    await system(live_api, maxPoints=10_000)
    await trigger(live_api, "per-5", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 5}})
    sent = [rotated(b) for b in range(10)]
    bodies = await asyncio.gather(*(live_api.gql(BATCH, {"e": events}) for events in sent))
    assert [b["errors"] for b in bodies if b.get("errors")] == []
    unlocked: Counter[str] = Counter()
    awarded: Counter[str] = Counter()
    for events, body in zip(sent, bodies, strict=True):
        results = body["data"]["trackEvents"]["results"]
        assert len(results) == len(events)
        for sent_event, result in zip(events, results, strict=True):
            user = sent_event["user"]["id"]
            unlocked[user] += len(result["achievements"])
            awarded[user] += sum(a["awarded"] for c in result["points"] for a in c["awards"])
    assert unlocked == Counter(dict.fromkeys(USERS, 1))
    assert awarded == Counter(dict.fromkeys(USERS, 120))
    for user in USERS:
        standing = (await live_api.data(STANDING, {"u": user}))["user"]
        assert standing["metricTotal"] == 60
        assert standing["points"]["total"] == 120
        assert_ledger_consistent(standing["points"], 10_000)
