"""uploadBadge (ADMIN keys, GraphQL multipart requests) and the route that serves badges."""

from __future__ import annotations

import secrets

import strawberry
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.file_uploads import Upload

from app.api import permissions
from app.api.context import Info, Services
from app.domain import badges
from app.domain.errors import BadUserInput


@strawberry.type(description="An image Laurel now hosts.")
class UploadedBadge:
    url: str = strawberry.field(
        description="Absolute URL where Laurel serves it; use it as a badgeUrl. The same bytes "
        "uploaded again in the tenant give the same URL."
    )
    content_type: str = strawberry.field(description="From the file's bytes.")
    size: int = strawberry.field(description="Bytes, at most 1048576.")
    width: int = strawberry.field(description="Pixels, 1 to 2048.")
    height: int = strawberry.field(description="Pixels, 1 to 2048.")
    sha256: str = strawberry.field(description="Hex SHA-256 of the bytes.")


@strawberry.type
class BadgeMutations:
    @strawberry.mutation(
        description="Host an image sent in a multipart request: PNG, JPEG, GIF or WebP by "
        "content, at most 1 MiB and 2048 x 2048 px."
    )
    async def upload_badge(self, info: Info, file: Upload) -> UploadedBadge:
        caller = permissions.admin(info)
        services = info.context.services
        if not isinstance(file, UploadFile):  # a value in the JSON, not a file part
            raise BadUserInput("send the file as a part of a multipart request", field="file")
        data = await file.read(badges.MAX_BYTES + 1)
        badge = await badges.upload(
            services.badges, services.image_headers, caller.tenant_id, data, secrets.token_hex(16)
        )
        base = services.public_url or str(info.context.request.base_url).rstrip("/")
        return UploadedBadge(
            url=f"{base}{badges.SERVED_PATH}{badge.file_name}",
            content_type=badge.content_type,
            size=badge.size,
            width=badge.width,
            height=badge.height,
            sha256=badge.sha256,
        )


async def serve(request: Request) -> Response:
    """Public (badges appear in <img> tags): long-cached, never sniffed, never scripted."""
    services: Services = request.app.state.services
    name = badges.NAME_PATTERN.fullmatch(request.path_params["name"])
    found = await services.badges.image(name[1]) if name else None
    if name is None or found is None or found[0].extension != name[2]:
        return JSONResponse({"error": "no such badge"}, status_code=404)
    badge, data = found
    return Response(
        data,
        media_type=badge.content_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "ETag": f'"{badge.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
