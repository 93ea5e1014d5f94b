"""Tortoise configuration, built from a database URL.

`TORTOISE_ORM` serves the `tortoise` command line (makemigrations, migrate); the app builds its
own from settings through `tortoise_config`.
"""

from __future__ import annotations

import os
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from app.infra.settings import DEFAULT_DATABASE_URL

MODELS_MODULE = "app.persistence.models"
MIGRATIONS_MODULE = "app.persistence.migrations"


def tortoise_config(database_url: str, *, pool_size: int = 10) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url, pool_size)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(database_url: str, pool_size: int) -> str | dict[str, Any]:
    if database_url.startswith("sqlite"):
        # WAL with synchronous=NORMAL: a committed event survives a process crash, not a power loss.
        return f"{database_url}?journal_mode=WAL&synchronous=NORMAL&busy_timeout=5000"
    config = expand_db_url(database_url)
    config["credentials"].update(maxsize=pool_size, reset=_keep_session)
    return config


async def _keep_session(connection: object) -> None:
    """Skip asyncpg's reset query on every release: a round trip per transaction, and Laurel
    leaves no session state on pooled connections (its one advisory lock is released by hand)."""


def sqlite_file(database_url: str) -> str:
    return database_url.removeprefix("sqlite://").split("?", 1)[0]


TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
