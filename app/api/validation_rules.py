"""Validation rules a caller's request adds: introspection for ADMIN keys only (or for anyone
in development), subscriptions over WebSocket only.

They are module-level classes, so Strawberry's validation cache, keyed by the rule tuple, hits.
"""

from __future__ import annotations

from graphql import GraphQLError, OperationDefinitionNode, OperationType, ValidationRule
from graphql.validation.rules.custom.no_schema_introspection import (
    NoSchemaIntrospectionCustomRule,
)
from starlette.requests import Request

from app.domain.errors import ErrorCode
from app.domain.model import Caller


class NoIntrospectionRule(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, with a public code."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(
            GraphQLError(
                "introspection is available to ADMIN keys only",
                nodes=error.nodes,
                extensions={"code": ErrorCode.FORBIDDEN.value},
            )
        )


def gate_rules(request_context: object) -> tuple[type[ValidationRule], ...]:
    """Validation rules this caller's request (its resolvers' context) adds: introspection for
    ADMIN keys only (or for anyone when Services.introspection_for_all, in development),
    subscriptions over WebSocket only."""
    services = getattr(request_context, "services", None)
    caller = getattr(request_context, "caller_or_error", None)
    introspection = getattr(services, "introspection_for_all", False) or (
        isinstance(caller, Caller) and caller.is_admin
    )
    over_http = isinstance(getattr(request_context, "request", None), Request)
    rules: tuple[type[ValidationRule], ...] = () if introspection else (NoIntrospectionRule,)
    return (*rules, NoSubscriptionRule) if over_http else rules


class NoSubscriptionRule(ValidationRule):
    """Subscriptions stream over WebSocket; over plain HTTP they could only fail."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        if node.operation is OperationType.SUBSCRIPTION:
            self.report_error(
                GraphQLError(
                    "subscriptions are served over WebSocket (graphql-transport-ws)",
                    nodes=node,
                    extensions={"code": ErrorCode.BAD_REQUEST.value},
                )
            )
