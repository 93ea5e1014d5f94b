"""The executor the schema runs operations with: by their plans, or by graphql-core.

A plan is kept per operation of a parsed document (the policy keeps one parsed document per
text, so a text sent again finds its plan) and per value of the variables the operation's
`@include`/`@skip` read, at most `PLANS_KEPT` of them. What a plan cannot run, graphql-core's
executor runs as before: operations with middleware, hooks or an abort signal, and documents a
plan refuses, and subscriptions (each message is a few fields).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import (
    DirectiveNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.info import Info

from app.api.plans import ObjectPlan, Planner, Unplannable
from app.api.policy import Lru

PLANS_KEPT = 1024
_CONDITIONS = frozenset({"include", "skip"})
log = logging.getLogger("laurel.plans")
Plans = Lru[tuple[int, tuple[Any, ...]], tuple[OperationDefinitionNode, "ObjectPlan | None"]]


def planned_executor(info_class: type[Info]) -> type[PlannedExecutor]:
    """An executor class of a schema's own: its plans, and the Info class its resolvers get."""
    return type(
        "SchemaPlannedExecutor",
        (PlannedExecutor,),
        {"info_class": info_class, "plans": Plans(PLANS_KEPT)},
    )


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, which runs a query or a mutation by its plan when it has one."""

    info_class: type[Info] = Info
    plans: Plans

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self._plan() if serially is None else None
        if plan is None:
            return super().execute_operation(serially)
        run = plan.run_serially if self.operation.operation is OperationType.MUTATION else plan.run
        try:
            data = run(self, self.root_value, None)
        except GraphQLError as error:
            return self._nulled(error)
        if not self.is_awaitable(data):
            return self.build_response(data)
        return self._awaited(data)

    async def _awaited(self, data: Any) -> Any:
        try:
            value = await data
        except GraphQLError as error:
            return self._nulled(error)
        return self.build_response(value)

    def _nulled(self, error: GraphQLError) -> Any:
        """A root field's error that reached the response: `data` is null, as graphql-core
        answers it."""
        self.collected_errors.add(error, None)
        return self.build_response(None)

    def _plan(self) -> ObjectPlan | None:
        operation = self.operation
        middleware = self.middleware_manager
        if (
            operation.operation not in (OperationType.QUERY, OperationType.MUTATION)
            or (middleware is not None and middleware.middlewares)
            or self.abort_signal is not None
            or self.hooks is not None
        ):
            return None
        key = (id(operation), self._conditions())
        kept = self.plans.get(key)
        if kept is not None and kept[0] is operation:
            return kept[1]
        plan: ObjectPlan | None
        try:
            plan = Planner(self, self.info_class).root()
        except (Unplannable, RecursionError):
            plan = None
        except Exception:  # a plan is an optimisation: never the reason a query fails
            log.exception("no plan for an operation: graphql-core's executor runs it")
            plan = None
        self.plans.put(key, (operation, plan))
        return plan

    def _conditions(self) -> tuple[Any, ...]:
        """The values of the variables the operation's `@include` and `@skip` read: its plan
        is collected with them."""
        names = _condition_variables(self.operation, self.fragment_definitions)
        coerced = self.variable_values.coerced
        return tuple(coerced.get(name) for name in names)


_VARIABLES: Lru[int, tuple[OperationDefinitionNode, tuple[str, ...]]] = Lru(PLANS_KEPT)


def _condition_variables(
    operation: OperationDefinitionNode, fragments: dict[str, Any]
) -> tuple[str, ...]:
    kept = _VARIABLES.get(id(operation))
    if kept is not None and kept[0] is operation:
        return kept[1]
    names = tuple(sorted(set(_variables_in_conditions(operation, fragments))))
    _VARIABLES.put(id(operation), (operation, names))
    return names


def _variables_in_conditions(node: Any, fragments: dict[str, Any]) -> Iterator[str]:
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        for directive in getattr(current, "directives", None) or ():
            if isinstance(directive, DirectiveNode) and directive.name.value in _CONDITIONS:
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        yield argument.value.name.value
        name = getattr(getattr(current, "name", None), "value", None)
        if current.kind == "fragment_spread" and name in fragments and name not in seen:
            seen.add(name)
            stack.append(fragments[name])
        selection_set = getattr(current, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
