"""Trophy's metric events, completions and catalogue, over the engine and read side GraphQL uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.api.permissions import require_key
from app.api.trophy import wire
from app.api.trophy.endpoint import Call, json_response
from app.api.trophy.inputs import (
    attribute_query,
    json_object,
    number,
    required,
    string_map,
    upserted_user,
)
from app.api.trophy.points import points_map
from app.domain import idempotency, queries
from app.domain.model import Achievement, MetricTrigger
from app.domain.outcomes import CompleteAchievement, TrackEvent


async def metric_event(call: Call) -> Any:
    """`POST /metrics/{key}/event`: 201, or 202 when an `Idempotency-Key` replays."""
    caller = require_key(call.caller)
    body = await json_object(call.request, call.services.max_body_bytes)
    key = call.path("key")
    profile = upserted_user(required(body, "user"))
    header = call.request.headers.get("idempotency-key")
    command = TrackEvent(
        metric_key=key,
        user=profile,
        value=number(required(body, "value"), "value"),
        attributes=string_map(body.get("attributes"), "attributes") or (),
        idempotency_key=None
        if header is None
        else idempotency.per_user_and_metric(header, key, profile.id),
    )
    outcome = await call.services.engine.track_event(caller, command)
    metric = await call.services.definitions.metric_by_key(caller.tenant_id, key)
    assert metric is not None, "the event was just recorded on it"
    unlocked = [queries.unlocked(u.achievement, caller, u.completed_at) for u in outcome.unlocks]
    names = await metric_names(call, (v.achievement for v in unlocked))
    points = await points_map(call, outcome.points)
    answer = wire.event(outcome, metric, unlocked, names, header, points)
    return json_response(answer, 202 if outcome.replayed else 201)


async def complete(call: Call) -> Any:
    """`POST /achievements/{key}/complete`: 201, also when the user already had it."""
    caller = require_key(call.caller)
    body = await json_object(call.request, call.services.max_body_bytes)
    command = CompleteAchievement(
        achievement_key=call.path("key"), user=upserted_user(required(body, "user"))
    )
    outcome = await call.services.engine.complete_achievement(caller, command)
    unlock = outcome.unlock
    view = queries.unlocked(unlock.achievement, caller, unlock.completed_at)
    names = await metric_names(call, [unlock.achievement])
    points = await points_map(call, outcome.points)
    return json_response(wire.completion(unlock.completion_id, view, names, points), 201)


async def catalogue(call: Call) -> Any:
    """`GET /achievements[?userAttributes=key:value,...]`: the ACTIVE ones, with stats."""
    wanted = attribute_query(call.request.query_params.get("userAttributes"))
    found = await call.loaders.tenant_achievements.load(call.tenant_id)
    completed = await call.loaders.completions_seen_by(call.caller)
    shown = queries.open_to(found, call.caller, completed, wanted)
    users = await call.loaders.user_count.load(call.tenant_id)
    names = await metric_names(call, shown)
    return json_response([wire.with_stats(wire.achievement(a, names), a, users) for a in shown])


async def metric_names(call: Call, achievements: Iterable[Achievement]) -> dict[int, str]:
    """Names for the metrics these achievements count, read only when one does."""
    if not any(isinstance(a.trigger, MetricTrigger) for a in achievements):
        return {}
    return {m.id: m.name for m in await call.loaders.tenant_metrics.load(call.tenant_id)}
