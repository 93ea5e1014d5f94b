"""Text no column can store: refused up front, so both backends answer alike.

NUL characters fit no PostgreSQL text column and lone surrogates no UTF-8 encoding; SQLite
would take both, PostgreSQL would fail late. Both are BAD_USER_INPUT, before execution.
"""

from __future__ import annotations

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit

from app.domain.errors import ErrorCode


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
                extensions={"code": ErrorCode.BAD_USER_INPUT.value},
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
