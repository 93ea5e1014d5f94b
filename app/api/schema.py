"""The schema: every domain's queries and mutations merged, built with its limits by a factory."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from app.api.achievements.schema import AchievementMutations, AchievementQueries
from app.api.badges.schema import BadgeMutations
from app.api.events.schema import EventMutations
from app.api.keys.schema import KeyMutations
from app.api.leaderboards.schema import LeaderboardMutations, LeaderboardQueries
from app.api.leaderboards.subscription import LeaderboardSubscriptions
from app.api.limits import Limits
from app.api.metrics.schema import MetricMutations, MetricQueries
from app.api.plan_executor import planned_executor
from app.api.points.schema import PointsMutations, PointsQueries
from app.api.policy import DocumentPolicy, RequestPolicy
from app.api.streaks.schema import StreakMutations, StreakQueries
from app.api.subscriptions import AchievementSubscriptions
from app.api.users.schema import UserMutations, UserQueries
from app.api.webhooks.schema import WebhookMutations, WebhookQueries

Query = merge_types(
    "Query",
    (
        AchievementQueries,
        MetricQueries,
        UserQueries,
        StreakQueries,
        PointsQueries,
        LeaderboardQueries,
        WebhookQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        EventMutations,
        UserMutations,
        MetricMutations,
        AchievementMutations,
        StreakMutations,
        PointsMutations,
        LeaderboardMutations,
        KeyMutations,
        WebhookMutations,
        BadgeMutations,
    ),
)

Subscription = merge_types("Subscription", (AchievementSubscriptions, LeaderboardSubscriptions))


class LaurelSchema(strawberry.Schema):
    """Strawberry's schema, holding what its policy knows of each document text, which the
    express lane (express.py) reads."""

    def __init__(self, documents: DocumentPolicy, **options: Any) -> None:
        super().__init__(**options)
        self.documents = documents


def build_schema(limits: Limits, *, query_plans: bool = True) -> LaurelSchema:
    """With `query_plans`, queries and mutations run by their plans (plans.py), subscriptions by
    graphql-core."""
    documents = DocumentPolicy(limits)
    config = StrawberryConfig(disable_field_suggestions=True)
    return LaurelSchema(
        documents,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=config,
        extensions=[lambda: RequestPolicy(documents)],
        execution_context_class=planned_executor(config.info_class) if query_plans else None,
    )


def schema_sdl() -> str:
    return build_schema(Limits()).as_str() + "\n"
