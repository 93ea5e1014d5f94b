"""Query plans: a document's fields collected and their readers chosen once, not on every value.

graphql-core executes a query field by field and value by value: for each field of each object
it builds a path and a resolve info, Strawberry's wrapper converts arguments and builds an Info,
and the value is completed through a chain of type checks. With 200 achievements a profile is
~2,200 fields, and that work was most of its time. A plan does the collecting once per document
(per value of the variables its `@include`/`@skip` read), and reads each field the cheapest way
that gives the same value:

- a Strawberry field without resolver or extensions: the attribute, as Strawberry's default
  resolver reads it;
- a Strawberry resolver without arguments or extensions: called directly, with an Info built
  only when it asks for one;
- anything else (arguments, extensions, introspection, `__typename` aside): graphql-core's own
  call, with the resolve info and arguments it would build.

Completing a value follows graphql-core's executor step by step (exceptions returned as values,
non-null checks and their messages, leaf coercion, abstract types, `is_type_of`, errors located
at their paths and propagated to the nearest nullable field, recorded in the executor's own
error list), and values still to be awaited are awaited together by `lockstep`; a mutation's
root fields run one after the other, as graphql-core runs them. The executor (plan_executor.py)
keeps the plans; tests/api/test_plans_differential.py runs generated documents both ways and
compares the JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from math import isfinite
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    FieldNode,
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    located_error,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.execution.executor import Executor, invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_iterable
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from app.api.lockstep import discard, lockstep

# A completer turns a resolved value into its response value, or an awaitable of it; it raises
# what graphql-core would raise. It is given the executor running the plan and the value's path.
Running = Executor[Any]
Completer = Callable[[Running, Any, Any], Any]
DEFINITION = "strawberry-definition"  # where Strawberry links a GraphQL field to its own
# Values a resolver returns that are never awaitable: most leaves, checked by their type first.
PLAIN = frozenset({str, int, float, bool, type(None)})
# The values graphql-core's built-in scalars give back unchanged, told by their type: a leaf of
# every row of a list skips coerce_output_value's chain of isinstance checks.
UNCHANGED: dict[GraphQLLeafType, Callable[[Any], bool]] = {
    GraphQLString: lambda v: type(v) is str,
    GraphQLID: lambda v: type(v) is str,
    GraphQLBoolean: lambda v: type(v) is bool,
    GraphQLInt: lambda v: type(v) is int and GRAPHQL_MIN_INT <= v <= GRAPHQL_MAX_INT,
    GraphQLFloat: lambda v: type(v) is float and isfinite(v),
}


class Planner:
    """Builds one operation's plan from the executor of its first run."""

    def __init__(self, executor: Running, info_class: type[Info]) -> None:
        self.executor = executor
        self.info_class = info_class

    def root(self) -> ObjectPlan:
        executor = self.executor
        root_type = executor.schema.get_root_type(executor.operation.operation)
        assert root_type is not None, "the operation was validated against the schema"
        collected = collect_fields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            root_type,
            executor.operation,
            executor.hide_suggestions,
        )
        return self._object_plan(root_type, collected.grouped_field_set)

    def subfields(self, object_type: GraphQLObjectType, details: list[FieldDetails]) -> ObjectPlan:
        executor = self.executor
        collected = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            object_type,
            details,
            executor.hide_suggestions,
        )
        return self._object_plan(object_type, collected.grouped_field_set)

    def _object_plan(
        self, object_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]
    ) -> ObjectPlan:
        fields = []
        for key, details in grouped.items():
            if any(d.fragment_variable_values is not None for d in details):
                raise Unplannable("fragment arguments")
            field_def = self.executor.schema.get_field(object_type, details[0].node.name.value)
            if field_def is not None:
                fields.append(FieldPlan(self, object_type, key, field_def, details))
        return ObjectPlan(object_type, fields)

    def completer(self, return_type: GraphQLOutputType, field: FieldPlan) -> Completer:
        if is_non_null_type(return_type):
            assert isinstance(return_type, GraphQLNonNull)
            return _non_null(self.completer(return_type.of_type, field), field)
        if is_list_type(return_type):
            assert isinstance(return_type, GraphQLList)
            return _list(self.completer(return_type.of_type, field), return_type.of_type, field)
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_abstract_type(return_type):
            return _abstract(self, return_type, field)
        assert isinstance(return_type, GraphQLObjectType)
        return _object(self, return_type, field)


class Unplannable(Exception):
    """The document uses something plans do not: graphql-core's executor runs it instead."""


class ObjectPlan:
    __slots__ = ("fields", "object_type")

    def __init__(self, object_type: GraphQLObjectType, fields: list[FieldPlan]) -> None:
        self.object_type = object_type
        self.fields = fields

    def run(self, executor: Running, source: Any, path: Path | None) -> Any:
        """graphql-core's `execute_fields`: the fields in order, awaited together if need be."""
        results: dict[str, Any] = {}
        awaited: list[str] = []
        is_awaitable = executor.is_awaitable
        try:
            for field in self.fields:
                value = results[field.key] = field.execute(executor, source, path)
                if is_awaitable(value):
                    awaited.append(field.key)
        except Exception:
            _close(results[key] for key in awaited)
            raise
        if not awaited:
            return results
        return _fill(results, awaited)

    def run_serially(self, executor: Running, source: Any, path: Path | None) -> Any:
        """graphql-core's `execute_fields_serially`, for a mutation's root fields: each one
        completed, payload included, before the next one starts."""
        results: dict[str, Any] = {}
        for index, field in enumerate(self.fields):
            value = field.execute(executor, source, path)
            if executor.is_awaitable(value):
                return self._rest_serially(executor, source, path, results, index, value)
            results[field.key] = value
        return results

    async def _rest_serially(
        self,
        executor: Running,
        source: Any,
        path: Path | None,
        results: dict[str, Any],
        index: int,
        value: Any,
    ) -> dict[str, Any]:
        results[self.fields[index].key] = await value
        for field in self.fields[index + 1 :]:
            value = field.execute(executor, source, path)
            results[field.key] = await value if executor.is_awaitable(value) else value
        return results


async def _fill(results: Any, keys: list[Any]) -> Any:
    """An object's fields (keys) or a list's items (indices) that were still to be awaited,
    replaced by their values; one alone is awaited as it is, as graphql-core does."""
    if len(keys) == 1:
        results[keys[0]] = await results[keys[0]]
        return results
    for key, value in zip(keys, await lockstep([results[k] for k in keys]), strict=True):
        results[key] = value
    return results


class FieldPlan:
    """One response key of an object: how its value is read, and completed."""

    __slots__ = (
        "complete",
        "details",
        "field_def",
        "key",
        "leaf",
        "nodes",
        "parent_type",
        "read",
        "strawberry",
    )

    def __init__(
        self,
        planner: Planner,
        parent_type: GraphQLObjectType,
        key: str,
        field_def: GraphQLField,
        details: list[FieldDetails],
    ) -> None:
        self.key = key
        self.parent_type = parent_type
        self.field_def = field_def
        self.details = details
        self.nodes: list[FieldNode] = [d.node for d in details]
        self.strawberry: StrawberryField | None = (field_def.extensions or {}).get(DEFINITION)
        self.read = self._reader(planner)
        self.complete = planner.completer(field_def.type, self)
        # A scalar or enum's completion needs no path, only its error does: none is built.
        self.leaf = is_leaf_type(getattr(field_def.type, "of_type", field_def.type))

    def _reader(self, planner: Planner) -> Callable[[Running, Any, Path | None], Any]:
        name = self.nodes[0].name.value
        field = self.strawberry
        if name == "__typename":
            typename = self.parent_type.name
            return lambda executor, source, parent: typename
        if field is None or field.extensions:
            return self._graphql_core_call
        if field.is_basic_field:
            default_resolver, python_name = field.default_resolver, field.python_name
            return lambda executor, source, parent: default_resolver(source, python_name)
        resolver = field.base_resolver
        if field.arguments or self.field_def.args or self.nodes[0].arguments or resolver is None:
            return self._graphql_core_call
        if resolver.parent_parameter or resolver.root_parameter:
            return self._graphql_core_call
        function = resolver.wrapped_func
        if not callable(function):
            return self._graphql_core_call
        takes_self = resolver.self_parameter is not None
        info_parameter = resolver.info_parameter
        if info_parameter is None:
            if takes_self:
                return lambda executor, source, parent: function(source)
            return lambda executor, source, parent: function()
        info_name, info_class = info_parameter.name, planner.info_class

        def call_with_info(executor: Running, source: Any, parent: Path | None) -> Any:
            info = info_class(_raw_info=self.info(executor, self.path(parent)), _field=field)
            if takes_self:
                return function(source, **{info_name: info})
            return function(**{info_name: info})

        return call_with_info

    def _graphql_core_call(self, executor: Running, source: Any, parent: Path | None) -> Any:
        field_def, first = self.field_def, self.details[0]
        info = self.info(executor, self.path(parent))
        args = (
            get_argument_values(
                field_def,
                first.node,
                executor.variable_values,
                first.fragment_variable_values,
                executor.hide_suggestions,
            )
            if field_def.args or first.node.arguments
            else {}
        )
        return (field_def.resolve or executor.field_resolver)(source, info, **args)

    def path(self, parent: Path | None) -> Path:
        return Path(parent, self.key, self.parent_type.name)

    def info(self, executor: Running, path: Path) -> Any:
        """The resolve info graphql-core gives this field: its path is the field's, also when
        a value inside its lists is being completed."""
        while isinstance(path.key, int):
            assert path.prev is not None
            path = path.prev
        return executor.build_resolve_info(self.field_def, self.nodes, self.parent_type, path)

    def execute(self, executor: Running, source: Any, parent: Path | None) -> Any:
        """graphql-core's `execute_field`."""
        if self.leaf:
            try:
                result = self.read(executor, source, parent)
                if type(result) in PLAIN or not executor.is_awaitable(result):
                    return self.complete(executor, result, None)
            except Exception as raw_error:
                self.fail(executor, raw_error, self.field_def.type, self.path(parent))
                return None
            return self._complete_awaited(executor, result, self.path(parent))
        path = self.path(parent)
        try:
            result = self.read(executor, source, parent)
            if executor.is_awaitable(result):
                return self._complete_awaited(executor, result, path)
            completed = self.complete(executor, result, path)
            if executor.is_awaitable(completed):
                return self.awaited(executor, completed, path, self.field_def.type)
        except Exception as raw_error:
            self.fail(executor, raw_error, self.field_def.type, path)
            return None
        return completed

    async def _complete_awaited(self, executor: Running, result: Any, path: Path) -> Any:
        try:
            completed = self.complete(executor, await result, path)
            if executor.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.fail(executor, raw_error, self.field_def.type, path)
            return None
        return completed

    async def complete_item(
        self,
        executor: Running,
        item: Completer,
        item_type: GraphQLOutputType,
        entry: Any,
        path: Path,
    ) -> Any:
        """graphql-core's `complete_awaitable_list_item_value`."""
        try:
            completed = item(executor, await entry, path)
            if executor.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.fail(executor, raw_error, item_type, path)
            return None
        return completed

    async def awaited(self, executor: Running, completed: Any, path: Path, return_type: Any) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.fail(executor, raw_error, return_type, path)
            return None

    def fail(self, executor: Running, raw_error: Exception, return_type: Any, path: Path) -> None:
        """graphql-core's `handle_field_error`."""
        error = located_error(raw_error, self.nodes, path.as_list())
        if executor.error_propagation and is_non_null_type(return_type):
            raise error
        executor.collected_errors.add(error, path)


def _given(value: Any) -> bool:
    """graphql-core's first steps in completing any value: an exception a resolver returned is
    raised, and None (or Undefined) completes as null."""
    if isinstance(value, Exception):
        raise value
    return value is not None and value is not Undefined


def _non_null(inner: Completer, field: FieldPlan) -> Completer:
    message = (
        "Cannot return null for non-nullable field "
        f"{field.parent_type}.{field.nodes[0].name.value}."
    )

    def complete(executor: Running, value: Any, path: Path) -> Any:
        completed = inner(executor, value, path)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete


def _leaf(leaf_type: GraphQLLeafType) -> Completer:
    coerce = leaf_type.coerce_output_value
    unchanged = UNCHANGED.get(leaf_type)

    def complete(executor: Running, value: Any, path: Path) -> Any:
        if unchanged is not None and unchanged(value):
            return value
        if not _given(value):
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            return Executor.complete_leaf_value(leaf_type, value)  # raises graphql-core's error
        return coerced

    return complete


def _list(item: Completer, item_type: GraphQLOutputType, field: FieldPlan) -> Completer:
    message = (
        "Expected Iterable, but did not find one for field "
        f"'{field.parent_type}.{field.nodes[0].name.value}'."
    )

    def complete(executor: Running, value: Any, path: Path) -> Any:
        if not _given(value):
            return None
        if executor.is_async_iterable(value):
            return _listed(executor, complete, value, path)
        if not is_iterable(value):
            raise GraphQLError(message)
        is_awaitable = executor.is_awaitable
        completed: list[Any] = []
        awaited: list[int] = []
        try:
            for index, entry in enumerate(value):
                item_path = Path(path, index, None)
                if is_awaitable(entry):
                    completed.append(
                        field.complete_item(executor, item, item_type, entry, item_path)
                    )
                    awaited.append(index)
                    continue
                try:
                    done = item(executor, entry, item_path)
                except Exception as raw_error:
                    field.fail(executor, raw_error, item_type, item_path)
                    done = None
                if is_awaitable(done):
                    done = field.awaited(executor, done, item_path, item_type)
                    awaited.append(index)
                completed.append(done)
        except Exception:
            _close(completed[index] for index in awaited)
            raise
        if not awaited:
            return completed
        return _fill(completed, awaited)

    return complete


async def _listed(executor: Running, complete: Completer, values: Any, path: Path) -> Any:
    """An async iterable's items, completed as a list once it has given them all."""
    completed = complete(executor, [value async for value in values], path)
    return await completed if executor.is_awaitable(completed) else completed


def _object(planner: Planner, object_type: GraphQLObjectType, field: FieldPlan) -> Completer:
    plan = planner.subfields(object_type, field.details)
    is_type_of = object_type.is_type_of
    by_class = _ClassVerdicts(is_type_of)

    def complete(executor: Running, value: Any, path: Path) -> Any:
        if not _given(value):
            return None
        if is_type_of is not None:
            verdict = by_class.get(value)
            if verdict is None:
                verdict = is_type_of(value, field.info(executor, path))
                if executor.is_awaitable(verdict):
                    return _check_then_run(executor, verdict, plan, value, path, field)
                by_class.put(value, verdict)
            if not verdict:
                raise invalid_return_type_error(object_type, value, field.details)
        return plan.run(executor, value, path)

    return complete


async def _check_then_run(
    executor: Running,
    verdict: Any,
    plan: ObjectPlan,
    value: Any,
    path: Path,
    field: FieldPlan,
) -> Any:
    if not await verdict:
        raise invalid_return_type_error(plan.object_type, value, field.details)
    result = plan.run(executor, value, path)
    return await result if executor.is_awaitable(result) else result


def _abstract(planner: Planner, abstract_type: GraphQLAbstractType, field: FieldPlan) -> Completer:
    """Each runtime type's plan is made when a value of it first comes: made for every type an
    interface or union may hold, nested ones would multiply with each level."""
    info_class = planner.info_class
    plans: dict[str, Completer] = {}
    resolve_type = abstract_type.resolve_type or planner.executor.type_resolver
    by_class = _ClassVerdicts(resolve_type)

    def runtime_plan(executor: Running, name: str) -> Completer:
        found = plans.get(name)
        if found is None:
            runtime = executor.schema.get_type(name)
            assert isinstance(runtime, GraphQLObjectType)
            found = plans[name] = _object(Planner(executor, info_class), runtime, field)
        return found

    def complete(executor: Running, value: Any, path: Path) -> Any:
        if not _given(value):
            return None
        name = by_class.get(value)
        if name is None:
            info = field.info(executor, path)
            resolved = resolve_type(value, info, abstract_type)
            if executor.is_awaitable(resolved):
                return _resolve_then_complete(executor, resolved, value, path, info)
            runtime = executor.ensure_valid_runtime_type(
                resolved, abstract_type, field.details, info, value
            )
            name = by_class.put(value, runtime.name)
        return runtime_plan(executor, name)(executor, value, path)

    async def _resolve_then_complete(
        executor: Running, resolved: Any, value: Any, path: Path, info: Any
    ) -> Any:
        runtime = executor.ensure_valid_runtime_type(
            await resolved, abstract_type, field.details, info, value
        )
        result = runtime_plan(executor, runtime.name)(executor, value, path)
        return await result if executor.is_awaitable(result) else result

    return complete


class _ClassVerdicts:
    """What Strawberry's own `resolve_type` and `is_type_of` answer for a Python class: they
    look at the value's class only, unless it was given another with `strawberry.cast`. A
    function of anyone else's is asked every time."""

    __slots__ = ("cache",)

    def __init__(self, function: Any) -> None:
        strawberry_own = getattr(function, "__module__", "").startswith("strawberry.")
        self.cache: dict[type, Any] | None = {} if strawberry_own else None

    def get(self, value: Any) -> Any:
        if self.cache is None or get_strawberry_type_cast(value) is not None:
            return None
        return self.cache.get(type(value))

    def put(self, value: Any, verdict: Any) -> Any:
        if self.cache is not None and get_strawberry_type_cast(value) is None:
            self.cache[type(value)] = verdict
        return verdict


def _close(awaitables: Iterable[Any]) -> None:
    """Coroutines never to be awaited, closed now rather than warned about later."""
    for awaitable in awaitables:
        discard(awaitable)
