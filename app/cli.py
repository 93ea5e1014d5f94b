"""The `laurel` command: serve, migrate, back up, import events, and manage tenants and keys.

A new key is printed alone on the last line of standard output, so scripts can take it with
`tail -1`; everything else goes before it, or to standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from tortoise import Tortoise

from app.domain.model import ApiKeyRole
from app.infra.auth import generate_key
from app.infra.event_import import ImportRefused, import_file
from app.infra.metrics import MULTIPROCESS_DIRECTORY
from app.infra.settings import Settings, get_settings
from app.persistence import directory
from app.persistence.config import sqlite_file, tortoise_config
from app.persistence.migrate import migrate, startup_lock
from app.persistence.tenants import TortoiseKeyStore

Command = Callable[[argparse.Namespace], Awaitable[None]]


class Refused(Exception):
    """What the command could not do, in one line for the operator; exit code 1."""


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "backup":
            _backup(args)
        elif args.command == "import":
            _import(args)
        else:
            asyncio.run(_with_database(args.run, args))
    except Refused as refusal:
        print(f"laurel: {refusal}", file=sys.stderr)
        sys.exit(1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="laurel", description="Laurel achievements engine")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="processes (PostgreSQL only)")
    serve.add_argument("--key-file", help="also write a first-start ADMIN key to this file")
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrated)
    backup = commands.add_parser("backup", help="copy a SQLite database safely while it runs")
    backup.add_argument("path")
    events = commands.add_parser(
        "import",
        help="send a file of events (JSON lines) to a running Laurel through trackEvents",
    )
    events.add_argument("file", help="one TrackEventInput as JSON per line")
    events.add_argument(
        "--url",
        default=os.environ.get("LAUREL_URL", "http://127.0.0.1:8000"),
        help="the server (default: $LAUREL_URL or http://127.0.0.1:8000)",
    )
    events.add_argument(
        "--api-key",
        default=os.environ.get("LAUREL_API_KEY"),
        help="an ADMIN or SERVER key (default: $LAUREL_API_KEY)",
    )
    events.add_argument("--batch-size", type=int, default=500, help="events per request (1-1000)")
    events.add_argument(
        "--key-prefix",
        help="what derived idempotency keys start from (default: the file's name); keep it "
        "the same to resume",
    )

    apikey = commands.add_parser("apikey", help="API keys").add_subparsers(
        dest="action", required=True
    )
    create_key = apikey.add_parser("create", help="create a key")
    create_key.add_argument("--role", choices=["admin", "server"], default="server")
    create_key.add_argument("--tenant", help="tenant id or name (default: the default tenant)")
    create_key.add_argument("name")
    create_key.set_defaults(run=_create_key)
    list_keys = apikey.add_parser("list", help="list keys (prefixes, never secrets)")
    list_keys.add_argument("--tenant", help="tenant id or name (default: every tenant)")
    list_keys.set_defaults(run=_list_keys)
    revoke = apikey.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(run=_revoke_key)

    tenant = commands.add_parser("tenant", help="tenants").add_subparsers(
        dest="action", required=True
    )
    create_tenant = tenant.add_parser("create", help="create a tenant and its first ADMIN key")
    create_tenant.add_argument("name")
    create_tenant.set_defaults(run=_create_tenant)
    tenant.add_parser("list", help="list tenants").set_defaults(run=_list_tenants)
    return parser


def _import(args: argparse.Namespace) -> None:
    if not args.api_key:
        raise Refused("an API key is needed: --api-key or LAUREL_API_KEY")
    try:
        progress = import_file(
            Path(args.file),
            url=args.url,
            api_key=args.api_key,
            batch_size=args.batch_size,
            prefix=args.key_prefix,
        )
    except ImportRefused as refusal:
        raise Refused(str(refusal)) from refusal
    print(
        f"imported {progress.sent:,} events from {args.file} "
        f"({progress.replayed:,} of them already stored)"
    )


def _serve(args: argparse.Namespace) -> None:
    if args.key_file:  # read by the app's settings, in this process or in its workers
        os.environ["LAUREL_ADMIN_KEY_FILE"] = str(Path(args.key_file).resolve())
    settings = get_settings()
    if args.workers < 1:
        raise Refused("--workers must be at least 1")
    if args.workers > 1 and settings.is_sqlite:
        raise Refused(
            "--workers needs PostgreSQL: SQLite takes one writing process per file "
            "(set DATABASE_URL=postgres://...)"
        )
    asyncio.run(_with_database(_reachable, args))
    host, port = args.host or settings.host, args.port or settings.port
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": args.workers,
        "proxy_headers": True,
        "log_level": "warning",
        # A WebSocket message may be as large as a request body (and a little for its frame);
        # the server refuses larger ones before reading them whole.
        "ws_max_size": settings.max_body_bytes + 64 * 1024,
    }
    listening = f"Laurel is serving http://{host}:{port}/graphql (GraphiQL in a browser)"
    config = uvicorn.Config("app.main:app", **options)
    if args.workers == 1:
        LaurelServer(config, listening).run()
        return
    # uvicorn's process supervisor makes its own servers: its workers close WebSockets on
    # shutdown with 1012 (service restart), without the `complete` a single process sends.
    print(f"{listening} with {args.workers} processes", flush=True)
    with tempfile.TemporaryDirectory(prefix="laurel-metrics-") as shared:
        # Read by prometheus-client as each worker imports it: /metrics adds the workers up.
        os.environ[MULTIPROCESS_DIRECTORY] = shared
        uvicorn.run("app.main:app", **options)


class LaurelServer(uvicorn.Server):
    """uvicorn's server, saying where it listens once it does (so a second start that waits is
    no mystery), and ending WebSockets cleanly before it drops connections on shutdown."""

    def __init__(self, config: uvicorn.Config, line: str) -> None:
        super().__init__(config)
        self.line = line

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.line, flush=True)

    async def shutdown(self, sockets: Any = None) -> None:
        """The app leaves its hook in its state (app.main); uvicorn wraps the app in
        middleware, each holding the next as `.app`."""
        app = self.config.loaded_app
        while app is not None and not hasattr(app, "state"):
            app = getattr(app, "app", None)
        hook = getattr(getattr(app, "state", None), "before_shutdown", None)
        if hook is not None:
            await hook("the server is shutting down")
        await super().shutdown(sockets)


async def _with_database(action: Command, args: argparse.Namespace) -> None:
    settings = get_settings()
    if settings.is_sqlite:
        Path(sqlite_file(settings.database_url)).parent.mkdir(parents=True, exist_ok=True)
    try:
        await Tortoise.init(
            config=tortoise_config(settings.database_url), _enable_global_fallback=True
        )
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as error:
        await Tortoise.close_connections()
        raise Refused(_unreachable(settings, error)) from error
    try:
        async with startup_lock(settings.database_url):
            await migrate(settings.database_url)
        await action(args)
    finally:
        await Tortoise.close_connections()


def _unreachable(settings: Settings, error: BaseException) -> str:
    """The driver's own words (Tortoise wraps them), first line only."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).strip()
    reason = text.splitlines()[0] if text else type(error).__name__
    hint = (
        "check that the directory is writable"
        if settings.is_sqlite
        else "create it (createdb) or check host, port and credentials"
    )
    return f"cannot use the database {masked(settings.database_url)}: {reason}; {hint}"


def masked(url: str) -> str:
    """The URL without its password, fit to print."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def _reachable(args: argparse.Namespace) -> None:
    """`laurel serve` checks (and migrates) before the server starts, so a database that does
    not answer is one line, not a start-up traceback."""


async def _migrated(args: argparse.Namespace) -> None:
    print("migrated")


async def _tenant(reference: str | None) -> int:
    if reference is None:
        return await TortoiseKeyStore().default_tenant()
    tenant_id = await directory.tenant_by_reference(reference)
    if tenant_id is None:
        raise Refused(f"no tenant {reference!r} (see `laurel tenant list`)")
    return tenant_id


async def _create_key(args: argparse.Namespace) -> None:
    role = ApiKeyRole(args.role.upper())
    tenant_id = await _tenant(args.tenant)
    new = generate_key()
    await TortoiseKeyStore().create_key(tenant_id, new.prefix, new.secret_hash, args.name, role)
    print(f"{role.value} key {new.prefix} for tenant {tenant_id}, shown this once:")
    print(new.key)


async def _list_keys(args: argparse.Namespace) -> None:
    tenant_id = None if args.tenant is None else await _tenant(args.tenant)
    print(f"{'prefix':<18} {'role':<7} {'tenant':>6}  {'created':<20} {'revoked':<20} name")
    for key in await directory.keys(tenant_id):
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M:%S}" if key.revoked_at else "-"
        print(
            f"{key.prefix:<18} {key.role:<7} {key.tenant_id:>6}  "
            f"{key.created_at:%Y-%m-%d %H:%M:%S}  {revoked:<20} {key.name}"
        )


async def _revoke_key(args: argparse.Namespace) -> None:
    if not await directory.revoke(args.prefix):
        raise Refused(f"no active key with prefix {args.prefix!r}")
    print(f"revoked {args.prefix} (other instances refuse it within 5 s)")


async def _create_tenant(args: argparse.Namespace) -> None:
    keys = TortoiseKeyStore()
    tenant_id = await keys.create_tenant(args.name)
    new = generate_key()
    await keys.create_key(tenant_id, new.prefix, new.secret_hash, "first admin", ApiKeyRole.ADMIN)
    print(f"tenant {tenant_id} ({args.name}); its first ADMIN key, shown this once:")
    print(new.key)


async def _list_tenants(args: argparse.Namespace) -> None:
    print(f"{'id':>6}  {'users':>8}  {'created':<20} name")
    for tenant in await directory.tenants():
        created = f"{tenant.created_at:%Y-%m-%d %H:%M:%S}"
        print(f"{tenant.id:>6}  {tenant.users:>8}  {created:<20} {tenant.name}")


def _backup(args: argparse.Namespace) -> None:
    """SQLite's online backup API copies a consistent snapshot while the server writes; a plain
    copy of a WAL-mode file can miss committed transactions or tear pages."""
    settings = get_settings()
    if not settings.is_sqlite:
        raise Refused("for PostgreSQL, use pg_dump (see docs/operations.md)")
    target = Path(args.path)
    if target.exists():
        raise Refused(f"{target} exists already; pick a new file")
    source = sqlite3.connect(sqlite_file(settings.database_url))
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()
    print(f"backed up to {target}")


if __name__ == "__main__":
    main()
