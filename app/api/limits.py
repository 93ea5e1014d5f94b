"""Query limits: no document may cost the server more than a bounded amount of work.

Every refusal is a GraphQL error with `extensions.code` QUERY_TOO_COMPLEX (HTTP 400), the name of
the limit (`limit`: its value, `actual`: what the document needed; `actualAtLeast` for tokens,
whose counting stops as soon as the limit is passed) and which limit it was (`limitName`).
Introspection by a caller who may not use it is refused with FORBIDDEN.

Size limits are checked before the work they bound (tokens before parsing, the rest before
validation); rules that only add errors (introspection, subscriptions over HTTP) are module-level
classes, so the validation cache, keyed by the rule tuple, still hits.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    TokenKind,
    ValidationRule,
    Visitor,
    get_named_type,
    is_leaf_type,
    visit,
)
from graphql.language.lexer import Lexer
from graphql.language.source import Source
from graphql.validation.rules.custom.no_schema_introspection import (
    NoSchemaIntrospectionCustomRule,
)
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Message, Receive, Scope
from strawberry.types import ExecutionContext

from app.domain.model import Caller

CODE = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_cost: int = 1000
    list_factor: int = 10
    max_selections: int = 100


class QueryTooComplex(GraphQLError):
    def __init__(self, name: str, limit: int, actual: int, *, bound: str = "actual") -> None:
        super().__init__(
            f"the query exceeds the {name} limit of {limit}",
            extensions={"code": CODE, "limitName": name, "limit": limit, bound: actual},
        )


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int = 0
    cost: int = 0
    aliases: int = 0

    def beside(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth), self.cost + other.cost, self.aliases + other.aliases
        )


class DocumentMeasure:
    """Depth, cost and aliases of each operation, with every fragment measured once.

    Measuring a fragment once, not once per spread, keeps this linear: fragments spreading
    fragments twice over would otherwise cost 2^n. Each field costs 1; a list of objects
    multiplies its own and its children's cost by `list_factor` (no field of the schema takes
    a page size, so every list is unbounded). Introspection fields are free and add no depth;
    unknown fields and fragments are measured as well as they can be and left to validation.
    """

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, list_factor: int) -> None:
        self.schema = schema
        self.list_factor = list_factor
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operations = [
            d for d in document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        self._measured: dict[str, Measure] = {}

    def each_operation(self) -> Iterator[Measure]:
        for operation in self.operations:
            root = self.schema.get_root_type(operation.operation)
            yield self.selections(operation.selection_set, root)

    def selections(self, node: SelectionSetNode | None, parent: Any) -> Measure:
        total = Measure()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                total = total.beside(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                owner = self.schema.get_type(condition.name.value) if condition else parent
                total = total.beside(self.selections(selection.selection_set, owner))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.beside(self.fragment(selection.name.value))
        return total

    def fragment(self, name: str) -> Measure:
        if name not in self._measured:
            self._measured[name] = Measure()  # a cycle measures 0; validation refuses it
            fragment = self.fragments.get(name)
            if fragment is not None:
                owner = self.schema.get_type(fragment.type_condition.name.value)
                self._measured[name] = self.selections(fragment.selection_set, owner)
        return self._measured[name]

    def field(self, node: FieldNode, parent: Any) -> Measure:
        alias = 1 if node.alias else 0
        if node.name.value.startswith("__"):
            return Measure(aliases=alias)
        definition = getattr(parent, "fields", {}).get(node.name.value)
        kind = definition.type if definition is not None else None
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        named = get_named_type(kind) if kind is not None else None
        inner = self.selections(node.selection_set, named)
        cost = 1 + inner.cost
        if isinstance(kind, GraphQLList) and named is not None and not is_leaf_type(named):
            cost *= self.list_factor
        return Measure(1 + inner.depth, cost, alias + inner.aliases)


def count_selections(document: DocumentNode) -> int:
    """graphql-core compares repeated fields pairwise while validating: bound them beforehand."""
    count = 0

    def visit(node: SelectionSetNode | None) -> None:
        nonlocal count
        for selection in node.selections if node else ():
            count += 1
            if isinstance(selection, FieldNode | InlineFragmentNode):
                visit(selection.selection_set)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            visit(definition.selection_set)
    return count


def _storable(text: str) -> bool:
    return "\x00" not in text and (text.isascii() or not _has_surrogate(text))


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(document: DocumentNode | None, variables: object) -> None:
    """NUL characters and lone surrogates fit no column (PostgreSQL refuses NUL; UTF-8 has no
    surrogates): refused up front, so both backends answer alike instead of failing late."""
    pending: list[object] = [variables]
    if document is not None:
        pending += [n.value for n in _string_literals(document)]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and not _storable(value):
            raise GraphQLError(
                "text may not contain NUL characters or lone surrogates",
                extensions={"code": "BAD_USER_INPUT"},
            )
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value


def _string_literals(document: DocumentNode) -> list[StringValueNode]:
    found: list[StringValueNode] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: object) -> None:
            found.append(node)

    visit(document, Collect())
    return found


def check_document(schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> None:
    selections = count_selections(document)
    if selections > limits.max_selections:
        raise QueryTooComplex("selections", limits.max_selections, selections)
    for measure in DocumentMeasure(schema, document, limits.list_factor).each_operation():
        for name, limit, actual in (
            ("depth", limits.max_depth, measure.depth),
            ("aliases", limits.max_aliases, measure.aliases),
            ("cost", limits.max_cost, measure.cost),
        ):
            if actual > limit:
                raise QueryTooComplex(name, limit, actual)


def count_tokens(query: str, stop_after: int) -> int:
    """Lexes no further than needed, so an oversized document costs no more than the limit."""
    lexer = Lexer(Source(query))
    count = 0
    while count <= stop_after:
        try:
            token = lexer.advance()
        except GraphQLError:
            return count
        if token.kind is TokenKind.EOF:
            return count
        count += 1
    return count


VERDICT_CACHE_SIZE = 1024
VERDICTS: OrderedDict[str, GraphQLError | None] = OrderedDict()


def refuse_long_document(context: ExecutionContext, limits: Limits) -> None:
    """Before parsing: a document over the token limit is refused before the parser sees it."""
    query = context.query or ""
    if len(query) > limits.max_tokens:
        actual = count_tokens(query, limits.max_tokens)
        if actual > limits.max_tokens:
            _refuse(
                context,
                QueryTooComplex("tokens", limits.max_tokens, actual, bound="actualAtLeast"),
            )


def refuse_oversized_document(context: ExecutionContext, limits: Limits) -> None:
    """Before validation, whose cost grows with the document too."""
    document = context.graphql_document
    if document is None:
        return
    verdict = _verdict(context, document, limits)
    if verdict is not None:
        _refuse(context, verdict)
    try:
        check_text(None, context.variables)
    except GraphQLError as error:
        _refuse(context, error)


def _verdict(
    context: ExecutionContext, document: DocumentNode, limits: Limits
) -> GraphQLError | None:
    """What the document alone earns, remembered per query text like Strawberry's
    ValidationCache: walking the document on every request cost ~0.4 ms."""
    query = context.query or ""
    if query in VERDICTS:
        VERDICTS.move_to_end(query)
        return VERDICTS[query]
    try:
        check_document(context.schema._schema, document, limits)
        check_text(document, None)
        verdict = None
    except GraphQLError as error:
        verdict = error
    VERDICTS[query] = verdict
    if len(VERDICTS) > VERDICT_CACHE_SIZE:
        VERDICTS.popitem(last=False)
    return verdict


def _refuse(context: ExecutionContext, error: GraphQLError) -> None:
    """Raised from a hook, the error bypasses the public error mapping: the 400 is set here."""
    response = getattr(context.context, "response", None)
    if response is not None:
        response.status_code = 400
    raise error


class NoIntrospectionRule(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, with a public code."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(
            GraphQLError(
                "introspection is available to ADMIN keys only",
                nodes=error.nodes,
                extensions={"code": "FORBIDDEN"},
            )
        )


def gate_rules(context: ExecutionContext) -> tuple[type[ValidationRule], ...]:
    """Validation rules this caller's request adds: introspection for ADMIN keys only (or for
    anyone when Services.introspection_for_all, in development), subscriptions over WebSocket
    only."""
    request_context = context.context
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
                    extensions={"code": "BAD_REQUEST"},
                )
            )


_configured = [Limits()]


def configure_limits(limits: Limits) -> None:
    """Set by main.py from the settings: the schema is built at import, before settings are read."""
    _configured[0] = limits
    VERDICTS.clear()


def configured_limits() -> Limits:
    return _configured[0]


class BodyTooLarge(Exception):
    """The request body passed the size limit; the view answers 413 as GraphQL JSON."""


def limit_body(scope: Scope, receive: Receive, max_bytes: int) -> Receive:
    """Refuses a declared or streamed body over `max_bytes`, so no more than that is ever read.

    Starlette's own limit answers in plain text, whatever the view sends; this one lets the view
    answer as GraphQL does.
    """
    declared = Headers(scope=scope).get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return limited
