"""The facade's OpenAPI 3.1 document, served at `/trophy/v1/openapi.json`.

Written out rather than derived: the facade's contract is Trophy's wire format, which no Python
type here spells, and the fuzz tests hold the server to this document.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from app.api.trophy.inputs import DEFAULT_HISTORY_PERIODS, MAX_HISTORY_PERIODS
from app.domain.validation import (
    KEY_PATTERN,
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    MAX_EMAIL,
    MAX_IDEMPOTENCY_KEY,
    MAX_MAGNITUDE,
    MAX_USER_ID,
    MAX_USER_NAME,
)

Json = dict[str, Any]


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> Json:
    return {"type": [kind, "null"], **extra}


def _or_null(schema: Json) -> Json:
    """Optional fields may also be sent as null, which means not given."""
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: list[str], **properties: Json) -> Json:
    return {"type": "object", "required": required, "properties": properties}


def _array(items: Json) -> Json:
    return {"type": "array", "items": items}


def _extends(base: str, required: list[str], **properties: Json) -> Json:
    return {"allOf": [_ref(base), _object(required, **properties)]}


STRING = {"type": "string"}
KEY = {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$"}
USER_ID = {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID}
VALUE = {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE}
ATTRIBUTE_QUERY = {"type": "string", "pattern": r"^[^,:]+:[^,]*(,[^,:]+:[^,]*)*$"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE = _nullable("string", format="date")
STRING_MAP = {"type": "object", "additionalProperties": STRING}
ATTRIBUTES = {
    "type": "object",
    "maxProperties": MAX_ATTRIBUTES,
    "propertyNames": {"minLength": 1, "maxLength": MAX_ATTRIBUTE_KEY},
    "additionalProperties": {"type": "string", "maxLength": MAX_ATTRIBUTE_VALUE},
}
TIME_ZONE = {
    "type": "string",
    "enum": sorted(zoneinfo.available_timezones()),
    "description": "An IANA time zone, e.g. Europe/London.",
}
EMPTY_MAP = {"type": "object", "maxProperties": 0}

SCHEMAS: Json = {
    "ErrorBody": _object(["error"], error=STRING),
    "Attribute": _object(["key", "value"], key=STRING, value=STRING),
    "Progress": _object(
        ["current", "target", "percent"], current=NUMBER, target=NUMBER, percent=NUMBER
    ),
    "Achievement": _object(
        ["id", "key", "name", "trigger", "description", "badgeUrl", "userAttributes"],
        id=STRING,
        key=STRING,
        name=STRING,
        trigger={"type": "string", "enum": ["metric", "streak", "api", "achievement"]},
        description=_nullable("string"),
        badgeUrl=_nullable("string"),
        userAttributes=_array(_ref("Attribute")),
        metricId=STRING,
        metricValue=NUMBER,
        metricName=_nullable("string"),
        eventAttributes=_array(_ref("Attribute")),
        eventAttribute=_ref("Attribute"),
        streakLength=INTEGER,
        achievementIds=_array(STRING),
    ),
    "UserAchievement": _extends(
        "Achievement",
        ["achievedAt", "progress"],
        achievedAt=_nullable("string", format="date-time"),
        progress=_ref("Progress"),
    ),
    "AchievementWithStats": _extends(
        "Achievement", ["completions", "rarity"], completions=INTEGER, rarity=NUMBER
    ),
    "UserAchievementWithStats": _extends(
        "UserAchievement", ["completions", "rarity"], completions=INTEGER, rarity=NUMBER
    ),
    "User": _object(
        ["id", "attributes", "control", "created", "updated", "subscribeToEmails"],
        id=STRING,
        email=_nullable("string"),
        name=_nullable("string"),
        tz=STRING,
        signUpDate=DATE,
        deviceTokens=_array(STRING),
        subscribeToEmails=BOOLEAN,
        attributes=STRING_MAP,
        control=BOOLEAN,
        created={"type": "string", "format": "date-time"},
        updated={"type": "string", "format": "date-time"},
    ),
    "Metric": _object(
        ["id", "key", "name", "current", "achievements"],
        id=STRING,
        key=STRING,
        name=STRING,
        current=NUMBER,
        achievements=_array(_ref("UserAchievement")),
    ),
    "BaseStreak": _object(
        ["length", "frequency", "started", "periodStart", "periodEnd", "expires"],
        length=INTEGER,
        frequency={"type": "string", "enum": ["daily", "weekly", "monthly"]},
        started=DATE,
        periodStart=DATE,
        periodEnd=DATE,
        expires=DATE,
    ),
    "EventStreak": _extends("BaseStreak", ["extended"], extended=BOOLEAN),
    "Streak": _extends(
        "BaseStreak",
        ["extended", "streakHistory", "pauses"],
        extended={"type": "null"},
        streakHistory=_array(
            _object(
                ["periodStart", "periodEnd", "length", "usedPause"],
                periodStart={"type": "string", "format": "date"},
                periodEnd={"type": "string", "format": "date"},
                length=INTEGER,
                usedPause=BOOLEAN,
            )
        ),
        pauses={"type": "array", "maxItems": 0},
    ),
    "EventResponse": _object(
        ["eventId", "metricId", "total", "achievements", "currentStreak", "points", "leaderboards"],
        eventId=STRING,
        metricId=STRING,
        total=NUMBER,
        achievements=_array(_ref("UserAchievement")),
        currentStreak=_ref("EventStreak"),
        points=EMPTY_MAP,
        leaderboards=EMPTY_MAP,
        idempotencyKey=STRING,
        idempotentReplayed=BOOLEAN,
    ),
    "CompletionResponse": _object(
        ["completionId", "achievement", "points"],
        completionId=STRING,
        achievement=_ref("UserAchievement"),
        points=EMPTY_MAP,
    ),
    "UpdatedUser": {
        "type": "object",
        "properties": {
            "email": _or_null({"type": "string", "maxLength": MAX_EMAIL}),
            "name": _or_null({"type": "string", "maxLength": MAX_USER_NAME}),
            "tz": _or_null(TIME_ZONE),
            "attributes": _or_null(ATTRIBUTES),
            "signUpDate": _or_null({**STRING, "description": "Accepted and ignored."}),
            "deviceTokens": _or_null({**_array(STRING), "description": "Accepted and ignored."}),
            "subscribeToEmails": _or_null({**BOOLEAN, "description": "Accepted and ignored."}),
        },
    },
    "UpsertedUser": {"allOf": [_object(["id"], id=USER_ID), _ref("UpdatedUser")]},
}

_ERRORS = {
    "400": "The request could not be read (not JSON, a field of the wrong type or missing).",
    "401": "No API key, or one that is not valid.",
    "403": "The credential may not do this (a user token writing, or reading another user).",
    "404": "No such user, metric, achievement or streak.",
    "409": "The Idempotency-Key was used with another input, or its first request still runs.",
    "413": "The request body is too large.",
    "422": "The values were refused (an invalid id, time zone or attribute, for example).",
    "429": "Rate limited; retry after the Retry-After header's seconds.",
}


def _operation(
    operation_id: str,
    summary: str,
    success: tuple[str, Json],
    *,
    parameters: list[Json] | None = None,
    body: str | None = None,
    also: tuple[str, Json] | None = None,
) -> Json:
    status, schema = success
    responses: Json = {status: {"description": "OK", "content": _json(schema)}}
    if also is not None:
        responses[also[0]] = {"description": "Idempotent replay", "content": _json(also[1])}
    responses.update(
        {
            code: {"description": text, "content": _json(_ref("ErrorBody"))}
            for code, text in _ERRORS.items()
        }
    )
    operation: Json = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": parameters or [],
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
    return operation


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _path(name: str, schema: Json = KEY) -> Json:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "required": False, "schema": schema}


USER = _path("id", USER_ID)

PATHS: Json = {
    "/metrics/{key}/event": {
        "post": {
            **_operation(
                "metrics_event",
                "Record a metric event for a user; 202 when the Idempotency-Key replays",
                ("201", _ref("EventResponse")),
                parameters=[
                    _path("key"),
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {**STRING, "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                    },
                ],
                body="EventRequest",
                also=("202", _ref("EventResponse")),
            )
        }
    },
    "/achievements/{key}/complete": {
        "post": _operation(
            "achievements_complete",
            "Complete an API-triggered achievement for a user",
            ("201", _ref("CompletionResponse")),
            parameters=[_path("key")],
            body="CompleteRequest",
        )
    },
    "/achievements": {
        "get": _operation(
            "achievements_all",
            "Active achievements with completions and rarity",
            ("200", _array(_ref("AchievementWithStats"))),
            parameters=[_query("userAttributes", ATTRIBUTE_QUERY)],
        )
    },
    "/users/{id}": {
        "get": _operation("users_get", "A user", ("200", _ref("User")), parameters=[USER]),
        "put": _operation(
            "users_identify",
            "Create or update a user",
            ("200", _ref("User")),
            parameters=[USER],
            body="UpdatedUser",
        ),
    },
    "/users/{id}/achievements": {
        "get": _operation(
            "users_achievements",
            "A user's completed achievements; with includeIncomplete=true, also the others",
            ("200", _array(_ref("UserAchievementWithStats"))),
            parameters=[USER, _query("includeIncomplete", STRING)],
        )
    },
    "/users/{id}/metrics": {
        "get": _operation(
            "users_all_metrics",
            "A user's total on every metric, with each metric's achievements",
            ("200", _array(_ref("Metric"))),
            parameters=[USER],
        )
    },
    "/users/{id}/metrics/{key}": {
        "get": _operation(
            "users_single_metric",
            "A user's total on one metric",
            ("200", _ref("Metric")),
            parameters=[USER, _path("key")],
        )
    },
    "/users/{id}/streak": {
        "get": _operation(
            "users_streak",
            "A user's streak and its history, oldest period first",
            ("200", _ref("Streak")),
            parameters=[
                USER,
                _query(
                    "historyPeriods",
                    {
                        "type": "integer",
                        "default": DEFAULT_HISTORY_PERIODS,
                        "minimum": 1,
                        "maximum": MAX_HISTORY_PERIODS,
                    },
                ),
            ],
        )
    },
}

SCHEMAS["EventRequest"] = _object(
    ["user", "value"], user=_ref("UpsertedUser"), value=VALUE, attributes=_or_null(ATTRIBUTES)
)
SCHEMAS["CompleteRequest"] = _object(["user"], user=_ref("UpsertedUser"))


def document(server_url: str) -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Laurel: Trophy-compatible REST API",
            "version": "1",
            "description": "Trophy's Application API served by Laurel, for Trophy's SDKs.",
        },
        "servers": [{"url": server_url}],
        "security": [{"ApiKey": []}],
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-KEY"}},
            "schemas": SCHEMAS,
        },
        "paths": PATHS,
    }
