"""Laurel's per-request rules, as one Strawberry extension, in the order a request meets them.

One extension rather than one per rule: Strawberry builds every extension's hooks again for
every request, and five small extensions cost trackEvent about a tenth of its time. The rules
themselves live with their subjects: limits.py, errors.py, request_log.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from app.api.errors import code_errors, code_stream_errors
from app.api.limits import (
    configured_limits,
    gate_rules,
    refuse_long_document,
    refuse_oversized_document,
)
from app.api.request_log import name_operation


class RequestPolicy(SchemaExtension):
    """Must precede ParserCache and ValidationCache, so that limits are checked before the work
    they bound, and errors are coded after everything else has run."""

    def __init__(self) -> None:
        self.limits = configured_limits()

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *gate_rules(context))
        yield
        name_operation(context)
        code_errors(context)

    def on_parse(self) -> Iterator[None]:
        refuse_long_document(self.execution_context, self.limits)
        yield

    def on_validate(self) -> Iterator[None]:
        refuse_oversized_document(self.execution_context, self.limits)
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        code_stream_errors(self.execution_context, result)
        yield
