from __future__ import annotations

import strawberry

from app.domain import model


@strawberry.type
class Metric:
    id: strawberry.ID
    key: str
    name: str
    unit: str | None

    @classmethod
    def of(cls, metric: model.Metric) -> Metric:
        return cls(
            id=strawberry.ID(str(metric.id)), key=metric.key, name=metric.name, unit=metric.unit
        )


@strawberry.input
class CreateMetricInput:
    key: str
    name: str
    unit: str | None = None
