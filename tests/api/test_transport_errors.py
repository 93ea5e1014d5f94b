"""Whatever arrives over HTTP, the answer is a 4xx with a GraphQL error body, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import Api

JSON = "application/json"


async def post(api: Api, body: bytes, content_type: str = JSON) -> httpx.Response:
    headers = {"X-API-Key": api.key, "Content-Type": content_type}
    return await api.client.post("/graphql", content=body, headers=headers)


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert response.headers["X-Request-Id"]
    return dict(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": ',
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"v": Infinity}}',
        b'{"query": "{ __typename }", "variables": {"v": "\\ud800"}}',
    ],
    ids=[
        "truncated",
        "empty",
        "text",
        "bad-utf8",
        "deep-nesting",
        "huge-integer",
        "infinity-is-not-json",
        "lone-surrogate",
    ],
)
async def test_malformed_json_is_a_400(api: Api, body: bytes) -> None:
    assert_refused(await post(api, body), 400, "BAD_REQUEST")


@pytest.mark.parametrize("body", [b'"a string"', b"42", b"null", b"true"])
async def test_a_body_that_is_not_an_object_is_a_400(api: Api, body: bytes) -> None:
    assert_refused(await post(api, body), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "field", [{"query": 42}, {"variables": [1]}, {"extensions": "x"}, {"query": None}]
)
async def test_fields_of_the_wrong_type_are_a_400(api: Api, field: dict[str, Any]) -> None:
    body = json.dumps({"query": "{ __typename }", **field}).encode()
    assert_refused(await post(api, body), 400, "BAD_REQUEST")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
async def test_wrong_content_type_is_a_400(api: Api, content_type: str) -> None:
    body = json.dumps({"query": "{ __typename }"}).encode()
    assert_refused(await post(api, body, content_type), 400, "BAD_REQUEST")


async def test_unknown_operation_name_is_a_400(api: Api) -> None:
    for name in ("B", 123):
        body = json.dumps({"query": "query A { __typename }", "operationName": name}).encode()
        response = await post(api, body)
        assert 400 <= response.status_code < 500, response.text
        code = response.json()["errors"][0]["extensions"]["code"]
        assert code in {"BAD_REQUEST", "BAD_USER_INPUT"}


@pytest.mark.parametrize(
    "variables",
    [
        {"v": "not a number"},
        {"v": None},
        {"v": [1, 2]},
        {"v": {"nested": 1}},
        {},
    ],
    ids=["string", "null", "list", "object", "missing"],
)
async def test_invalid_variables_are_a_400(api: Api, variables: dict[str, Any]) -> None:
    query = (
        'mutation($v: Float!) { trackEvent(input: {metricKey: "m", user: {id: "u"}, value: $v})'
        " { total } }"
    )
    response = await post(api, json.dumps({"query": query, "variables": variables}).encode())
    assert_refused(response, 400, "BAD_USER_INPUT")


async def test_an_eight_mebibyte_body_is_a_413(api: Api) -> None:
    body = b'{"query": "{ __typename }", "pad": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    assert_refused(await post(api, body), 413, "PAYLOAD_TOO_LARGE")


async def test_a_streamed_body_without_length_is_cut_at_the_limit(api: Api) -> None:
    async def chunks() -> Any:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    headers = {"X-API-Key": api.key, "Content-Type": JSON}
    response = await api.client.post("/graphql", content=chunks(), headers=headers)
    assert_refused(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unsupported_method_is_a_4xx(api: Api) -> None:
    response = await api.client.put("/graphql", headers={"X-API-Key": api.key})
    assert 400 <= response.status_code < 500


async def test_the_request_id_is_echoed(api: Api) -> None:
    response = await api.call("{ __typename }", headers={"X-Request-Id": "trace-123"})
    assert response.headers["X-Request-Id"] == "trace-123"


async def test_one_log_line_per_request_and_no_secret(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    token = (await api.data('mutation { createUserToken(userId: "u1") { token } }'))[
        "createUserToken"
    ]["token"]
    caplog.clear()
    with caplog.at_level("INFO", logger="laurel.request"):
        await api.call("query Named { __typename }", headers={"X-Request-Id": "rid-1"})
        await api.call("query Denied { metrics { key } }", key="nope.nope")
        await api.call("{ __typename }", token=token)
    records = [r for r in caplog.records if r.name == "laurel.request"]
    fields = [r.fields for r in records]  # type: ignore[attr-defined]
    assert [f["operation"] for f in fields] == ["Named", None, None]
    assert fields[0]["requestId"] == "rid-1" and fields[0]["tenant"] == api.tenant_id
    assert [f["outcome"] for f in fields] == ["ok", "UNAUTHENTICATED", "ok"]
    assert all(f["durationMs"] >= 0 for f in fields)
    logged = caplog.text + "".join(str(f) for f in fields)
    assert api.key not in logged and token not in logged and "nope.nope" not in logged


async def test_a_syntax_error_is_a_coded_400(api: Api) -> None:
    response = await api.call("{ metrics { key")
    body = assert_refused(response, 400, "BAD_USER_INPUT")
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_several_operations_without_a_name_run_none(api: Api) -> None:
    await api.metric()
    both = 'query A { metrics { key } } mutation B { createMetric(input: {key: "x", name: "x"}) { id } }'
    assert_refused(await api.call(both), 400, "BAD_REQUEST")
    named = await api.client.post(
        "/graphql",
        json={"query": both, "operationName": "A"},
        headers={"X-API-Key": api.key},
    )
    assert named.json() == {"data": {"metrics": [{"key": "lessons"}]}}


async def test_a_client_that_leaves_mid_body_is_one_log_line(
    app: Any, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a 500 with a traceback: a flood of such clients must not flood the log."""
    messages = [
        {"type": "http.request", "body": b'{"query": "{ __ty', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
            (b"x-api-key", api.key.encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("laurel", 80),
        "state": {},
    }
    caplog.clear()
    await app(scope, receive, send)
    assert sent == []
    lines = [r for r in caplog.records if r.name.startswith("laurel")]
    assert [r.levelname for r in lines] == ["INFO"]
    assert lines[0].fields["status"] == 499  # type: ignore[attr-defined]
    assert lines[0].fields["outcome"] == "CLIENT_DISCONNECTED"  # type: ignore[attr-defined]
    assert (lines[0].fields["method"], lines[0].fields["path"]) == ("POST", "/graphql")  # type: ignore[attr-defined]
