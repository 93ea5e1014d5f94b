"""Attributes: key/value pairs on users and events, and the one rule for matching them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Attribute:
    key: str
    value: str


def attributes_match(
    required: Collection[Attribute], user_attributes: Collection[Attribute]
) -> bool:
    """Every required pair is among the user's: what achievements (and, later, points triggers,
    boosts and leaderboards) demand of a user."""
    have = {a.key: a.value for a in user_attributes}
    return all(have.get(r.key) == r.value for r in required)
