"""Laurel's per-request rules, as one Strawberry extension, in the order a request meets them.

One extension rather than one per rule: Strawberry builds every extension's hooks again for
every request, and five small extensions cost trackEvent about a tenth of its time. The rules
themselves live with their subjects (limits.py, text_rules.py, validation_rules.py, errors.py,
request_log.py); `DocumentPolicy` holds a schema's limits and what it already knows of each
document text (parsed document, verdict, validation errors), and the schema factory (schema.py)
gives each schema its own.

No hook raises. A refusal becomes the operation's pre-execution error, so that Strawberry
answers it like a validation error on every transport: coded by `code_errors`, HTTP 400, and a
graphql-transport-ws `error` message. (An exception escaping a parsing hook skipped the coding
over HTTP, and ended a WebSocket operation with a bare `complete`.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any, Generic, TypeVar

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from app.api.errors import code_errors, code_stream_errors
from app.api.limits import Limits, QueryTooComplex, check_document, count_tokens
from app.api.request_log import name_operation
from app.api.text_rules import check_text
from app.api.validation_rules import gate_rules
from app.domain.errors import ErrorCode

CACHE_SIZE = 1024
# Stands in for a document refused before parsing: Strawberry needs one to go on to validation,
# where the refusal is reported.
PLACEHOLDER = parse("{ __typename }")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: K, value: V) -> V:
        self._items[key] = value
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value


class DocumentPolicy:
    """A schema's document limits, with each document text's parse, verdict and validation
    remembered: without them every request paid ~2.5 ms of parsing and validation, and walking
    the document for its limits ~0.4 ms."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._documents: Lru[str, DocumentNode] = Lru()
        self._verdicts: Lru[str, tuple[GraphQLError | None]] = Lru()
        self._validations: Lru[tuple[str, tuple[Any, ...]], list[GraphQLError]] = Lru()

    def parse(self, context: ExecutionContext) -> GraphQLError | None:
        """Before parsing: a document over the token limit never reaches the parser (its
        refusal is returned); a syntax error is left for Strawberry to parse again and report."""
        query = context.query or ""
        limit = self.limits.max_tokens
        if len(query) > limit:
            actual = count_tokens(query, limit)
            if actual > limit:
                context.graphql_document = PLACEHOLDER
                return QueryTooComplex("tokens", limit, actual, bound="actualAtLeast")
        document = self._documents.get(query)
        if document is None:
            try:
                document = self._documents.put(query, parse(query, **context.parse_options))
            except GraphQLSyntaxError:
                return None
        context.graphql_document = document
        return None

    def validate(self, context: ExecutionContext, refusal: GraphQLError | None) -> None:
        """Before validation, whose cost grows with the document too: what the document alone
        earns (limits, text, an operation to run), then its variables, then the rules."""
        query = context.query or ""
        refusal = refusal or self._verdict(context)
        if refusal is None:
            try:
                check_text(None, context.variables)
            except GraphQLError as error:
                refusal = error
        if refusal is not None:
            context.pre_execution_errors = [refusal]
            return
        rules = tuple(context.validation_rules)
        errors = self._validations.get((query, rules))
        if errors is None:
            assert context.graphql_document is not None
            errors = self._validations.put(
                (query, rules),
                validate_document(context.schema._schema, context.graphql_document, rules),
            )
        context.pre_execution_errors = errors

    def known_valid(self, query: str, rules: tuple[Any, ...]) -> DocumentNode | None:
        """The parsed document of a text already judged within the limits and validated
        without errors under `rules`, or None: what the express lane (express.py) may run
        without parsing, judging and validating it again."""
        document = self._documents.get(query)
        verdict = self._verdicts.get(query)
        if document is None or verdict is None or verdict[0] is not None:
            return None
        return document if self._validations.get((query, rules)) == [] else None

    def _verdict(self, context: ExecutionContext) -> GraphQLError | None:
        query = context.query or ""
        cached = self._verdicts.get(query)
        if cached is None:
            cached = self._verdicts.put(query, (self._judge(context),))
        return cached[0] or _ambiguity(context)

    def _judge(self, context: ExecutionContext) -> GraphQLError | None:
        document = context.graphql_document
        assert document is not None
        try:
            check_document(context.schema._schema, document, self.limits)
            check_text(document, None)
        except GraphQLError as error:
            return error
        return None


def _ambiguity(context: ExecutionContext) -> GraphQLError | None:
    """GraphQL runs the one operation a request names; several and no name is no request."""
    document = context.graphql_document
    # `operation_name` falls back to the first operation's name: what the client sent is kept
    # in `_provided_operation_name` (tests/api/test_websocket_rules.py and test_transport_errors
    # fail if that changes).
    if getattr(context, "_provided_operation_name", None) is not None or document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) <= 1:
        return None
    return GraphQLError(
        "the document holds several operations: name the one to run (operationName)",
        extensions={"code": ErrorCode.BAD_REQUEST.value},
    )


class RequestPolicy(SchemaExtension):
    """Parses, limits, validates and codes; the schema's only extension."""

    def __init__(self, documents: DocumentPolicy) -> None:
        self.documents = documents
        self.refusal: GraphQLError | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *gate_rules(context.context))
        yield
        name_operation(context)
        code_errors(context)

    def on_parse(self) -> Iterator[None]:
        self.refusal = self.documents.parse(self.execution_context)
        yield

    def on_validate(self) -> Iterator[None]:
        self.documents.validate(self.execution_context, self.refusal)
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        code_stream_errors(self.execution_context, result)
        yield
