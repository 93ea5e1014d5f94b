"""The `laurel` command as an operator types it: outputs, exit codes, no tracebacks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BACKEND, ROOT, free_port, healthy_within, throwaway_database

LAUREL = str(Path(sys.executable).with_name("laurel"))


def laurel(
    *args: str, database_url: str, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [LAUREL, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "DATABASE_URL": database_url, "LAUREL_LOG_LEVEL": "WARNING"},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:  # one database for the module, not the session's
    with throwaway_database("laurel_cli") as url:
        yield url


def test_tenants_and_keys_from_the_command_line(database_url: str) -> None:
    made = laurel("tenant", "create", "acme", database_url=database_url).stdout.splitlines()
    assert "ADMIN key" in made[-2] and made[-1].startswith("lrl_")
    tenant_id = made[-2].split()[1]
    server = laurel(
        "apikey",
        "create",
        "--tenant",
        "acme",
        "--role",
        "server",
        "backend",
        database_url=database_url,
    ).stdout.splitlines()
    assert server[-2].startswith("SERVER key ") and f"tenant {tenant_id}" in server[-2]
    prefix, secret = server[-1].split(".")

    listing = laurel("apikey", "list", "--tenant", tenant_id, database_url=database_url).stdout
    assert prefix in listing and "SERVER" in listing and "ADMIN" in listing
    assert secret not in listing and made[-1].split(".")[1] not in listing
    assert "acme" in laurel("tenant", "list", database_url=database_url).stdout

    assert "revoked" in laurel("apikey", "revoke", prefix, database_url=database_url).stdout
    again = laurel("apikey", "revoke", prefix, database_url=database_url, check=False)
    assert again.returncode == 1 and again.stderr.startswith("laurel: no active key")
    assert "Traceback" not in again.stderr


def test_an_unknown_tenant_is_one_line(database_url: str) -> None:
    result = laurel(
        "apikey", "create", "--tenant", "nobody", "x", database_url=database_url, check=False
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "laurel: no tenant 'nobody' (see `laurel tenant list`)"
    ]


@pytest.mark.skipif(BACKEND != "postgres", reason="runs on PostgreSQL")
def test_a_database_that_does_not_exist_is_one_line_with_the_password_masked() -> None:
    url = "postgres://postgres:s3cret@127.0.0.1:5432/laurel_no_such_database"
    result = laurel("tenant", "list", database_url=url, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "postgres://postgres:***@127.0.0.1:5432/laurel_no_such_database" in lines[0]
    assert "does not exist" in lines[0] and "s3cret" not in result.stderr


def test_a_database_that_does_not_answer_is_one_line_for_serve_too() -> None:
    url = f"postgres://postgres@127.0.0.1:{free_port()}/laurel"
    result = laurel("serve", database_url=url, check=False)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("laurel: cannot use the database postgres://")


def test_several_workers_need_postgres(tmp_path: Path) -> None:
    result = laurel(
        "serve", "--workers", "2", database_url=f"sqlite://{tmp_path}/l.sqlite3", check=False
    )
    assert result.returncode == 1 and "--workers needs PostgreSQL" in result.stderr


def test_a_sqlite_backup_restores(tmp_path: Path) -> None:
    live = f"sqlite://{tmp_path}/live.sqlite3"
    laurel("tenant", "create", "kept", database_url=live)
    copy = tmp_path / "copy.sqlite3"
    assert "backed up" in laurel("backup", str(copy), database_url=live).stdout
    restored = laurel("tenant", "list", database_url=f"sqlite://{copy}").stdout
    assert "kept" in restored
    twice = laurel("backup", str(copy), database_url=live, check=False)
    assert twice.returncode == 1 and "exists already" in twice.stderr


def test_the_first_start_shows_the_key_first_and_where_it_listens(tmp_path: Path) -> None:
    port = free_port()
    key_file = tmp_path / "admin.key"
    process = subprocess.Popen(
        [LAUREL, "serve", "--port", str(port), "--key-file", str(key_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != "LAUREL_BOOTSTRAP_ADMIN_KEY"},
            "DATABASE_URL": f"sqlite://{tmp_path}/first.sqlite3",
        },
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert healthy_within(f"http://127.0.0.1:{port}", 30)
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert lines[0].startswith("Laurel created an ADMIN key")
    key = lines[1].strip()
    assert key.startswith("lrl_") and "apikey create" in lines[2]
    assert lines[3].strip() == (
        f"Laurel is serving http://127.0.0.1:{port}/graphql (GraphiQL in a browser)"
    )
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
