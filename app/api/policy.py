"""Laurel's per-request rules, as one Strawberry extension, in the order a request meets them.

One extension rather than one per rule: Strawberry builds every extension's hooks again for
every request, and five small extensions cost trackEvent about a tenth of its time. The rules
themselves live with their subjects (limits.py, text_rules.py, validation_rules.py, errors.py,
request_log.py); `DocumentPolicy` holds a schema's limits and what it already knows of each
document, and the schema factory (schema.py) gives each schema its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.api.errors import HTTP_STATUS, code_errors, code_stream_errors
from app.api.limits import Limits, QueryTooComplex, check_document, count_tokens
from app.api.request_log import name_operation
from app.api.text_rules import check_text
from app.api.validation_rules import gate_rules
from app.domain.errors import ErrorCode

VERDICT_CACHE_SIZE = 1024


class DocumentPolicy:
    """A schema's document limits, and the verdict on each document text seen, remembered like
    Strawberry's ValidationCache: walking the document on every request cost ~0.4 ms."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._verdicts: OrderedDict[str, GraphQLError | None] = OrderedDict()

    def refuse_long_document(self, context: ExecutionContext) -> None:
        """Before parsing: a document over the token limit never reaches the parser."""
        query = context.query or ""
        limit = self.limits.max_tokens
        if len(query) > limit:
            actual = count_tokens(query, limit)
            if actual > limit:
                _refuse(context, QueryTooComplex("tokens", limit, actual, bound="actualAtLeast"))

    def refuse_oversized_document(self, context: ExecutionContext) -> None:
        """Before validation, whose cost grows with the document too."""
        document = context.graphql_document
        if document is None:
            return
        verdict = self._verdict(context, document)
        if verdict is not None:
            _refuse(context, verdict)
        try:
            check_text(None, context.variables)
        except GraphQLError as error:
            _refuse(context, error)

    def _verdict(self, context: ExecutionContext, document: DocumentNode) -> GraphQLError | None:
        query = context.query or ""
        if query in self._verdicts:
            self._verdicts.move_to_end(query)
            return self._verdicts[query]
        try:
            check_document(context.schema._schema, document, self.limits)
            check_text(document, None)
            verdict = None
        except GraphQLError as error:
            verdict = error
        self._verdicts[query] = verdict
        if len(self._verdicts) > VERDICT_CACHE_SIZE:
            self._verdicts.popitem(last=False)
        return verdict


def _refuse(context: ExecutionContext, error: GraphQLError) -> None:
    """Raised from a hook, the error bypasses the public error mapping: the 400 is set here."""
    response = getattr(context.context, "response", None)
    if response is not None:
        response.status_code = HTTP_STATUS[ErrorCode.QUERY_TOO_COMPLEX]
    raise error


class RequestPolicy(SchemaExtension):
    """Must precede ParserCache and ValidationCache, so that limits are checked before the work
    they bound, and errors are coded after everything else has run."""

    def __init__(self, documents: DocumentPolicy) -> None:
        self.documents = documents

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *gate_rules(context))
        yield
        name_operation(context)
        code_errors(context)

    def on_parse(self) -> Iterator[None]:
        self.documents.refuse_long_document(self.execution_context)
        yield

    def on_validate(self) -> Iterator[None]:
        self.documents.refuse_oversized_document(self.execution_context)
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        code_stream_errors(self.execution_context, result)
        yield
