"""The express lane answers exactly what Strawberry's view answers, and takes what it may.

Each request is sent once to warm the policy's memory of its text, then once with the lane on
and once with it off (`LaurelGraphQL.express` set aside). Status, headers (but the request id)
and body bytes must be identical, and the request must have taken the lane it is listed with,
as the `laurel_graphql_requests_total` counter tells. Mutations run for three users in the
same state, one per run, and select nothing that names the user. What Strawberry logs of the
errors and the request's log line must be the same too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from conftest import Api, new_tenant

from app.api.view import LaurelGraphQL

PROFILE = """
query Profile($u: String!, $full: Boolean!, $lean: Boolean!) {
  user(id: $u) { tz
    achievements(includeIncomplete: true) { achievedAt progress @include(if: $full) {
      current target percent }
      achievement { ...Named ... on MetricAchievement { metricValue metric { key } } } }
    streak @skip(if: $lean) { length frequency } } }
query Other { __typename }
fragment Named on Achievement { key name description hidden status }
"""
TRACKED = """
mutation($u: String!, $v: Float!, $m: String!) {
  first: trackEvent(input: {metricKey: "lessons", user: {id: $u}, value: $v}) {
    total idempotentReplayed achievements { achievement { ... on Achievement { key } } } }
  second: trackEvent(input: {metricKey: $m, user: {id: $u}, value: 1}) { total } }
"""


@dataclass
class Case:
    name: str
    body: Any
    express: bool
    """Whether the lane must answer it (on the run after the warming one)."""
    token: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    users: bool = False
    """A mutation: variables get `u`, a user of its own per run."""


def _profile(**variables: object) -> dict[str, object]:
    return {"query": PROFILE, "operationName": "Profile", "variables": variables}


CASES = [
    Case(
        "named query, fragments, conditions",
        _profile(u="ada", full=True, lean=False),
        express=True,
    ),
    Case(
        "the same for the user's own token",
        _profile(u="ada", full=False, lean=True),
        express=True,
        token=True,
    ),
    Case(
        "another user's data by token",
        _profile(u="bob", full=True, lean=True),
        express=True,
        token=True,
    ),
    Case(
        "a field error with its path",
        {
            "query": '{ a: user(id: "ada") { metricTotal('
            'metricKey: "nope") } b: user(id: "ada") { metricTotal(metricKey: "lessons") } }'
        },
        express=True,
    ),
    Case(
        "variables of the wrong type",
        _profile(u=5, full="yes"),
        express=True,
    ),
    Case(
        "a missing variable",
        {"query": PROFILE, "operationName": "Other", "variables": {}},
        express=True,
    ),
    Case(
        "an enum value misspelt",
        {
            "query": "mutation($k: String!, $s: AchievementStatus!) "
            "{ setAchievementStatus(key: $k, status: $s) { __typename } }",
            "variables": {"k": "first", "s": "ACTIV"},
        },
        express=True,
    ),
    Case(
        "one named operation, its name not sent",
        {"query": "query Named { __typename }"},
        express=True,
    ),
    Case("several operations, none named", {"query": PROFILE}, express=False),
    Case("an unknown operation name", {"query": PROFILE, "operationName": "Nope"}, express=False),
    Case(
        "introspection by a user token",
        {"query": "{ __schema { queryType { name } } }"},
        express=False,
        token=True,
    ),
    Case("a syntax error", {"query": "{ user(id: "}, express=False),
    Case("a NUL in the variables", _profile(u="a\u0000", full=True, lean=True), express=False),
    Case("extensions", {"query": "{ __typename }", "extensions": {}}, express=False),
    Case("a batch", [{"query": "{ __typename }"}], express=False),
    Case("not an object", "hello", express=False),
    Case(
        "a wrong key",
        {"query": "{ __typename }"},
        express=False,
        headers={"X-API-Key": "laurel.wrong"},
    ),
    Case("no credentials", {"query": "{ __typename }"}, express=False, headers={"X-API-Key": ""}),
    Case(
        "a subscription over HTTP",
        {"query": 'subscription { achievementCompleted(userId: "ada") { __typename } }'},
        express=False,
    ),
    Case(
        "mutations, the second failing",
        {"query": TRACKED, "variables": {"v": 10, "m": "no-such-metric"}},
        express=True,
        users=True,
    ),
    Case(
        "mutations, both stored",
        {"query": TRACKED, "variables": {"v": 2, "m": "lessons"}},
        express=True,
        users=True,
    ),
]


@pytest.fixture(scope="module")
async def tenant(http: httpx.AsyncClient) -> tuple[Api, str]:
    api = await new_tenant(http, "express")
    await api.metric()
    await api.achievement("first", {"metric": {"metricKey": "lessons", "value": 1}})
    await api.achievement("tenth", {"metric": {"metricKey": "lessons", "value": 10}})
    await api.achievement("secret", {"metric": {"metricKey": "lessons", "value": 3}}, hidden=True)
    await api.track("ada", 4)
    await api.track("bob", 12)
    token = await api.data('mutation { createUserToken(userId: "ada") { token } }')
    return api, token["createUserToken"]["token"]


def _view(app: Any) -> LaurelGraphQL:
    return next(r.app for r in app.routes if isinstance(getattr(r, "app", None), LaurelGraphQL))


@contextmanager
def _standard_only(app: Any) -> Iterator[None]:
    view = _view(app)
    lane, view.express = view.express, None
    try:
        yield
    finally:
        view.express = lane


def _express_count(app: Any) -> float:
    registry = app.state.services.metrics.registry
    value = registry.get_sample_value("laurel_graphql_requests_total", {"lane": "express"})
    return value or 0.0


async def _send(
    http: httpx.AsyncClient, api: Api, token: str, case: Case, user: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if case.token else {"X-API-Key": api.key}
    headers |= case.headers
    body = case.body
    if case.users:
        body = {**body, "variables": {**body["variables"], "u": user}}
    return await http.post("/graphql", json=body, headers=headers)


def _shape(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, headers, response.content


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_both_lanes_answer_alike(
    app: Any,
    http: httpx.AsyncClient,
    tenant: tuple[Api, str],
    case: Case,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api, token = tenant
    run = id(case)
    await _send(http, api, token, case, f"warm-{run}")
    caplog.set_level(logging.INFO, logger="laurel.request")
    caplog.clear()
    before, series = _express_count(app), _request_series(app)
    express = await _send(http, api, token, case, f"express-{run}")
    took_express = _express_count(app) > before
    express_logged, express_counted = _logged(caplog), _grown(app, series)
    with _standard_only(app):
        series = _request_series(app)
        standard = await _send(http, api, token, case, f"standard-{run}")
        standard_counted = _grown(app, series)
    assert took_express is case.express
    assert _shape(express) == _shape(standard)
    assert express_counted == standard_counted
    assert express_logged == _logged(caplog)
    assert any(isinstance(line, dict) for line in express_logged)


def _request_series(app: Any) -> dict[tuple[str, ...], float]:
    """laurel_requests_total by its labels (the root fields run, the status)."""
    registry = app.state.services.metrics.registry
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in registry.collect()
        if family.name == "laurel_requests"
        for sample in family.samples
        if sample.name == "laurel_requests_total"
    }


def _grown(app: Any, before: dict[tuple[str, ...], float]) -> set[tuple[str, ...]]:
    return {k for k, v in _request_series(app).items() if v > before.get(k, 0.0)}


def _logged(caplog: pytest.LogCaptureFixture) -> list[object]:
    """What Strawberry's error logger and the request log wrote since the last call (the
    request's line without its id and duration)."""
    lines: list[object] = []
    for record in caplog.records:
        if record.name == "strawberry.execution":
            lines.append(record.getMessage())
        elif record.name == "laurel.request":
            fields = dict(record.__dict__["fields"])
            del fields["requestId"], fields["durationMs"]
            lines.append(fields)
    caplog.clear()
    return lines


async def test_the_lane_serves_a_text_only_once_validated(
    app: Any, http: httpx.AsyncClient, tenant: tuple[Api, str]
) -> None:
    """A text never seen takes Strawberry's path, which validates it; the next one is express."""
    api, _ = tenant
    query = '{ user(id: "ada") { metricTotal(metricKey: "lessons") } __typename }'
    lanes = []
    for _ in range(2):
        before = _express_count(app)
        assert (await api.data(query))["user"] == {"metricTotal": 4.0}
        lanes.append(_express_count(app) > before)
    assert lanes == [False, True]
