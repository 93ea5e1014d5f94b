"""The express lane: a plain JSON POST of a document already known to be valid runs straight
through graphql-core's `execute`, past Strawberry's HTTP parsing and its extension runner.

Why: on trackEvent those two took about a fifth of the request's time, for work the lane does
not need: content negotiation a JSON POST settles in one header, and hooks whose outcome the
policy has already remembered for this text (`DocumentPolicy.known_valid`).

What a request meets on Strawberry's path it meets here, from the same functions: the view's
context and sub-response, the caller's validation rules (`gate_rules`), the text rules on its
variables, the schema's executor with its plans, `Schema.process_errors` (logging, suggestions
removed), `code_errors` (codes, masking, the HTTP status), the request log (`name_operation`,
`note_result`) and the view's response. A request the lane does not take it leaves untouched
for Strawberry's path, which then reads the same cached body: another method or content type,
a streaming `Accept`, a batch, `extensions`, a refused or missing caller, a text not yet
validated under this caller's rules (Strawberry's path validates it and remembers), several
operations without a name, a subscription, variables the text rules refuse.
tests/api/test_express_differential.py sends the same requests both ways and compares them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeGuard, cast

import orjson
import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
)
from starlette.requests import Request
from starlette.responses import Response
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionContext
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.graphql import OperationType as StrawberryOperation

from app.api.errors import code_errors
from app.api.middleware import caller_of
from app.api.policy import DocumentPolicy
from app.api.request_log import name_operation
from app.api.text_rules import check_text
from app.api.validation_rules import gate_rules
from app.domain.model import Caller

log = logging.getLogger("laurel.express")

REQUEST_KEYS = frozenset({"query", "variables", "operationName"})
RUNS = frozenset({OperationType.QUERY, OperationType.MUTATION})
POST_OPERATIONS = StrawberryOperation.from_http("POST")
# Strawberry's check, typed as graphql-core declares the parameter.
IS_AWAITABLE = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)


def is_plain_json_post(request: Request) -> bool:
    """A POST of JSON that asks for a JSON answer, not a stream."""
    headers = request.headers
    accept = headers.get("accept", "")
    return (
        request.method == "POST"
        and headers.get("content-type", "").startswith("application/json")
        and "multipart/mixed" not in accept
        and "text/event-stream" not in accept
    )


class View(Protocol):
    """What the lane uses of the view (view.py), so that both paths build them alike."""

    async def get_sub_response(self, request: Request) -> Response: ...

    async def get_context(self, request: Request, response: Response) -> Any: ...

    async def process_result(self, request: Request, result: Any) -> Any: ...

    def create_response(self, response_data: Any, sub_response: Response) -> Response: ...


class ExpressLane:
    def __init__(self, view: View, schema: strawberry.Schema, documents: DocumentPolicy) -> None:
        self.view = view
        self.schema = schema
        self.documents = documents

    async def answer(self, request: Request) -> Response | None:
        """The response, or None for a request Strawberry's path must answer (nothing of it
        has run then, and the body stays cached on `request` for that path)."""
        parsed = _request_data(await request.body())
        if parsed is None or not isinstance(caller_of(request), Caller):
            return None
        query, variables, name = parsed
        view = self.view
        sub_response = await view.get_sub_response(request)
        context = await view.get_context(request, sub_response)
        execution = ExecutionContext(
            query=query,
            schema=self.schema,
            allowed_operations=POST_OPERATIONS,
            context=context,
            variables=variables,
            provided_operation_name=name,
        )
        rules = (*execution.validation_rules, *gate_rules(context))
        document = self.documents.known_valid(query, rules)
        if document is None or not _runs_one_operation(document, name) or _refused(variables):
            return None
        execution.graphql_document = document
        result = await self._execute(document, context, variables, name)
        if result.errors:
            self.schema.process_errors(result.errors, execution)
        execution.result = result
        name_operation(execution)
        code_errors(execution)
        done = StrawberryResult(data=result.data, errors=result.errors)
        return view.create_response(await view.process_result(request, done), sub_response)

    async def _execute(
        self,
        document: DocumentNode,
        context: Any,
        variables: dict[str, Any] | None,
        name: str | None,
    ) -> ExecutionResult:
        """As Strawberry's `Schema.execute` calls graphql-core (no middleware: Laurel's only
        extension has no resolver hook); an exception escaping the executor becomes the
        operation's error, as it does there."""
        try:
            result = execute(
                self.schema._schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=name,
                executor_class=self.schema.execution_context_class,
                is_awaitable=IS_AWAITABLE,
                operation_extensions=None,
            )
            if not isinstance(result, ExecutionResult):
                result = await result
        except Exception as exc:
            log.exception("the executor failed")
            return ExecutionResult(data=None, errors=[GraphQLError(str(exc), original_error=exc)])
        return result


def _request_data(body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | None:
    """(query, variables, operationName) of a body the lane takes, else None."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data.keys() <= REQUEST_KEYS:
        return None
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if (
        isinstance(query, str)
        and isinstance(variables, dict | None)
        and isinstance(name, str | None)
    ):
        return query, variables, name
    return None


def _runs_one_operation(document: DocumentNode, name: str | None) -> bool:
    """The named operation, or the only one, exists and is a query or a mutation."""
    operation = get_operation_ast(document, name)
    return operation is not None and operation.operation in RUNS


def _refused(variables: dict[str, Any] | None) -> bool:
    """Whether the text rules refuse the variables (Strawberry's path answers the refusal)."""
    try:
        check_text(None, variables)
    except GraphQLError:
        return True
    return False
