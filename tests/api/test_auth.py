"""Keys and roles (docs/api.md): 401 without valid credentials, FORBIDDEN for the wrong role."""

from __future__ import annotations

from conftest import Api

METRICS = "{ metrics { key } }"
CREATE_METRIC = 'mutation { createMetric(input: {key: "m", name: "M"}) { key } }'


async def test_no_key_is_401_unauthenticated(api: Api) -> None:
    response = await api.call(METRICS, key="")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_wrong_secret_and_malformed_key_are_401(api: Api) -> None:
    prefix = api.key.split(".")[0]
    for key in (f"{prefix}.wrong", "no-dot", ".", "x" * 300):
        response = await api.call(METRICS, key=key)
        assert response.status_code == 401, key
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_server_key_reads_and_tracks_but_cannot_configure(api: Api) -> None:
    server = await api.server_key()
    assert (await api.call(METRICS, key=server)).status_code == 200
    assert await api.error_code(CREATE_METRIC, key=server) == "FORBIDDEN"
    assert (
        await api.error_code(
            'mutation { createApiKey(input: {name: "x", role: ADMIN}) { key } }', key=server
        )
        == "FORBIDDEN"
    )
    assert (await api.data(METRICS))["metrics"] == []


async def test_created_key_works_and_revoked_key_is_refused(api: Api) -> None:
    created = (
        await api.data(
            'mutation { createApiKey(input: {name: "ci", role: SERVER}) { key prefix name role } }'
        )
    )["createApiKey"]
    assert created["key"].startswith(created["prefix"] + ".")
    assert (created["name"], created["role"]) == ("ci", "SERVER")
    assert (await api.call(METRICS, key=created["key"])).status_code == 200
    revoked = await api.data(
        "mutation($p: String!) { revokeApiKey(prefix: $p) }", {"p": created["prefix"]}
    )
    assert revoked == {"revokeApiKey": True}
    response = await api.call(METRICS, key=created["key"])
    assert response.status_code == 401


async def test_revoking_another_tenants_key_does_nothing(api: Api, http: object) -> None:
    from conftest import new_tenant

    other = await new_tenant(api.client)
    other_prefix = other.key.split(".")[0]
    result = await api.data(
        "mutation($p: String!) { revokeApiKey(prefix: $p) }", {"p": other_prefix}
    )
    assert result == {"revokeApiKey": False}
    assert (await other.call(METRICS)).status_code == 200


async def test_only_a_hash_of_the_secret_is_stored(api: Api) -> None:
    from tortoise import Tortoise

    prefix, secret = api.key.split(".")
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT secret_hash FROM api_key WHERE prefix = $1"
        if Tortoise.get_connection("default").capabilities.dialect == "postgres"
        else "SELECT secret_hash FROM api_key WHERE prefix = ?",
        [prefix],
    )
    assert len(rows) == 1
    assert secret not in rows[0]["secret_hash"]
