"""Tortoise models: the schema of record. Migrations in ./migrations are generated from these.

Every row belongs to a tenant; the unique constraints below are what make awards exactly-once
and idempotency keys single-use, whatever the concurrency.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Tenant(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=255)
    token_secret = fields.CharField(max_length=128)
    user_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenant"


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="api_keys"
    )
    prefix = fields.CharField(max_length=32, unique=True)
    secret_hash = fields.CharField(max_length=128)
    name = fields.CharField(max_length=255)
    role = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class Metric(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="metrics"
    )
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=255)
    unit = fields.CharField(max_length=100, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "metric"
        unique_together = (("tenant", "key"),)


class Achievement(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="achievements"
    )
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=255)
    description = fields.TextField(null=True)
    badge_url = fields.TextField(null=True)
    hidden = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16, default="INACTIVE")
    trigger_kind = fields.CharField(max_length=16)
    metric: fields.ForeignKeyNullableRelation[Metric] = fields.ForeignKeyField(
        "models.Metric", related_name="achievements", null=True
    )
    threshold = fields.FloatField(null=True)
    attr_key = fields.CharField(max_length=100, default="")
    attr_value = fields.CharField(max_length=255, default="")
    streak_length = fields.IntField(null=True)
    user_attributes = fields.TextField(default="[]")
    completions = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "achievement"
        unique_together = (("tenant", "key"),)
        indexes = (
            Index(fields=("metric_id", "attr_key", "attr_value", "threshold"), name="ach_crossing"),
            Index(fields=("tenant_id", "streak_length"), name="ach_streak"),
        )


class Prerequisite(Model):
    id = fields.IntField(primary_key=True)
    composite: fields.ForeignKeyRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="prerequisite_links"
    )
    prerequisite: fields.ForeignKeyRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="dependent_links"
    )

    class Meta:
        table = "achievement_prerequisite"
        unique_together = (("composite", "prerequisite"),)
        indexes = (Index(fields=("prerequisite_id",), name="prereq_by_prerequisite"),)


class User(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="users"
    )
    external_id = fields.CharField(max_length=255)
    name = fields.CharField(max_length=255, null=True)
    email = fields.CharField(max_length=320, null=True)
    tz = fields.CharField(max_length=64, default="UTC")
    attributes = fields.TextField(default="[]")
    created_at = fields.DatetimeField()

    class Meta:
        table = "app_user"
        unique_together = (("tenant", "external_id"),)


# Per (user, metric) total; an empty attribute pair is the plain total, others filter by one.
class MetricTotal(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    metric: fields.ForeignKeyRelation[Metric] = fields.ForeignKeyField("models.Metric")
    attr_key = fields.CharField(max_length=100, default="")
    attr_value = fields.CharField(max_length=255, default="")
    total = fields.FloatField(default=0)
    prev_total = fields.FloatField(default=0, db_default=0)

    class Meta:
        table = "metric_total"
        unique_together = (("user", "metric", "attr_key", "attr_value"),)
        indexes = (
            Index(fields=("metric_id", "attr_key", "attr_value", "total"), name="total_by_value"),
        )


class Event(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    metric: fields.ForeignKeyRelation[Metric] = fields.ForeignKeyField("models.Metric")
    value = fields.FloatField()
    attributes = fields.TextField(default="[]")
    occurred_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "event"
        indexes = (Index(fields=("user_id", "metric_id"), name="event_by_user"),)


class Completion(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    achievement: fields.ForeignKeyRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", related_name="completion_rows"
    )
    completed_at = fields.DatetimeField()
    backdated = fields.BooleanField(default=False)

    class Meta:
        table = "completion"
        unique_together = (("user", "achievement"),)
        indexes = (Index(fields=("achievement_id",), name="completion_by_achievement"),)


# Domain events to hand on after commit, written in the transaction that caused them
# (transactional outbox). `claimed_until` is the lease of the relay that is passing a row on.
class OutboxEvent(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    type = fields.CharField(max_length=64)
    data = fields.TextField()
    created_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_event"
        indexes = (Index(fields=("published_at", "id"), name="outbox_event_pending"),)


class IdempotencyKey(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    key = fields.CharField(max_length=255)
    request_hash = fields.CharField(max_length=64)
    response = fields.TextField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_key"
        unique_together = (("tenant", "key"),)
        indexes = (Index(fields=("created_at",), name="idempotency_by_age"),)


class StreakConfig(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.OneToOneRelation[Tenant] = fields.OneToOneField(
        "models.Tenant", related_name="streak_config"
    )
    frequency = fields.CharField(max_length=16)
    metric_ids = fields.TextField(default="[]")
    # Grows with every configureStreak; states evaluated under another version are re-evaluated.
    version = fields.IntField(default=0)
    freeze_start = fields.IntField(null=True)
    freeze_max = fields.IntField(null=True)
    freeze_auto_interval = fields.IntField(null=True)
    freeze_auto_amount = fields.IntField(null=True)

    class Meta:
        table = "streak_config"


# A local calendar day on which the user had an event with a positive value on a metric; the
# streak's periods derive from the days of its metrics. Days from before metrics were recorded
# have no metric and count for any streak configuration.
class MetricDay(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    metric: fields.ForeignKeyNullableRelation[Metric] = fields.ForeignKeyField(
        "models.Metric", null=True
    )
    day = fields.DateField()

    class Meta:
        table = "metric_day"
        unique_together = (("user", "day", "metric"),)


# A grantStreakFreezes call, kept so that a re-evaluation counts it at its day.
class FreezeGrant(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    day = fields.DateField()
    count = fields.IntField()

    class Meta:
        table = "streak_freeze_grant"
        indexes = (Index(fields=("user_id", "day"), name="freeze_grant_by_user"),)


# The user's streak ledger (see app/domain/streak_ledger.py), so that an in-order event updates
# it in O(1); `due_at` is when the streak clock next has a period to judge or a grant to make.
class StreakState(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="streak_state"
    )
    version = fields.IntField(default=-1)
    settled = fields.DateField(null=True)
    earned_through = fields.DateField(null=True)
    balance = fields.IntField(default=0)
    chain_start = fields.DateField(null=True)
    chain_last = fields.DateField(null=True)
    chain_active = fields.IntField(default=0)
    longest = fields.IntField(default=0)
    due_at = fields.DatetimeField(null=True)

    class Meta:
        table = "streak_state"
        indexes = (
            Index(fields=("tenant_id", "longest"), name="streak_by_longest"),
            Index(fields=("due_at",), name="streak_by_due"),
        )


# Pending backdating of one achievement, resumable from `cursor` (the last user pk done).
class BackdateJob(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    achievement: fields.ForeignKeyRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement"
    )
    cursor = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "backdate_job"
        indexes = (Index(fields=("finished_at", "id"), name="backdate_pending"),)


# A URL that receives signed deliveries; its secrets are sealed (AES-GCM), never stored plain.
class WebhookEndpoint(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    url = fields.TextField()
    description = fields.CharField(max_length=255, null=True)
    event_types = fields.TextField()
    payload_format = fields.CharField(max_length=16)
    status = fields.CharField(max_length=16)
    disabled_reason = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField()
    # Since when it receives: events committed earlier (or while it was disabled) are not sent.
    enabled_at = fields.DatetimeField()
    secret = fields.BinaryField()
    secret_created_at = fields.DatetimeField()
    previous_secret = fields.BinaryField(null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    # The first failed attempt since the last success: FAILING is counted from here.
    failing_since = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"
        indexes = (Index(fields=("tenant_id", "status"), name="webhook_endpoint_by_tenant"),)


# One event for one endpoint; `event_id` (the outbox row) makes queueing exactly once.
class WebhookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", on_delete=fields.CASCADE
    )
    event_id = fields.BigIntField(null=True)
    webhook_id = fields.CharField(max_length=40)
    event_type = fields.CharField(max_length=64)
    payload = fields.TextField()
    status = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    attempts_made = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    leased_until = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint", "event_id"),)
        indexes = (
            Index(fields=("status", "next_attempt_at"), name="webhook_delivery_due"),
            Index(
                fields=("endpoint_id", "status", "next_attempt_at"),
                name="webhook_delivery_due_per_endpoint",
            ),
            Index(fields=("leased_until",), name="webhook_delivery_leased"),
            Index(fields=("endpoint_id", "id"), name="webhook_delivery_log"),
            Index(fields=("created_at",), name="webhook_delivery_age"),
        )


class WebhookAttempt(Model):
    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", on_delete=fields.CASCADE
    )
    attempted_at = fields.DatetimeField()
    trigger = fields.CharField(max_length=16)
    response_status = fields.IntField(null=True)
    response_body = fields.TextField(null=True)
    error = fields.TextField(null=True)
    duration_ms = fields.IntField()

    class Meta:
        table = "webhook_attempt"
        indexes = (Index(fields=("delivery_id", "id"), name="webhook_attempt_of"),)


# An image Laurel hosts, kept in the database so that every instance serves it.
class BadgeImage(Model):
    id = fields.CharField(max_length=32, primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    sha256 = fields.CharField(max_length=64)
    content_type = fields.CharField(max_length=32)
    extension = fields.CharField(max_length=8)
    size = fields.IntField()
    width = fields.IntField()
    height = fields.IntField()
    data = fields.BinaryField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "badge_image"
        unique_together = (("tenant", "sha256"),)


class PointsSystem(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=255)
    description = fields.TextField(null=True)
    badge_url = fields.CharField(max_length=2048, null=True)
    max_points = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "points_system"
        unique_together = (("tenant", "key"),)


# One column group per trigger type; `ever_active` freezes the type and its settings.
class PointsTrigger(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    system: fields.ForeignKeyRelation[PointsSystem] = fields.ForeignKeyField(
        "models.PointsSystem", related_name="triggers"
    )
    key = fields.CharField(max_length=100)
    type = fields.CharField(max_length=16)
    points = fields.IntField()
    status = fields.CharField(max_length=16, default="INACTIVE")
    ever_active = fields.BooleanField(default=False)
    user_attributes = fields.TextField(default="[]")
    metric: fields.ForeignKeyNullableRelation[Metric] = fields.ForeignKeyField(
        "models.Metric", null=True
    )
    metric_threshold = fields.FloatField(null=True)
    event_attr_key = fields.CharField(max_length=100, null=True)
    event_attr_value = fields.CharField(max_length=255, null=True)
    block_if_out_of_points = fields.BooleanField(default=False)
    achievement: fields.ForeignKeyNullableRelation[Achievement] = fields.ForeignKeyField(
        "models.Achievement", null=True
    )
    streak_length = fields.IntField(null=True)
    every_multiple = fields.BooleanField(default=True)
    time_unit = fields.CharField(max_length=8, null=True)
    time_interval = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "points_trigger"
        unique_together = (("system", "key"),)


class PointsLevel(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    system: fields.ForeignKeyRelation[PointsSystem] = fields.ForeignKeyField(
        "models.PointsSystem", related_name="levels"
    )
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=255)
    description = fields.TextField(null=True)
    badge_url = fields.CharField(max_length=2048, null=True)
    points = fields.IntField()

    class Meta:
        table = "points_level"
        unique_together = (("system", "key"), ("system", "points"))


# `multiplier` is kept as its decimal text: boosts multiply exactly.
class PointsBoost(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    system: fields.ForeignKeyRelation[PointsSystem] = fields.ForeignKeyField(
        "models.PointsSystem", related_name="boosts"
    )
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=255)
    multiplier = fields.CharField(max_length=16)
    start = fields.DateField()
    end = fields.DateField(null=True)
    rounding = fields.CharField(max_length=8)
    scope = fields.CharField(max_length=16)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", null=True)
    user_attributes = fields.TextField(default="[]")
    archived = fields.BooleanField(default=False)
    # Whether points.boost_started / points.boost_finished went out (the boost clock's marks).
    started_sent = fields.BooleanField(default=False)
    finished_sent = fields.BooleanField(default=False)
    # When the boost clock next has a transition to judge; NULL: none left.
    due_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "points_boost"
        unique_together = (("system", "key"),)
        indexes = (Index(fields=("due_at",), name="points_boost_due"),)


# A user's running total in one system, and what each of the system's triggers has spent for
# the user (JSON: trigger id -> [mark, since]): one row read and written per operation.
class UserPoints(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    system: fields.ForeignKeyRelation[PointsSystem] = fields.ForeignKeyField("models.PointsSystem")
    total = fields.IntField(default=0)
    marks = fields.TextField(default="{}")

    class Meta:
        table = "user_points"
        unique_together = (("user", "system"),)
        indexes = (Index(fields=("system_id", "total"), name="user_points_by_total"),)


# The ledger: awards are never edited or withdrawn.
class PointsAward(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    system: fields.ForeignKeyRelation[PointsSystem] = fields.ForeignKeyField("models.PointsSystem")
    trigger: fields.ForeignKeyRelation[PointsTrigger] = fields.ForeignKeyField(
        "models.PointsTrigger"
    )
    awarded = fields.IntField()
    total = fields.IntField()
    awarded_at = fields.DatetimeField()
    multiplier = fields.CharField(max_length=32)
    boost_ids = fields.TextField(default="[]")
    silent = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "points_award"
        indexes = (Index(fields=("user_id", "system_id", "id"), name="points_award_by_user"),)


# `status` is what an administrator asked for (INACTIVE, LIVE, FINISHED, ARCHIVED); whether a
# live board is scheduled, active or finished by itself is read off the clock.
class Leaderboard(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField("models.Tenant")
    key = fields.CharField(max_length=100)
    name = fields.CharField(max_length=255)
    description = fields.TextField(null=True)
    status = fields.CharField(max_length=16, default="INACTIVE")
    ever_live = fields.BooleanField(default=False)
    finished_at = fields.DatetimeField(null=True)
    rank_by = fields.CharField(max_length=16)
    metric: fields.ForeignKeyNullableRelation[Metric] = fields.ForeignKeyField(
        "models.Metric", null=True
    )
    system: fields.ForeignKeyNullableRelation[PointsSystem] = fields.ForeignKeyField(
        "models.PointsSystem", null=True
    )
    start = fields.DateField()
    end = fields.DateField(null=True)
    run_unit = fields.CharField(max_length=8, null=True)
    run_interval = fields.IntField(null=True)
    time_zone = fields.CharField(max_length=64, null=True)
    max_participants = fields.IntField(null=True)
    breakdown_attribute = fields.CharField(max_length=100, null=True)
    user_attributes = fields.TextField(default="[]")
    tie_policy = fields.CharField(max_length=16, default="SHARED")
    created_at = fields.DatetimeField()
    live_since = fields.DatetimeField(null=True)
    # The run clock: the newest runs announced as started and as finished (NULL: not looked
    # at since the board went live), when it next has work, and a turn that every change of
    # these bumps, so a clock round that read an older turn writes nothing.
    clock_started = fields.IntField(null=True)
    clock_finished = fields.IntField(null=True)
    clock_due = fields.DatetimeField(null=True)
    clock_turn = fields.IntField(default=0, db_default=0)
    # The backfill's cursor: the last user pk rebuilt (NULL: nothing left to rebuild).
    backfill_after = fields.IntField(null=True)

    class Meta:
        table = "leaderboard"
        unique_together = (("tenant", "key"),)
        indexes = (Index(fields=("clock_due",), name="leaderboard_clock_due"),)


# One user's value in one run (named by its start date) of one board. `grp` is the breakdown
# group ("" on boards without one; NULL: the user lacks the attribute, so is not ranked);
# `external_id` is the user's id, copied for the order's last tiebreak.
class LeaderboardEntry(Model):
    id = fields.BigIntField(primary_key=True)
    board: fields.ForeignKeyRelation[Leaderboard] = fields.ForeignKeyField("models.Leaderboard")
    run_start = fields.DateField()
    grp = fields.CharField(max_length=255, null=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User")
    external_id = fields.CharField(max_length=255)
    value = fields.FloatField()
    # -value: the order (value DESC, reached_at, external_id) ascends in
    # (sort_value, reached_at, external_id), which both databases compare as one row value.
    sort_value = fields.FloatField()
    reached_at = fields.DatetimeField()
    previous_value = fields.FloatField(null=True)
    previous_rank = fields.IntField(null=True)

    class Meta:
        table = "leaderboard_entry"
        unique_together = (("board", "run_start", "user"),)
        indexes = (
            Index(
                fields=("board_id", "run_start", "grp", "sort_value", "reached_at", "external_id"),
                name="leaderboard_entry_order",
            ),
            Index(fields=("user_id",), name="leaderboard_entry_by_user"),
        )


# One group of one run: how many rows it ranks, and the row whose lock serialises changes to
# its blocks (leaderboard_blocks.py).
class LeaderboardGroup(Model):
    id = fields.BigIntField(primary_key=True)
    board: fields.ForeignKeyRelation[Leaderboard] = fields.ForeignKeyField("models.Leaderboard")
    run_start = fields.DateField()
    grp = fields.CharField(max_length=255)
    rows = fields.IntField(default=0)

    class Meta:
        table = "leaderboard_group"
        unique_together = (("board", "run_start", "grp"),)


# What webhooks last saw of a group's first rows (`sent`, as announced) and when it may be
# announced again (`quiet_until`); `due_at` is set while a move near the top waits to be
# looked at, and every mark bumps `version`, so a look that read an older mark writes nothing.
class LeaderboardWatch(Model):
    id = fields.BigIntField(primary_key=True)
    board: fields.ForeignKeyRelation[Leaderboard] = fields.ForeignKeyField("models.Leaderboard")
    run_start = fields.DateField()
    grp = fields.CharField(max_length=255)
    due_at = fields.DatetimeField(null=True)
    quiet_until = fields.DatetimeField(null=True)
    version = fields.IntField(default=0)
    sent = fields.TextField(null=True)

    class Meta:
        table = "leaderboard_watch"
        unique_together = (("board", "run_start", "grp"),)
        indexes = (Index(fields=("due_at",), name="leaderboard_watch_due"),)


# A run of consecutive rows of a group in its order, from the key (sort_value, reached_at,
# external_id) to the next one's of its kind, and how many rows it holds (leaderboard_blocks).
class _GroupSpan(Model):
    id = fields.BigIntField(primary_key=True)
    group: fields.ForeignKeyRelation[LeaderboardGroup] = fields.ForeignKeyField(
        "models.LeaderboardGroup"
    )
    sort_value = fields.FloatField()
    reached_at = fields.DatetimeField()
    external_id = fields.CharField(max_length=255)
    rows = fields.IntField(default=0)

    class Meta:
        abstract = True


# Consecutive rows of a group; the group's first block has the lowest key.
class LeaderboardBlock(_GroupSpan):
    class Meta:
        table = "leaderboard_block"
        unique_together = (("group", "sort_value", "reached_at", "external_id"),)


# Consecutive blocks of a group: a rank sums the shelves before its own and its shelf's blocks
# before its own, never every block. Each shelf starts where a block does.
class LeaderboardShelf(_GroupSpan):
    class Meta:
        table = "leaderboard_shelf"
        unique_together = (("group", "sort_value", "reached_at", "external_id"),)


# How many rows of a group hold each value: DENSE ranks count the distinct values above a row.
class LeaderboardValue(Model):
    id = fields.BigIntField(primary_key=True)
    group: fields.ForeignKeyRelation[LeaderboardGroup] = fields.ForeignKeyField(
        "models.LeaderboardGroup"
    )
    sort_value = fields.FloatField()
    rows = fields.IntField(default=0)

    class Meta:
        table = "leaderboard_value"
        unique_together = (("group", "sort_value"),)


# A run date on which the user's own value changed: after the day's last change, before its first.
class LeaderboardDay(Model):
    id = fields.BigIntField(primary_key=True)
    entry: fields.ForeignKeyRelation[LeaderboardEntry] = fields.ForeignKeyField(
        "models.LeaderboardEntry"
    )
    day = fields.DateField()
    value = fields.FloatField()
    rank = fields.IntField(null=True)
    previous_value = fields.FloatField(null=True)
    previous_rank = fields.IntField(null=True)

    class Meta:
        table = "leaderboard_day"
        unique_together = (("entry", "day"),)
