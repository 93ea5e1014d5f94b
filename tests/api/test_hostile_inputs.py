"""Inputs a probe found to reach INTERNAL errors or silent refusals: each is now a coded error
that changes nothing."""

from __future__ import annotations

from conftest import Api

COMPOSITE = """
mutation($k: String!, $p: [String!]!) {
  createAchievement(input: {key: $k, name: $k, trigger: {composite: {prerequisiteKeys: $p}}}) {
    __typename
  }
}
"""


async def test_occurred_at_before_the_epoch_or_beyond_a_zones_dates_is_refused(api: Api) -> None:
    await api.metric()
    for occurred_at, tz in (
        ("0001-01-01T00:00:00+14:00", None),
        ("0001-01-01T12:00:00+00:00", "Etc/GMT+12"),
        ("1969-12-31T23:59:59Z", None),
    ):
        user: dict[str, str] = {"id": "early"} | ({"tz": tz} if tz else {})
        body = await api.gql(
            "mutation($i: TrackEventInput!) { trackEvent(input: $i) { total } }",
            {"i": {"metricKey": "lessons", "user": user, "value": 1, "occurredAt": occurred_at}},
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert body["errors"][0]["extensions"]["field"] == "occurredAt"
    assert (await api.data('{ user(id: "early") { id } }'))["user"] is None
    assert "errors" not in await api.track("early", 1, occurredAt="1970-01-01T00:00:00Z")


async def test_revoking_an_impossible_prefix_is_bad_input(api: Api) -> None:
    code = await api.error_code(
        "mutation($p: String!) { revokeApiKey(prefix: $p) }", {"p": "x" * 33}
    )
    assert code == "BAD_USER_INPUT"


async def test_composites_nest_at_most_32_levels(api: Api) -> None:
    await api.achievement("base", {"api": True}, active=False)
    previous = "base"
    for level in range(1, 33):
        body = await api.gql(COMPOSITE, {"k": f"c{level}", "p": [previous]})
        assert "errors" not in body, (level, body)
        previous = f"c{level}"
    body = await api.gql(COMPOSITE, {"k": "c33", "p": [previous, "base"]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "32 levels" in body["errors"][0]["message"]
    assert (await api.data('{ achievement(key: "c33") { __typename } }'))["achievement"] is None


PREREQUISITES = """
{ achievement(key: "both") { ... on CompositeAchievement {
    prerequisites { ... on Achievement { key status } } } } }
"""


async def test_inactive_prerequisites_are_shown_to_admin_keys_only(api: Api) -> None:
    await api.achievement("live", {"api": True})
    await api.achievement("draft", {"api": True}, active=False)
    await api.achievement("both", {"composite": {"prerequisiteKeys": ["live", "draft"]}})
    admin = (await api.data(PREREQUISITES))["achievement"]["prerequisites"]
    assert [p["key"] for p in admin] == ["live", "draft"]
    server = await api.server_key()
    shown = (await api.data(PREREQUISITES, key=server))["achievement"]["prerequisites"]
    assert shown == [{"key": "live", "status": "ACTIVE"}]
    token = await api.data('mutation { createUserToken(userId: "u") { token } }')
    as_user = await api.data(PREREQUISITES, token=token["createUserToken"]["token"])
    assert [p["key"] for p in as_user["achievement"]["prerequisites"]] == ["live"]
