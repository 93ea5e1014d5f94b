"""Progress and rarity: how far a user is, and how rare an achievement is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    current: float
    target: float

    @property
    def percent(self) -> float:
        if self.target <= 0:
            return 100.0
        return max(0.0, min(100.0, self.current / self.target * 100.0))


def rarity(completions: int, users: int) -> float:
    """Percentage of the tenant's users who completed it; 0 for a tenant with no users."""
    if users <= 0:
        return 0.0
    return min(100.0, completions / users * 100.0)
