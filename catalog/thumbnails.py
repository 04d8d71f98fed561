"""Small copies of product images for result grids and the admin."""

import io

from PIL import Image

THUMBNAIL_SIZE = 320


def make_thumbnail(content: bytes, *, size: int = THUMBNAIL_SIZE) -> bytes:
    """A WebP at most `size` px on its longer side; the input is an already-normalised image."""
    with Image.open(io.BytesIO(content)) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at reduced scale, much faster
        thumb = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        thumb.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()
