"""Who may manage webhooks, what an endpoint may be, and what one tenant sees of another's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from conftest import Api, LiveServer, new_tenant, throwaway_database
from webhook_receiver import Receiver

CREATE = """
mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) { secret endpoint { id url description eventTypes } }
}
"""
OPERATIONS = [
    ("{ webhookEndpoints { id } }", {}),
    ('{ webhookEndpoint(id: "1") { id } }', {}),
    ('{ webhookDeliveries(endpointId: "1") { id } }', {}),
    (CREATE, {"i": {"url": "https://example.com/hook", "eventTypes": ["USER_CREATED"]}}),
    ('mutation { updateWebhookEndpoint(id: "1", input: {url: "https://a.example"}) { id } }', {}),
    ('mutation { setWebhookEndpointStatus(id: "1", status: DISABLED) { id } }', {}),
    ('mutation { rotateWebhookSecret(id: "1") { secret } }', {}),
    ('mutation { deleteWebhookEndpoint(id: "1") }', {}),
    ('mutation { redeliverWebhook(deliveryId: "1") { id } }', {}),
    ('mutation { sendTestWebhook(endpointId: "1") { id } }', {}),
]


async def create(api: Api, url: str = "https://example.com/hook", **extra: Any) -> Any:
    return await api.gql(CREATE, {"i": {"url": url, "eventTypes": ["USER_CREATED"], **extra}})


async def count(api: Api) -> int:
    return len((await api.data("{ webhookEndpoints { id } }"))["webhookEndpoints"])


@pytest.mark.parametrize(("operation", "variables"), OPERATIONS)
async def test_only_admin_keys_touch_webhooks(
    api: Api, operation: str, variables: dict[str, Any]
) -> None:
    server = await api.server_key()
    assert await api.error_code(operation, variables, key=server) == "FORBIDDEN"
    token = await api.data('mutation { createUserToken(userId: "ada") { token } }')
    user = token["createUserToken"]["token"]
    assert await api.error_code(operation, variables, token=user) == "FORBIDDEN"
    assert await count(api) == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"eventTypes": []}, "eventTypes"),
        ({"description": "x" * 256}, "description"),
        ({"payloadFormat": "TROPHY"}, "eventTypes"),  # Trophy has no user.created
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"url": "https://user:secret@example.com/hook"}, "url"),
        ({"url": "https://example.com/" + "x" * 2048}, "url"),
        ({"url": "https://example.com:99999/"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
async def test_bad_endpoints_are_refused_and_nothing_is_stored(
    api: Api, extra: dict[str, Any], field: str
) -> None:
    body = await create(api, **extra)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert "whsec_" not in str(body)
    assert await count(api) == 0


async def test_updates_follow_the_same_rules_and_null_clears_the_description(api: Api) -> None:
    created = await create(api, description="first")
    endpoint_id = created["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    update = (
        "mutation($id: ID!, $i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, "
        "input: $i) { url description eventTypes } }"
    )
    assert await api.error_code(update, {"id": endpoint_id, "i": {"eventTypes": []}}) == (
        "BAD_USER_INPUT"
    )
    changed = await api.data(
        update,
        {
            "id": endpoint_id,
            "i": {"url": "https://b.example/h", "eventTypes": ["STREAK_STARTED", "STREAK_STARTED"]},
        },
    )
    assert changed["updateWebhookEndpoint"] == {
        "url": "https://b.example/h",
        "description": "first",
        "eventTypes": ["STREAK_STARTED"],
    }
    cleared = await api.data(update, {"id": endpoint_id, "i": {"description": None}})
    assert cleared["updateWebhookEndpoint"]["description"] is None


async def test_unknown_ids_are_not_found(api: Api) -> None:
    for operation, variables in OPERATIONS[4:]:
        assert await api.error_code(operation.replace('"1"', '"999999"'), variables) == (
            "NOT_FOUND"
        ), operation
    assert await api.error_code('{ webhookDeliveries(endpointId: "x") { id } }') == "NOT_FOUND"
    found = await api.data('{ webhookEndpoint(id: "999999") { id } }')
    assert found["webhookEndpoint"] is None


async def test_ranges_of_overlap_and_page_size(api: Api) -> None:
    created = await create(api)
    endpoint_id = created["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    for overlap in (-1, 604801):
        assert (
            await api.error_code(
                "mutation($id: ID!, $o: Int!) { rotateWebhookSecret(id: $id, overlapSeconds: $o) "
                "{ secret } }",
                {"id": endpoint_id, "o": overlap},
            )
            == "BAD_USER_INPUT"
        )
    for limit in (0, 101):
        assert (
            await api.error_code(
                "query($id: ID!, $l: Int!) { webhookDeliveries(endpointId: $id, limit: $l) { id } }",
                {"id": endpoint_id, "l": limit},
            )
            == "BAD_USER_INPUT"
        )


async def test_a_tenant_has_at_most_fifty_endpoints(api: Api) -> None:
    for n in range(50):
        assert "errors" not in await create(api, url=f"https://example.com/{n}")
    refused = await create(api, url="https://example.com/51")
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await count(api) == 50


async def test_tenants_see_and_receive_only_their_own(api: Api, http: httpx.AsyncClient) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        theirs = await new_tenant(http)
        created = await create(api, url=receiver.url, eventTypes=["USER_CREATED"])
        endpoint_id = created["data"]["createWebhookEndpoint"]["endpoint"]["id"]
        assert (await theirs.data("{ webhookEndpoints { id } }"))["webhookEndpoints"] == []
        found = await theirs.data(
            "query($id: ID!) { webhookEndpoint(id: $id) { id } }", {"id": endpoint_id}
        )
        assert found["webhookEndpoint"] is None
        assert (
            await theirs.error_code(
                "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }", {"id": endpoint_id}
            )
            == "NOT_FOUND"
        )
        await theirs.metric("lessons")
        await theirs.track("theirs", 1)
        await api.metric("lessons")
        await api.track("ours", 1)
        [request] = await receiver.wait_for(1)
        assert request.json["data"]["user"]["id"] == "ours"
        assert len(receiver.received) == 1
    finally:
        await receiver.stop()


# A server that refuses private destinations and plain http, as production does; on a database
# of its own, so that it never attempts the deliveries of tests that allow both.


@pytest.fixture(scope="module")
def strict_server(app: Any) -> Iterator[LiveServer]:
    with throwaway_database("laurel_strict") as url:
        server = LiveServer(
            url,
            "strict.key",
            env={"LAUREL_WEBHOOK_ALLOW_PRIVATE": "0", "LAUREL_WEBHOOK_ALLOW_HTTP": "0"},
        )
        yield server
        server.stop()


@pytest_asyncio.fixture
async def strict(strict_server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=30) as client:
        yield Api(client, "strict.key", 0)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://224.0.0.1/hook",
    ],
)
async def test_private_destinations_and_plain_http_are_refused(strict: Api, url: str) -> None:
    body = await create(strict, url=url)
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "url")


async def test_names_are_checked_when_each_attempt_resolves_them(strict: Api) -> None:
    created = await strict.data(
        CREATE, {"i": {"url": "https://hooks.example.invalid/in", "eventTypes": ["USER_CREATED"]}}
    )
    endpoint_id = created["createWebhookEndpoint"]["endpoint"]["id"]
    sent = await strict.data(
        "mutation($e: ID!) { sendTestWebhook(endpointId: $e) { status attempts { error "
        "responseStatus } } }",
        {"e": endpoint_id},
    )
    delivery = sent["sendTestWebhook"]
    assert delivery["status"] == "FAILED"
    [attempt] = delivery["attempts"]
    assert attempt["responseStatus"] is None
    assert attempt["error"].startswith("blocked address")
