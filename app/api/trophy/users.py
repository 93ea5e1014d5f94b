"""Trophy's user endpoints: identify, profile, achievements, metrics and streak.

A user token may call them for its own user only; API keys for any user of their tenant, as over
GraphQL. An unknown user is a 404 here (GraphQL answers null).
"""

from __future__ import annotations

from typing import Any

from app.api.permissions import require_key, require_reader_of
from app.api.trophy import wire
from app.api.trophy.achievements import metric_names
from app.api.trophy.endpoint import Call, json_response
from app.api.trophy.inputs import (
    MAX_HISTORY_PERIODS,
    history_periods,
    json_object,
    updated_user,
)
from app.domain import queries
from app.domain.errors import NotFound
from app.domain.model import Metric
from app.domain.ports import Standing


async def identify(call: Call) -> Any:
    """`PUT /users/{id}`: creates or updates the user."""
    caller = require_key(call.caller)
    body = await json_object(call.request, call.services.max_body_bytes)
    user = (await call.services.engine.identify(caller, updated_user(call.path("id"), body))).user
    return json_response(wire.user(user))


async def profile(call: Call) -> Any:
    standing = await _standing(call)
    return json_response(wire.user(standing.user))


async def achievements(call: Call) -> Any:
    """`GET /users/{id}/achievements[?includeIncomplete=true]`, with stats."""
    standing = await _standing(call)
    include = call.request.query_params.get("includeIncomplete") == "true"
    views = await _lines(call, standing, include_incomplete=include)
    users = await call.loaders.user_count.load(call.tenant_id)
    names = await metric_names(call, (v.achievement for v in views))
    return json_response(
        [wire.with_stats(wire.user_achievement(v, names), v.achievement, users) for v in views]
    )


async def metrics(call: Call) -> Any:
    """`GET /users/{id}/metrics`: every metric, its total and its achievements' ladder."""
    standing = await _standing(call)
    found = await call.loaders.tenant_metrics.load(call.tenant_id)
    return json_response(await _metrics(call, standing, found))


async def metric(call: Call) -> Any:
    standing = await _standing(call)
    key = call.path("key")
    found = [m for m in await call.loaders.tenant_metrics.load(call.tenant_id) if m.key == key]
    if not found:
        raise NotFound(f"no metric with key {key!r}")
    return json_response((await _metrics(call, standing, found))[0])


async def streak(call: Call) -> Any:
    """`GET /users/{id}/streak[?historyPeriods=7]`: 404 when the tenant has no streak."""
    periods = history_periods(call.request.query_params.get("historyPeriods"))
    standing = await _standing(call)
    settings = await call.loaders.streak_settings.load(call.tenant_id)
    if settings is None:
        raise NotFound("this tenant has no streak configured")
    user = standing.user
    now = call.services.clock()
    view = queries.user_streak(settings, standing, now)
    assert view is not None, "settings exist"
    reads = call.services.reads
    days = await reads.streak_days(user.pk, settings.metric_ids)
    grants = await reads.freeze_grants(user.pk)
    history = queries.streak_history(
        settings, user, days, grants, now, periods, most=MAX_HISTORY_PERIODS
    )
    return json_response(wire.streak(view, reversed(history), settings.freezes))


async def _standing(call: Call) -> Standing:
    user_id = call.path("id")
    require_reader_of(call.caller, user_id)
    standing = await call.loaders.standing_by_user_id.load(user_id)
    if standing is None:
        raise NotFound(f"no user with id {user_id!r}")
    return standing


async def _lines(
    call: Call, standing: Standing, *, include_incomplete: bool
) -> list[queries.UserAchievementView]:
    catalogue = await call.loaders.tenant_achievements.load(call.tenant_id)
    settings = await call.loaders.streak_settings.load(call.tenant_id)
    user = standing.user
    view = queries.user_streak(settings, standing, call.services.clock())
    return queries.user_achievements(
        catalogue, user, standing, view, call.caller, include_incomplete=include_incomplete
    )


async def _metrics(call: Call, standing: Standing, found: list[Metric]) -> list[wire.Json]:
    views = await _lines(call, standing, include_incomplete=True)
    names = {m.id: m.name for m in found}
    return [
        wire.metric(
            m,
            standing.totals.get((m.id, None), 0.0),
            queries.metric_achievements(views, m.id),
            names,
        )
        for m in found
    ]
