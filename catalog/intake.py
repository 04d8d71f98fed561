"""Image intake: the one gate every uploaded image passes, merchant or shopper.

Admin uploads, the merchant API and shopper photo search all come through here,
so they accept and refuse exactly the same files with the same sentences.

What is accepted, and how it is judged:

* JPEG, PNG and WebP only, recognised from the bytes (magic numbers). The file
  name and the client's content type are never consulted: both are whatever the
  browser or the caller says. Anything else is refused (``rule="type"``), naming
  what it looks like where that is cheap to tell (PDF, SVG, HTML, XML, GIF, ...).
  GIF is refused as a type before Pillow sees it, so a 500-frame GIF costs one
  ``bytes.startswith``, not 500 frame decodes.
* At most ``settings.MAX_UPLOAD_BYTES`` (``rule="bytes"``) and at most
  ``settings.MAX_IMAGE_PIXELS`` (``rule="pixels"``). The pixel count is read from
  the header through Pillow's lazy ``Image.open`` before any pixel is decoded.
  Pillow has its own, process-wide bomb limit that may fire first
  (``DecompressionBombError``); that is refused under the same rule, with the
  dimensions read from the header by this module so the message still names them.
* A file that starts like an image but cannot be decoded to the end (truncated,
  damaged) is refused (``rule="corrupt"``); zero bytes are ``rule="empty"``.

Animated images (animated WebP, APNG): the policy is to keep the first frame and
say so in ``NormalisedImage.notes``. A product photo is a still; refusing would
make merchants re-export files that are fine in every other respect. Only the
first frame is decoded. No refusal uses ``rule="animated"`` under this policy.

What a merchant image becomes (``normalise_merchant_image``):

* EXIF orientation is applied to the pixels, then every piece of metadata is
  dropped: EXIF (GPS included), XMP, comments, text chunks. An ICC profile is
  kept only when it describes RGB and the pixels are RGB; a CMYK image is
  converted to sRGB through its profile (or plainly, without one).
* Pixels become 8-bit RGB, or RGBA when the source has transparency and the
  output format can carry it (PNG, WebP). 16-bit samples are scaled, not clipped.
* The format is kept: JPEG -> JPEG (quality 90), PNG -> PNG, WebP -> WebP (lossy,
  quality 90; a lossless WebP is re-encoded lossy, which is fine for catalogue
  photos and keeps the stored size predictable).

Everything here is a pure function of bytes: nothing is written to disk, logged
or cached, which is what shopper photos need (they are never stored).
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from PIL import Image, ImageCms, ImageOps, features

__all__ = [
    "ANIMATED_NOTE",
    "QUERY_IMAGE_MIN_EDGE",
    "ImageRejected",
    "NormalisedImage",
    "decode_query_image",
    "normalise_merchant_image",
    "read_upload",
]


class ImageRejected(Exception):
    """Refusal with a message a merchant understands.

    ``detail`` is that message (a full sentence); ``rule`` is a short code:
    ``"type"``, ``"bytes"``, ``"pixels"``, ``"animated"``, ``"corrupt"`` or ``"empty"``.
    """

    def __init__(self, detail: str, rule: str):
        super().__init__(detail)
        self.detail = detail
        self.rule = rule

    def __repr__(self) -> str:
        return f"ImageRejected(rule={self.rule!r}, detail={self.detail!r})"


@dataclass(frozen=True)
class NormalisedImage:
    content: bytes  # the re-encoded image, metadata stripped
    content_type: str  # "image/jpeg" | "image/png" | "image/webp"
    extension: str  # "jpg" | "png" | "webp"
    width: int
    height: int
    sha256: str  # hex sha256 of `content` (the stored bytes)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Format:
    pil_name: str  # Pillow's format name, to open with this plugin and no other
    content_type: str
    extension: str
    keeps_alpha: bool


_JPEG = _Format("JPEG", "image/jpeg", "jpg", keeps_alpha=False)
_PNG = _Format("PNG", "image/png", "png", keeps_alpha=True)
_WEBP = _Format("WEBP", "image/webp", "webp", keeps_alpha=True)

ANIMATED_NOTE = "animated image: the first frame was kept"

_NOT_ACCEPTED = "The file is not a JPEG, PNG or WebP image"

# What Pillow raises for data it cannot make sense of. Its fuzz tests treat these
# as the expected outcomes of hostile input; anything else is a bug worth a 500.
_DECODE_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # Pillow's "not a PNG file", broken chunks
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
)

# Samples of more than 8 bits: Pillow's plain convert() clips them to white.
_WIDE_INTEGER_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N"}

_JPEG_QUALITY = 90
_WEBP_QUALITY = 90


# --- reading ------------------------------------------------------------------


def read_upload(fileobj: IO[bytes] | Any, *, max_bytes: int | None = None) -> bytes:
    """Read an upload (a Django ``UploadedFile`` or any binary file-like object).

    Reads at most ``max_bytes + 1`` bytes, so an oversized upload costs no more
    memory than an accepted one. A seekable file is read from its start (a form
    may already have read it). ``max_bytes`` defaults to ``settings.MAX_UPLOAD_BYTES``.
    """
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    seekable = getattr(fileobj, "seekable", None)
    if callable(seekable) and seekable():
        fileobj.seek(0)
    chunks: list[bytes] = []
    received = 0
    wanted = limit + 1
    while received < wanted:
        # read() may return less than asked for (pipes, sockets): loop until EOF.
        chunk = fileobj.read(min(wanted - received, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    data = b"".join(chunks)
    _check_byte_count(data, limit)
    return data


def _check_byte_count(data: bytes, limit: int) -> None:
    if not data:
        raise ImageRejected("The file is empty.", rule="empty")
    if len(data) > limit:
        raise ImageRejected(
            f"The file is larger than the {_human_bytes(limit)} limit.", rule="bytes"
        )


# --- recognising the type -----------------------------------------------------


def _sniff(data: bytes) -> _Format:
    """Tell the format from the magic numbers, or refuse naming what it looks like."""
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _WEBP
    looks_like = _describe_other(data)
    if looks_like:
        raise ImageRejected(f"{_NOT_ACCEPTED} (it looks like {looks_like}).", rule="type")
    raise ImageRejected(f"{_NOT_ACCEPTED}.", rule="type")


def _describe_other(data: bytes) -> str | None:
    """A few words on what a refused file seems to be; None when unsure."""
    head = data[:1024]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image; please convert it to PNG"
    if b"%PDF-" in head:  # the PDF spec allows junk before the marker
        return "a PDF document"
    if head.startswith(b"BM"):
        return "a BMP image"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "a TIFF image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "a HEIC/HEIF photo; please export it as JPEG"
        return "a video or other ISO media file"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or office document"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "an icon (ICO) file"

    text = _as_text(head)
    if text is None:
        return None
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<svg") or (
        start.startswith(("<?xml", "<!doctype svg")) and "<svg" in start
    ):
        return "an SVG drawing"
    if start.startswith(("<!doctype html", "<html")) or "<html" in start[:200]:
        return "an HTML web page"
    if start.startswith("<?xml"):
        return "an XML document"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the 1 KB window is still text.
        if error.start < len(head) - 3:
            return None
        text = head[: error.start].decode("utf-8")
    printable = "".join(ch for ch in text.removeprefix("\ufeff") if ch not in "\t\r\n\f\v")
    return text if printable.isprintable() else None


# --- pixel limit ----------------------------------------------------------------


def _check_pixel_count(size: tuple[int, int] | None, max_pixels: int | None = None) -> None:
    limit = settings.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if size is None or size[0] * size[1] <= limit:
        return
    raise _too_many_pixels(size, limit)


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int | None = None) -> ImageRejected:
    pixels = settings.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    limit = f"{_human_megapixels(pixels)} megapixel limit"
    if size is None:
        detail = f"The image is too large: it has more pixels than the {limit}."
    else:
        detail = f"The image is too large: {size[0]}×{size[1]} pixels is more than the {limit}."
    return ImageRejected(detail, rule="pixels")


def _header_size(data: bytes, fmt: _Format) -> tuple[int, int] | None:
    """Width and height from the header, without Pillow (whose own limit can
    refuse to tell us). None when the header is not understood."""
    try:
        if fmt is _PNG:
            if data[12:16] == b"IHDR":
                return struct.unpack(">II", data[16:24])
            return None
        if fmt is _WEBP:
            return _webp_header_size(data)
        return _jpeg_header_size(data)
    except struct.error:
        return None


def _webp_header_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        return (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    if chunk == b"VP8L":  # lossless: 14-bit sizes minus one, after a 0x2f signature
        bits = int.from_bytes(data[21:25], "little")
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8 ":  # lossy: 14-bit sizes after the start code 9d 01 2a
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[26:30])
        return (width & 0x3FFF, height & 0x3FFF)
    return None


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_header_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return (width, height)
        if marker == 0xDA:  # start of scan: no frame header was found before it
            return None
        pos += 2 + length
    return None


# --- decoding ---------------------------------------------------------------------


@dataclass
class _Decoded:
    image: Image.Image  # oriented, 8-bit RGB or RGBA, metadata-free
    fmt: _Format
    icc_profile: bytes | None  # an RGB profile that still describes the pixels
    notes: tuple[str, ...]


def _decode(data: bytes, *, min_edge: int | None = None, max_pixels: int | None = None) -> _Decoded:
    _check_byte_count(data, settings.MAX_UPLOAD_BYTES)
    fmt = _sniff(data)
    if max_pixels is not None:
        # From the bytes, before Pillow reads anything: every format, whatever Pillow's own
        # bomb limit says.
        _check_pixel_count(_header_size(data, fmt), max_pixels)
    try:
        return _decode_checked(data, fmt, min_edge=min_edge, max_pixels=max_pixels)
    except ImageRejected:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(_header_size(data, fmt), max_pixels) from None
    except _DECODE_ERRORS:
        raise ImageRejected(
            "The image data is damaged or incomplete (the file may have been cut off). "
            "Please export it again and re-upload.",
            rule="corrupt",
        ) from None


def _decode_checked(
    data: bytes, fmt: _Format, *, min_edge: int | None = None, max_pixels: int | None = None
) -> _Decoded:
    # Lazy: reads the header only. formats= keeps Pillow to the plugin we sniffed,
    # so a file cannot be judged a JPEG by us and decoded as something else.
    with Image.open(io.BytesIO(data), formats=[fmt.pil_name]) as source:
        _check_pixel_count(source.size, max_pixels)
        if min_edge and source.format in ("JPEG", "MPO"):
            _draft(source, min_edge)
        notes: list[str] = []
        if getattr(source, "is_animated", False):
            source.seek(0)
            notes.append(ANIMATED_NOTE)
        source.load()  # the full decode of one frame; truncation is raised here
        icc_profile = source.info.get("icc_profile") or None
        frame = _shrunk(source, min_edge) if min_edge else source
        oriented = _apply_orientation(frame)
        image, icc_profile = _to_rgb_or_rgba(oriented, icc_profile, keep_alpha=fmt.keeps_alpha)
    image.info = {}  # EXIF, XMP, comments, text chunks, transparency keys: all gone
    return _Decoded(image=image, fmt=fmt, icc_profile=icc_profile, notes=tuple(notes))


def _draft(source: Image.Image, min_edge: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale where the short side stays >= min_edge:
    a 12-megapixel phone photo decodes in ~25 ms instead of ~150 ms (bench/search.md)."""
    width, height = source.size
    scale = min_edge / min(width, height)
    if scale <= 0.5:
        source.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))


def _shrunk(image: Image.Image, min_edge: int) -> Image.Image:
    """Formats without reduced-size decoding (PNG, WebP) are brought down right after the
    decode, by a whole factor keeping the short side >= min_edge, so that orientation and
    colour conversion copy the small image rather than the full one. A very long, thin
    image is brought down further, to QUERY_IMAGE_MAX_LONG_EDGE: CLIP sees a centre square."""
    short, long = min(image.size), max(image.size)
    factor = max(short // min_edge, math.ceil(long / QUERY_IMAGE_MAX_LONG_EDGE))
    if factor < 2:
        return image
    return image.reduce(factor)  # keeps info, EXIF orientation included


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        # Unreadable EXIF says nothing trustworthy about orientation; the pixels
        # themselves are fine, and the EXIF is about to be dropped anyway.
        return image.copy()


def _to_rgb_or_rgba(
    image: Image.Image, icc_profile: bytes | None, *, keep_alpha: bool
) -> tuple[Image.Image, bytes | None]:
    """8-bit RGB, or RGBA when there is transparency and the format keeps it.

    Returns the ICC profile that still describes the result (an RGB one, kept
    as is), or None when it was applied or does not fit any more.
    """
    mode = image.mode
    if mode == "CMYK":
        return _cmyk_to_srgb(image, icc_profile), None
    if mode in _WIDE_INTEGER_MODES:
        # Scale 0..65535 down to 0..255; convert() alone would clip to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
        mode = "L"
    wants_alpha = keep_alpha and (
        mode in ("RGBA", "LA", "PA", "La", "RGBa") or image.has_transparency_data
    )
    target = "RGBA" if wants_alpha else "RGB"
    converted = image if mode == target else image.convert(target)
    if converted is image:
        converted = image.copy()
    keep_profile = (
        icc_profile is not None and icc_profile[16:20] == b"RGB " and mode in ("RGB", "RGBA", "P")
    )
    return converted, icc_profile if keep_profile else None


def _cmyk_to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile and features.check("littlecms2"):
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image, source_profile, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, *_DECODE_ERRORS):
            pass  # a broken profile: fall back to the plain formula below
        else:
            if converted is not None:
                return converted
    return image.convert("RGB")


# --- public entry points -------------------------------------------------------------


def normalise_merchant_image(data: bytes) -> NormalisedImage:
    """Check a merchant's image and re-encode it for storage, metadata stripped.

    Raises ``ImageRejected`` for anything that is not an acceptable image; see the
    module docstring for the rules and the output policy.
    """
    decoded = _decode(data)
    image, fmt = decoded.image, decoded.fmt
    options: dict[str, Any] = {}
    if decoded.icc_profile:
        options["icc_profile"] = decoded.icc_profile
    if fmt is _JPEG:
        options.update(quality=_JPEG_QUALITY)
    elif fmt is _WEBP:
        options.update(quality=_WEBP_QUALITY)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt.pil_name, **options)
    content = buffer.getvalue()
    return NormalisedImage(
        content=content,
        content_type=fmt.content_type,
        extension=fmt.extension,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(content).hexdigest(),
        notes=decoded.notes,
    )


# A shopper's photo only feeds CLIP (224-336 px inputs) and a re-ranking model: a JPEG
# is decoded at reduced size as long as its short side stays at least this long.
QUERY_IMAGE_MIN_EDGE = 512
QUERY_IMAGE_MAX_LONG_EDGE = 4096


def decode_query_image(data: bytes, *, min_edge: int | None = None) -> Image.Image:
    """Check a shopper's photo and return it as an RGB image in memory.

    Same refusals as merchant images, with a smaller pixel budget
    (``settings.MAX_QUERY_IMAGE_PIXELS``, read from the header before decoding). Large JPEGs
    are decoded at reduced scale, other formats reduced right after decoding, no smaller
    than QUERY_IMAGE_MIN_EDGE on the short side. EXIF orientation is applied; transparent areas are laid on white (what a shopper
    saw on a page, rather than whatever colour hides under alpha 0). Nothing is written.

    ``min_edge`` raises the reduced-size floor, for a caller that will cut a small part out
    (a crop of a fifth of the photo needs five times the edge to keep its detail).
    """
    budget = min(settings.MAX_QUERY_IMAGE_PIXELS, settings.MAX_IMAGE_PIXELS)
    edge = max(QUERY_IMAGE_MIN_EDGE, min_edge or 0)
    decoded = _decode(data, min_edge=edge, max_pixels=budget)
    image = decoded.image
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    return image


# --- wording -------------------------------------------------------------------------


def _human_bytes(count: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if count >= size:
            return f"{_trim(count / size)} {unit}"
    return f"{count} bytes" if count != 1 else "1 byte"


def _human_megapixels(pixels: int) -> str:
    return _trim(pixels / 1_000_000)


def _trim(value: float) -> str:
    text = f"{value:.1f}" if value >= 1 else f"{value:.4g}"
    return text.removesuffix(".0")
