"""`trackEvents`: many events in one request, each with trackEvent's semantics, over HTTP on
whichever backend the session uses."""

from __future__ import annotations

from collections import Counter
from typing import Any

from conftest import Api
from test_points import earn_and_spend, standing, system, trigger

BATCH = """
mutation($e: [TrackEventInput!]!) {
  trackEvents(input: {events: $e}) { results {
    eventId total idempotencyKey idempotentReplayed
    achievements { achievement { ... on MetricAchievement { key } } }
    points { added total }
  } }
}
"""
TOTAL = 'query($u: String!) { user(id: $u) { metricTotal(metricKey: "lessons") } }'


def event(user: str, value: float = 1, **extra: Any) -> dict[str, Any]:
    return {"metricKey": "lessons", "user": {"id": user}, "value": value, **extra}


async def batch(api: Api, events: list[dict[str, Any]]) -> list[Any]:
    return list((await api.data(BATCH, {"e": events}))["trackEvents"]["results"])


async def total(api: Api, user: str) -> Any:
    found = (await api.data(TOTAL, {"u": user}))["user"]
    return None if found is None else found["metricTotal"]


async def refusal(api: Api, events: list[dict[str, Any]]) -> dict[str, Any]:
    body = await api.gql(BATCH, {"e": events})
    assert body["data"] is None and len(body["errors"]) == 1, body
    return dict(body["errors"][0]["extensions"])


def keys(result: Any) -> list[str]:
    return [a["achievement"]["key"] for a in result["achievements"]]


async def test_results_come_in_order_and_completions_on_the_event_that_made_them(
    api: Api,
) -> None:
    await api.metric()
    await api.achievement("three", {"metric": {"metricKey": "lessons", "value": 3}})
    await api.achievement("five", {"metric": {"metricKey": "lessons", "value": 5}})
    events = [event("ada", 2), event("bob", 1), event("ada", 1), event("bob", 4), event("ada", 2)]
    results = await batch(api, events)
    assert [r["total"] for r in results] == [2, 1, 3, 5, 5]
    assert [keys(r) for r in results] == [[], [], ["three"], ["three", "five"], ["five"]]
    event_ids = [int(r["eventId"]) for r in results]
    assert event_ids == sorted(set(event_ids)), "one id each, in the batch's order"
    assert (await total(api, "ada"), await total(api, "bob")) == (5, 5)


async def test_a_batch_longer_than_a_transaction_keeps_its_order(api: Api) -> None:
    """250 events run in three transactions; the running totals show they ran in order."""
    await api.metric()
    await api.achievement("two-hundred", {"metric": {"metricKey": "lessons", "value": 200}})
    results = await batch(api, [event("ada") for _ in range(250)])
    assert [r["total"] for r in results] == list(range(1, 251))
    assert [i for i, r in enumerate(results) if r["achievements"]] == [199]


async def test_each_event_keeps_its_own_idempotency_key(api: Api) -> None:
    await api.metric()
    await api.achievement("two", {"metric": {"metricKey": "lessons", "value": 2}})
    events = [event("ada", idempotencyKey="k1"), event("ada", idempotencyKey="k2"), event("ada")]
    first = await batch(api, events)
    assert [r["idempotentReplayed"] for r in first] == [False, False, False]
    again = await batch(api, events)
    assert [r["idempotentReplayed"] for r in again] == [True, True, False]
    assert [r["eventId"] for r in again[:2]] == [r["eventId"] for r in first[:2]]
    assert keys(again[1]) == ["two"] and again[1]["total"] == 2
    assert await total(api, "ada") == 4
    repeated = await batch(api, [event("bob", idempotencyKey="same")] * 2)
    assert [r["idempotentReplayed"] for r in repeated] == [False, True]
    assert await total(api, "bob") == 1


async def test_an_invalid_event_refuses_the_batch_and_stores_nothing(api: Api) -> None:
    await api.metric()
    cases = [
        (event("cy", 2e15), "BAD_USER_INPUT"),
        ({**event("cy"), "occurredAt": "2999-01-01T00:00:00Z"}, "BAD_USER_INPUT"),
        ({**event("cy"), "metricKey": "nope"}, "NOT_FOUND"),
        ({**event("cy"), "user": {"id": ""}}, "BAD_USER_INPUT"),
        ({**event("cy"), "idempotencyKey": "x" * 1000}, "BAD_USER_INPUT"),
    ]
    for bad, code in cases:
        extensions = await refusal(api, [event("cy"), event("dee"), bad, event("cy")])
        assert (extensions["code"], extensions["index"]) == (code, 2), extensions
    assert await total(api, "cy") is None and await total(api, "dee") is None


async def test_batch_size_is_bounded(api: Api) -> None:
    await api.metric()
    for count in (0, 1001):
        extensions = await refusal(api, [event("ada")] * count)
        assert extensions["code"] == "BAD_USER_INPUT" and extensions["field"] == "events"
    assert await total(api, "ada") is None
    assert len(await batch(api, [event("ada")] * 1000)) == 1000


async def test_an_event_refused_as_it_runs_stops_the_batch_there(api: Api) -> None:
    """Events 0-119 earn a point each; event 120 would spend 200 of the 120 and must block:
    the 120 before it are stored (one transaction committed, the second run again without
    it), it and those after it are not."""
    await earn_and_spend(api, earn=1, cost=-200)
    spend = {**event("ada"), "metricKey": "spend"}
    events = [event("ada") for _ in range(120)] + [spend] + [event("ada") for _ in range(30)]
    extensions = await refusal(api, events)
    assert extensions["code"] == "CONFLICT" and extensions["reason"] == "INSUFFICIENT_POINTS"
    assert (extensions["index"], extensions["stored"]) == (120, 120)
    assert await total(api, "ada") == 120
    points = '{ user(id: "ada") { points(systemKey: "energy") { total } } }'
    assert (await api.data(points))["user"]["points"]["total"] == 120


async def test_events_recorded_together_and_one_by_one_keep_their_order(api: Api) -> None:
    """Runs of plain events are recorded together before they are followed up; an idempotency
    key, user attributes or an event attribute (another number of totals) each start another
    run. Totals and completions must come out as if every event ran alone, in order."""
    await api.metric()
    await api.achievement("three", {"metric": {"metricKey": "lessons", "value": 3}})
    await api.achievement("six", {"metric": {"metricKey": "lessons", "value": 6}})
    tagged = {"attributes": [{"key": "level", "value": "b1"}]}
    events = [
        event("ada", 2),
        event("ada", 1, idempotencyKey="k1"),
        event("ada", 1, **tagged),
        {**event("ada", 1), "user": {"id": "ada", "attributes": [{"key": "plan", "value": "pro"}]}},
        event("ada", 1),
        event("ada", 1),
    ]
    results = await batch(api, events)
    assert [r["total"] for r in results] == [2, 3, 4, 5, 6, 7]
    assert [keys(r) for r in results] == [[], ["three"], [], [], ["six"], []]
    assert await total(api, "ada") == 7


async def test_each_event_of_a_batch_awards_on_its_users_points_as_left_by_the_one_before(
    api: Api,
) -> None:
    """A batch reads its users' points at once and keeps them as it awards: every result's
    total and every step of three are each user's own, event by event, and the next batch
    goes on from what was stored."""
    await api.metric()
    await system(api)
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    await trigger(api, "per-3", 100, {"metric": {"metricKey": "lessons", "metricThreshold": 3}})
    users = ["ada", "bob", "ada", "cid", "ada", "bob", "ada", "bob"]
    counted: Counter[str] = Counter()
    expected = []
    for user in users + users:
        counted[user] += 1
        expected.append(10 * counted[user] + 100 * (counted[user] // 3))
    results = await batch(api, [event(u) for u in users])
    results += await batch(api, [event(u) for u in users])
    assert [r["points"][0]["total"] for r in results] == expected
    assert [r["points"][0]["added"] for r in results] == [
        after - before
        for after, before in zip(expected, _previous_totals(users + users, expected), strict=True)
    ]


def _previous_totals(users: list[str], totals: list[int]) -> list[int]:
    last: dict[str, int] = {}
    previous = []
    for user, total in zip(users, totals, strict=True):
        previous.append(last.get(user, 0))
        last[user] = total
    return previous


async def test_a_batch_reports_each_award_under_its_ledger_id_in_the_order_applied(
    api: Api,
) -> None:
    """Events with idempotency keys are followed up one by one and the others read their users'
    points ahead, so one transaction writes awards both ways: the ids each result reports are
    the ledger's, distinct, rising in the order the awards were applied."""
    await api.metric()
    await system(api)
    await trigger(api, "per-1", 10, {"metric": {"metricKey": "lessons", "metricThreshold": 1}})
    await trigger(api, "per-2", 100, {"metric": {"metricKey": "lessons", "metricThreshold": 2}})
    users = ["ada", "bob", "cid", "ada", "bob", "cid", "ada", "dan", "eve"]
    keyed = {2, 5}
    events = [
        event(u, idempotencyKey=f"k{i}") if i in keyed else event(u) for i, u in enumerate(users)
    ]
    results = await api.data(
        "mutation($e: [TrackEventInput!]!) { trackEvents(input: {events: $e}) "
        "{ results { points { awards { id awarded } } } } }",
        {"e": events},
    )
    reported: dict[str, list[int]] = {}
    applied = []
    for user, result in zip(users, results["trackEvents"]["results"], strict=True):
        ids = [int(a["id"]) for change in result["points"] for a in change["awards"]]
        reported.setdefault(user, []).extend(ids)
        applied += ids
    assert applied == sorted(set(applied))
    for user, ids in reported.items():
        ledger = await standing(api, user)
        assert [int(a["id"]) for a in ledger["awards"]] == ids[::-1], user
        assert ledger["total"] == sum(a["awarded"] for a in ledger["awards"])
