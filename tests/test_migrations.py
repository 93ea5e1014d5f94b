"""The committed migrations cover the models: `tortoise makemigrations` finds nothing to add."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "app" / "persistence" / "migrations"


def test_models_have_no_changes_without_a_migration(tmp_path: Path) -> None:
    before = sorted(p.name for p in MIGRATIONS.glob("*.py"))
    tortoise = Path(sys.executable).with_name("tortoise")
    result = subprocess.run(
        [str(tortoise), "makemigrations", "-n", "drift_check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite://{tmp_path}/drift.sqlite3"},
    )
    created = sorted({p.name for p in MIGRATIONS.glob("*.py")} - set(before))
    for name in created:
        (MIGRATIONS / name).unlink()
    shutil.rmtree(MIGRATIONS / "__pycache__", ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert created == [], f"models changed without a migration: {result.stdout}"
