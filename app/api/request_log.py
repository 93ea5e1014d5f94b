"""One structured log line per HTTP request, so an operator can follow any request by its id.

The record holds only what is safe to log: ids, names, codes, timings. Credentials, variables,
the query text and response data never enter it.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
import uuid
from dataclasses import dataclass, field

from graphql import ExecutionResult, FieldNode, OperationDefinitionNode
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.types import Scope
from strawberry.types import ExecutionContext

from app.domain.errors import ErrorCode

log = logging.getLogger("laurel.request")
META = frozenset({"__typename", "__schema", "__type"})

# Request ids need only be unique, not secret: a random prefix per process and a counter cost
# no system call per request, as uuid4 does. A forked worker draws its own prefix.
_id_prefix = uuid.uuid4().hex[:16]
_sequence = itertools.count(1)


def _new_prefix() -> None:
    global _id_prefix
    _id_prefix = uuid.uuid4().hex[:16]


os.register_at_fork(after_in_child=_new_prefix)

# Kept in the ASGI scope, which every Request object built for one request shares.
SCOPE_KEY = "laurel.request"
# A request whose client went away before it was answered: logged with nginx's status for it.
CLIENT_GONE = "CLIENT_DISCONNECTED"
CLIENT_GONE_STATUS = 499


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str = ""
    path: str = ""
    started: float = field(default_factory=time.perf_counter)
    tenant: int | None = None
    operation: str | None = None
    root_fields: str | None = None
    """What metrics label the request by: the schema's root fields it ran, a bounded set."""
    codes: list[str] = field(default_factory=list)

    def note_code(self, code: str) -> None:
        if code not in self.codes:
            self.codes.append(code)

    def note_result(self, result: ExecutionResult) -> None:
        for error in result.errors or ():
            self.note_code(str((error.extensions or {}).get("code", ErrorCode.INTERNAL.value)))

    def note_operation(self, name: object) -> None:
        self.operation = name[:100] if isinstance(name, str) else None

    def finish(self, status: int) -> float:
        """Logs the request's line; returns how long it took, in seconds."""
        duration = time.perf_counter() - self.started
        duration_ms = round(duration * 1000, 2)
        log.info(
            "request",
            extra={
                "fields": {
                    "requestId": self.request_id,
                    "method": self.method,
                    "path": self.path,
                    "tenant": self.tenant,
                    "operation": self.operation,
                    "status": status,
                    "durationMs": duration_ms,
                    "outcome": ",".join(self.codes) if self.codes else "ok",
                }
            },
        )
        return duration


def start_record(scope: Scope) -> RequestRecord:
    """The client may name its request (X-Request-Id, at most 64 characters); else a new id."""
    given = Headers(scope=scope).get("x-request-id", "")
    record = RequestRecord(
        request_id=given[:64] or f"{_id_prefix}{next(_sequence):08x}",
        method=str(scope.get("method", "")),
        path=str(scope.get("path", ""))[:200],
    )
    scope[SCOPE_KEY] = record
    return record


def record_of(connection: HTTPConnection) -> RequestRecord:
    record = connection.scope.get(SCOPE_KEY)
    return record if isinstance(record, RequestRecord) else start_record(connection.scope)


def name_operation(context: ExecutionContext) -> None:
    """Names the operation in the log even when the client sent no operationName, and notes the
    root fields it ran for the metrics."""
    request = getattr(context.context, "request", None)
    if not isinstance(request, Request):
        return
    record = record_of(request)
    record.note_operation(context.operation_name)
    record.root_fields = _root_fields(context)


def _root_fields(context: ExecutionContext) -> str | None:
    document = context.graphql_document
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (o for o in operations if o.name and o.name.value == context.operation_name),
        operations[0] if len(operations) == 1 else None,
    )
    if chosen is None:
        return None
    # Only the schema's own fields: the names of a document that failed validation are the
    # client's words, and would make the label set unbounded.
    root = context.schema._schema.get_root_type(chosen.operation)
    known = root.fields if root is not None else {}
    names = sorted(
        {
            s.name.value
            for s in chosen.selection_set.selections
            if isinstance(s, FieldNode) and (s.name.value in known or s.name.value in META)
        }
    )
    return ",".join(names[:3]) + (",..." if len(names) > 3 else "") if names else None
