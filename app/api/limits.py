"""Document limits: no GraphQL document may cost the server more than a bounded amount of work.

Every refusal is a GraphQL error with `extensions.code` QUERY_TOO_COMPLEX (HTTP 400), the name of
the limit (`limitName`), its value (`limit`) and what the document needed (`actual`;
`actualAtLeast` for tokens, whose counting stops as soon as the limit is passed). Size limits are
checked before the work they bound: tokens before parsing, the rest before validation
(`app/api/policy.py`).
"""

from __future__ import annotations

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
    SelectionSetNode,
    TokenKind,
    get_named_type,
    is_leaf_type,
)
from graphql.language.lexer import Lexer
from graphql.language.source import Source

from app.domain.errors import ErrorCode


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
            extensions={
                "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                "limitName": name,
                "limit": limit,
                bound: actual,
            },
        )


SHORT_LISTS = frozenset(
    {
        # One entry per points system an operation awarded in, and an award's few boosts.
        "TrackEventPayload.points",
        "CompleteAchievementPayload.points",
        "IdentifyPayload.points",
        "PointsChange.awards",
        "PointsAward.boosts",
        "UserPoints.boosts",
        # A system's levels and its 11 histogram ranges.
        "PointsSystem.levels",
        "PointsSystem.levelSummary",
        "PointsSystem.histogram",
    }
)
SHORT_LIST_FACTOR = 3


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
    a page size, so every list is unbounded), except the lists whose length the configuration
    bounds rather than the data (`SHORT_LISTS`), which multiply by `SHORT_LIST_FACTOR`.
    Introspection fields are free and add no depth; unknown fields and fragments are measured
    as well as they can be and left to validation.
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
            short = f"{getattr(parent, 'name', '')}.{node.name.value}" in SHORT_LISTS
            cost *= SHORT_LIST_FACTOR if short else self.list_factor
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
