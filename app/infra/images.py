"""Image sizes from their headers (Pillow reads the header on open and decodes nothing more)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError


class PillowHeaders:
    """The `ImageHeaders` port."""

    def size_of(self, data: bytes) -> tuple[int, int]:
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
            raise ValueError(str(error)) from error
        return int(width), int(height)
