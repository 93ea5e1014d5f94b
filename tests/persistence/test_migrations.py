"""Migrations: they cover the models, and upgrading keeps what was waiting to be sent."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT, throwaway_database

SCRIPTS = Path(__file__).parent / "scripts"


def test_models_have_no_changes_without_a_migration(tmp_path: Path) -> None:
    """`tortoise makemigrations` writes into the migrations package, so it runs on a copy."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    migrations = tmp_path / "app" / "persistence" / "migrations"
    before = {p.name for p in migrations.glob("*.py")}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("tortoise")), "makemigrations", "-n", "drift_check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(tmp_path),
            "DATABASE_URL": f"sqlite://{tmp_path}/drift.sqlite3",
        },
    )
    assert result.returncode == 0, result.stderr
    created = {p.name for p in migrations.glob("*.py")} - before
    assert created == set(), f"models changed without a migration: {result.stdout}"


def upgraded(script: str, database: str) -> list[dict[str, Any]]:
    """What an upgrade script (tests/persistence/scripts) printed of a throwaway database."""
    with throwaway_database(database) as url:
        result = subprocess.run(
            [sys.executable, str(SCRIPTS / script), url],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return rows


def test_upgrading_carries_pending_unlocks_into_the_general_outbox() -> None:
    rows = upgraded("upgrade_outbox.py", "laurel_upgrade")
    assert [(r["tenant_id"], r["type"], r["published_at"]) for r in rows] == [
        (1, "achievement.completed", None)
    ]
    assert json.loads(rows[0]["data"]) == {
        "completionId": 11,
        "userId": "ada",
        "achievementId": 2,
        "completedAt": "2026-01-02T03:04:06+00:00",
    }


def test_upgrading_gives_each_leaderboard_group_one_shelf_of_all_its_rows() -> None:
    rows = upgraded("upgrade_shelves.py", "laurel_upgrade_shelves")
    assert [(r["external_id"], r["rows"]) for r in rows] == [("", 5)]
    assert float(rows[0]["sort_value"]) == float("-inf")
