"""The `laurel` command: serve, migrate, and make tenants and keys."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from tortoise import Tortoise

from app.domain.model import ApiKeyRole
from app.infra.auth import generate_key
from app.infra.settings import get_settings
from app.persistence.config import sqlite_file, tortoise_config
from app.persistence.migrate import migrate, startup_lock
from app.persistence.tenants import TortoiseKeyStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="laurel", description="Laurel achievements engine")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("migrate", help="apply database migrations")
    apikey = commands.add_parser("apikey", help="API keys").add_subparsers(
        dest="action", required=True
    )
    create_key = apikey.add_parser("create", help="create a key in the default tenant")
    create_key.add_argument("--role", choices=["admin", "server"], default="server")
    create_key.add_argument("name")
    tenant = commands.add_parser("tenant", help="tenants").add_subparsers(
        dest="action", required=True
    )
    create_tenant = tenant.add_parser("create", help="create a tenant and its first ADMIN key")
    create_tenant.add_argument("name")
    args = parser.parse_args(argv)

    if args.command == "serve":
        _serve(args.host, args.port)
    elif args.command == "migrate":
        asyncio.run(_with_database(lambda: _print("migrated")))
    elif args.command == "apikey":
        asyncio.run(_with_database(lambda: _create_key(args.name, ApiKeyRole(args.role.upper()))))
    else:
        asyncio.run(_with_database(lambda: _create_tenant(args.name)))


def _serve(host: str | None, port: int | None) -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:app",
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        log_level="warning",
        # A WebSocket message may be as large as a request body (and a little for its frame);
        # the server refuses larger ones before reading them whole.
        ws_max_size=settings.max_body_bytes + 64 * 1024,
    )


async def _with_database(action: Callable[[], Awaitable[None]]) -> None:
    settings = get_settings()
    if settings.is_sqlite:
        Path(sqlite_file(settings.database_url)).parent.mkdir(parents=True, exist_ok=True)
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    try:
        async with startup_lock(settings.database_url):
            await migrate(settings.database_url)
        await action()
    finally:
        await Tortoise.close_connections()


async def _print(message: str) -> None:
    print(message)


async def _create_key(name: str, role: ApiKeyRole) -> None:
    keys = TortoiseKeyStore()
    tenant_id = await keys.default_tenant()
    new = generate_key()
    await keys.create_key(tenant_id, new.prefix, new.secret_hash, name, role)
    print(new.key)


async def _create_tenant(name: str) -> None:
    keys = TortoiseKeyStore()
    tenant_id = await keys.create_tenant(name)
    new = generate_key()
    await keys.create_key(tenant_id, new.prefix, new.secret_hash, "first admin", ApiKeyRole.ADMIN)
    print(f"tenant {tenant_id}")
    print(new.key)
