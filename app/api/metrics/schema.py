from __future__ import annotations

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.metrics.types import CreateMetricInput, Metric
from app.domain import configuration


@strawberry.type
class MetricQueries:
    @strawberry.field
    async def metrics(self, info: Info) -> list[Metric]:
        caller = permissions.any_caller(info)
        return [Metric.of(m) for m in await info.context.services.config.metrics(caller.tenant_id)]


@strawberry.type
class MetricMutations:
    @strawberry.mutation
    async def create_metric(self, info: Info, input: CreateMetricInput) -> Metric:
        caller = permissions.admin(info)
        metric = await configuration.create_metric(
            info.context.services.config,
            caller.tenant_id,
            key=input.key,
            name=input.name,
            unit=input.unit,
        )
        return Metric.of(metric)
