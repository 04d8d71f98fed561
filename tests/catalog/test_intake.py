"""Image intake: what merchants and shoppers may upload, and what is kept of it."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import tempfile
import zlib
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

from catalog.intake import (
    ANIMATED_NOTE,
    QUERY_IMAGE_MIN_EDGE,
    ImageRejected,
    NormalisedImage,
    decode_query_image,
    normalise_merchant_image,
    read_upload,
)

# --- building inputs (all small: the big ones are small files with lying headers) ---


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noise(size: tuple[int, int], mode: str = "RGB", seed: int = 1) -> Image.Image:
    channels = len(mode)
    return Image.frombytes(mode, size, random.Random(seed).randbytes(size[0] * size[1] * channels))


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose IHDR says width×height, with the CRC fixed so it parses."""
    data = bytearray(encode(Image.new("RGB", (1, 1)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """A lossless (VP8L) WebP: 14-bit width-1 and height-1 after the 0x2f signature."""
    data = bytearray(encode(Image.new("RGB", (1, 1)), "WEBP", lossless=True))
    assert data[12:16] == b"VP8L" and data[20] == 0x2F
    bits = int.from_bytes(data[21:25], "little")
    bits = (bits & ~0x0FFFFFFF) | (width - 1) | ((height - 1) << 14)
    data[21:25] = bits.to_bytes(4, "little")
    return bytes(data)


def gif_with_frames(count: int) -> bytes:
    # Every frame a different colour: Pillow merges identical neighbours.
    frames = [
        Image.new("RGB", (4, 4), (index % 256, index // 256 * 60, 0)) for index in range(count)
    ]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == count
    return data


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    return data


def jpeg_photo(size: tuple[int, int] = (64, 48)) -> bytes:
    return encode(noise(size), "JPEG", quality=90)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


SVG = (
    b'<?xml version="1.0"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
)
HTML = b"<!DOCTYPE html>\n<html><head><title>Shop</title></head><body>Hello</body></html>"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TEXT = b"This is a shopping list, not a photo.\nmilk\neggs\n"
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<catalog><item sku="1"/></catalog>'

ENTRY_POINTS = {
    "merchant": normalise_merchant_image,
    "shopper": decode_query_image,
}


def assert_human_sentence(detail: str) -> None:
    assert detail[0].isupper() and detail.endswith("."), detail
    assert " " in detail
    for leak in ("Error", "Traceback", "PIL", "b'", "\\x"):
        assert leak not in detail, detail


def reopen(result: NormalisedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    image.load()
    return image


def dominant_channel(pixel: tuple[int, ...]) -> int:
    return max(range(3), key=lambda channel: pixel[channel])


# --- refusals ----------------------------------------------------------------------

REFUSALS = [
    # (id, bytes, rule, words the merchant must see)
    ("text file renamed .jpg", TEXT, "type", "text file"),
    ("text file with a byte-order mark", b"\xef\xbb\xbf" + TEXT, "type", "text file"),
    ("HTML saved as .png", HTML, "type", "HTML"),
    ("SVG", SVG, "type", "SVG"),
    ("XML", XML, "type", "XML"),
    ("PDF", PDF, "type", "PDF document"),
    ("GIF with 500 frames", gif_with_frames(500), "type", "GIF"),
    ("unknown binary", bytes(range(256)) * 4, "type", "not a JPEG, PNG or WebP image"),
    ("zero bytes", b"", "empty", "empty"),
    ("truncated JPEG", truncated(jpeg_photo()), "corrupt", "damaged or incomplete"),
    (
        "truncated PNG",
        truncated(encode(noise((64, 48)), "PNG")),
        "corrupt",
        "damaged or incomplete",
    ),
    (
        "truncated WebP",
        truncated(encode(noise((64, 48)), "WEBP")),
        "corrupt",
        "damaged or incomplete",
    ),
    (
        "PNG signature then junk",
        b"\x89PNG\r\n\x1a\n" + b"junk" * 50,
        "corrupt",
        "damaged or incomplete",
    ),
    (
        "PNG claiming 30000x30000",
        png_claiming(30000, 30000),
        "pixels",
        "30000×30000 pixels is more than the",
    ),
    (
        "PNG claiming 8000x8000 (under Pillow's own limit)",
        png_claiming(8000, 8000),
        "pixels",
        "8000×8000 pixels is more than the",
    ),
    (
        "JPEG claiming 30000x30000",
        jpeg_claiming(30000, 30000),
        "pixels",
        "30000×30000 pixels is more than the",
    ),
    (
        "WebP claiming 16383x16383",
        webp_claiming(16383, 16383),
        "pixels",
        "16383×16383 pixels is more than the",
    ),
]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
@pytest.mark.parametrize(
    ("data", "rule", "words"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_bad_inputs_are_refused_with_the_rule_and_a_sentence(
    entry_point: Callable[[bytes], object], data: bytes, rule: str, words: str
) -> None:
    # given a file that is not an acceptable image
    # when merchant intake or shopper photo search receives it
    with pytest.raises(ImageRejected) as refused:
        entry_point(data)
    # then it is refused under the named rule, in words a merchant understands
    assert refused.value.rule == rule
    assert words in refused.value.detail
    assert_human_sentence(refused.value.detail)


@pytest.mark.parametrize("entry_point", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_a_gif_is_refused_from_its_first_bytes_without_decoding_frames(
    entry_point, monkeypatch
) -> None:
    # given a 500-frame GIF, and Pillow booby-trapped so that opening anything fails the test
    gif = gif_with_frames(500)

    def must_not_open(*args, **kwargs):
        raise AssertionError("Pillow was asked to open a GIF")

    monkeypatch.setattr(Image, "open", must_not_open)
    # when it is submitted
    with pytest.raises(ImageRejected) as refused:
        entry_point(gif)
    # then it is refused as the wrong type before any decoding
    assert refused.value.rule == "type"
    assert refused.value.detail.startswith(
        "The file is not a JPEG, PNG or WebP image (it looks like a GIF"
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_bytes_over_the_configured_limit_are_refused(entry_point, settings) -> None:
    # given a 2 KB limit and a valid PNG larger than that
    settings.MAX_UPLOAD_BYTES = 2048
    data = encode(noise((64, 64)), "PNG")
    assert len(data) > 2048
    # when it is submitted
    with pytest.raises(ImageRejected) as refused:
        entry_point(data)
    # then the limit is named in human units
    assert refused.value.rule == "bytes"
    assert refused.value.detail == "The file is larger than the 2 KB limit."


@pytest.mark.parametrize("entry_point", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_the_pixel_limit_comes_from_settings(entry_point, settings) -> None:
    # given a 20×10 image (200 pixels) and a limit one pixel below that
    settings.MAX_IMAGE_PIXELS = 199
    data = encode(Image.new("RGB", (20, 10), "white"), "PNG")
    # when it is submitted
    with pytest.raises(ImageRejected) as refused:
        entry_point(data)
    # then it is refused, naming its size and the limit
    assert refused.value.rule == "pixels"
    assert refused.value.detail == (
        "The image is too large: 20×10 pixels is more than the 0.000199 megapixel limit."
    )


def test_an_image_exactly_at_the_pixel_limit_is_accepted(settings) -> None:
    # given a 20×10 image (200 pixels) and a limit of 200
    settings.MAX_IMAGE_PIXELS = 200
    data = encode(Image.new("RGB", (20, 10), "white"), "PNG")
    # when it is normalised / then it is stored at full size
    assert (normalise_merchant_image(data).width, normalise_merchant_image(data).height) == (20, 10)


# --- read_upload -----------------------------------------------------------------


class ZeroStream:
    """A file-like object that would yield `total` zero bytes, never holding them all."""

    def __init__(self, total: int, most_per_read: int | None = None):
        self.total = total
        self.served = 0
        self.most_per_read = most_per_read

    def read(self, size: int = -1) -> bytes:
        left = self.total - self.served
        size = left if size < 0 else min(size, left)
        if self.most_per_read is not None:
            size = min(size, self.most_per_read)
        self.served += size
        return bytes(size)


def test_read_upload_refuses_16_mb_at_the_default_limit_reading_no_more_than_needed(
    settings,
) -> None:
    # given the default 15 MB limit and an upload that would be 16 MB
    assert settings.MAX_UPLOAD_BYTES == 15 * 1024 * 1024
    stream = ZeroStream(16 * 1024 * 1024)
    # when it is read
    with pytest.raises(ImageRejected) as refused:
        read_upload(stream)
    # then it is refused after reading one byte past the limit, and the limit is named
    assert refused.value.rule == "bytes"
    assert refused.value.detail == "The file is larger than the 15 MB limit."
    assert stream.served == 15 * 1024 * 1024 + 1


@pytest.mark.parametrize(
    ("size", "rule"),
    [(0, "empty"), (101, "bytes"), (10_000, "bytes")],
    ids=["zero bytes", "one byte over", "far over"],
)
def test_read_upload_refuses_empty_and_oversized_files(size, rule) -> None:
    # given an upload of `size` bytes and a 100-byte limit
    stream = ZeroStream(size)
    # when it is read
    with pytest.raises(ImageRejected) as refused:
        read_upload(stream, max_bytes=100)
    # then it is refused under the rule, never reading more than one byte past the limit
    assert refused.value.rule == rule
    assert_human_sentence(refused.value.detail)
    assert stream.served <= 101


def test_read_upload_returns_everything_up_to_the_limit_even_from_short_reads() -> None:
    # given a stream that hands out 7 bytes per read, 100 bytes in all
    stream = ZeroStream(100, most_per_read=7)
    # when it is read with a limit of exactly 100
    data = read_upload(stream, max_bytes=100)
    # then all of it comes back
    assert data == bytes(100)


def test_read_upload_reads_a_django_upload_from_its_start_whatever_it_is_called() -> None:
    # given a real PNG uploaded as "notes.txt", text/plain, already read once by a form
    png = encode(noise((8, 8)), "PNG")
    upload = SimpleUploadedFile("notes.txt", png, content_type="text/plain")
    upload.read()
    # when it is read and normalised
    result = normalise_merchant_image(read_upload(upload))
    # then the bytes decided: it is a PNG
    assert result.content_type == "image/png"


def test_a_text_file_uploaded_as_a_jpeg_is_refused_whatever_the_client_says() -> None:
    # given text named photo.jpg, sent as image/jpeg
    upload = SimpleUploadedFile("photo.jpg", TEXT, content_type="image/jpeg")
    # when it is read and normalised
    with pytest.raises(ImageRejected) as refused:
        normalise_merchant_image(read_upload(upload))
    # then it is refused as a text file
    assert refused.value.rule == "type"
    assert (
        refused.value.detail
        == "The file is not a JPEG, PNG or WebP image (it looks like a text file)."
    )


# --- what merchants' images become ------------------------------------------------------


def gps_tagged_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 1.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 2.5),
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = encode(noise((32, 24)), "JPEG", exif=exif, comment=b"shot at home", xmp=xmp)
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def test_a_gps_tagged_jpeg_is_accepted_and_loses_all_metadata() -> None:
    # given a JPEG carrying EXIF with a GPS block, a comment and XMP
    data = gps_tagged_jpeg()
    # when it is normalised
    result = normalise_merchant_image(data)
    # then it is still a JPEG of the same size, with no EXIF, GPS, comment or XMP left
    stored = reopen(result)
    assert (result.content_type, result.extension, stored.format) == ("image/jpeg", "jpg", "JPEG")
    assert stored.size == (32, 24)
    assert len(stored.getexif()) == 0
    assert not {"exif", "comment", "xmp"} & stored.info.keys()
    assert b"Exif\x00\x00" not in result.content
    assert b"PhoneMaker" not in result.content
    assert b"shot at home" not in result.content


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_orientation_is_applied_to_the_pixels(fmt) -> None:
    # given a 20×10 image, red on the left and blue on the right, tagged orientation 6
    # (the camera was turned: show it rotated 90° clockwise)
    image = Image.new("RGB", (20, 10), "blue")
    image.paste("red", (0, 0, 10, 10))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(image, fmt, exif=exif)
    # when it is normalised
    result = normalise_merchant_image(data)
    # then it is stored upright: 10×20, red on top, blue below, and no orientation tag
    stored = reopen(result).convert("RGB")
    assert (result.width, result.height) == stored.size == (10, 20)
    assert dominant_channel(stored.getpixel((5, 2))) == 0
    assert dominant_channel(stored.getpixel((5, 17))) == 2
    assert ExifTags.Base.Orientation not in stored.getexif()


def test_a_cmyk_jpeg_becomes_rgb_with_its_colours() -> None:
    # given a CMYK JPEG that is pure red (no cyan, full magenta and yellow)
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")
    # when it is normalised
    result = normalise_merchant_image(data)
    # then it is an RGB JPEG that is still red
    stored = reopen(result)
    assert (stored.format, stored.mode) == ("JPEG", "RGB")
    red, green, blue = stored.getpixel((8, 8))
    assert red > 200 and green < 60 and blue < 60


def test_a_cmyk_jpeg_with_an_unreadable_colour_profile_is_still_accepted_as_rgb() -> None:
    # given a red CMYK JPEG whose embedded ICC profile is garbage
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    data = encode(cmyk, "JPEG", icc_profile=b"not really a colour profile" * 8)
    # when it is normalised
    result = normalise_merchant_image(data)
    # then it is converted without the profile: RGB, red, and the garbage is not stored
    stored = reopen(result)
    assert stored.mode == "RGB" and "icc_profile" not in stored.info
    assert dominant_channel(stored.getpixel((8, 8))) == 0


def test_an_rgb_colour_profile_is_kept_with_the_pixels_it_describes() -> None:
    # given an RGB JPEG carrying an sRGB ICC profile
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(noise((16, 16)), "JPEG", icc_profile=profile)
    # when it is normalised / then the profile is still there, so colours display the same
    assert reopen(normalise_merchant_image(data)).info.get("icc_profile") == profile


def test_a_16_bit_png_becomes_8_bit_with_its_tones_scaled_not_clipped() -> None:
    # given a 16-bit greyscale PNG: black, mid grey, white
    image = Image.new("I;16", (3, 1))
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 32768)
    image.putpixel((2, 0), 65535)
    data = encode(image, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    # when it is normalised
    result = normalise_merchant_image(data)
    # then it is 8-bit and mid grey stays mid grey
    stored = reopen(result)
    assert stored.mode == "RGB"
    assert [stored.getpixel((x, 0)) for x in range(3)] == [
        (0, 0, 0),
        (128, 128, 128),
        (255, 255, 255),
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: _palette_with_transparent_index(),
        lambda: Image.merge(
            "LA", (Image.new("L", (4, 4), 90), Image.linear_gradient("L").resize((4, 4)))
        ),
    ],
    ids=["palette with transparency", "grey with alpha (LA)"],
)
def test_transparent_pngs_become_rgba_keeping_transparency(make) -> None:
    # given a PNG with transparency
    source = make()
    data = encode(source, "PNG")
    # when it is normalised
    result = normalise_merchant_image(data)
    # then it is an RGBA PNG whose transparency survived
    stored = reopen(result)
    assert (stored.format, stored.mode) == ("PNG", "RGBA")
    assert stored.getpixel((0, 0))[3] == source.convert("RGBA").getpixel((0, 0))[3]
    assert stored.getpixel((3, 3))[3] == source.convert("RGBA").getpixel((3, 3))[3]
    assert stored.getpixel((0, 0))[3] != stored.getpixel((3, 3))[3]


def _palette_with_transparent_index() -> Image.Image:
    image = Image.new("P", (4, 4), 1)
    image.putpalette([255, 255, 255, 200, 30, 30] + [0, 0, 0] * 254)
    image.putpixel((0, 0), 0)
    image.info["transparency"] = 0
    return image


@pytest.mark.parametrize(
    ("fmt", "stored_format"), [("WEBP", "WEBP"), ("PNG", "PNG")], ids=["WebP", "APNG"]
)
def test_an_animated_image_keeps_its_first_frame_and_says_so(fmt, stored_format) -> None:
    # given an animation of three frames: red, green, blue
    data = animated(fmt)
    # when it is normalised
    result = normalise_merchant_image(data)
    # then one still, red frame is stored, and the merchant is told
    stored = reopen(result)
    assert stored.format == stored_format
    assert getattr(stored, "n_frames", 1) == 1
    assert dominant_channel(stored.convert("RGB").getpixel((8, 8))) == 0
    assert result.notes == (ANIMATED_NOTE,)


def test_a_still_image_has_no_notes() -> None:
    # given a plain JPEG / when normalised / then nothing needs saying
    assert normalise_merchant_image(jpeg_photo()).notes == ()


FORMATS = [
    # (input format, content type, extension)
    ("JPEG", "image/jpeg", "jpg"),
    ("PNG", "image/png", "png"),
    ("WEBP", "image/webp", "webp"),
]


@pytest.mark.parametrize(("fmt", "content_type", "extension"), FORMATS)
def test_the_format_is_kept_and_the_record_describes_the_stored_bytes(
    fmt, content_type, extension
) -> None:
    # given a 40×30 image in each accepted format
    data = encode(noise((40, 30)), fmt)
    # when it is normalised
    result = normalise_merchant_image(data)
    # then the record matches what is stored: type, size, checksum
    stored = reopen(result)
    assert (result.content_type, result.extension) == (content_type, extension)
    assert Image.MIME[stored.format] == content_type
    assert (result.width, result.height) == stored.size == (40, 30)
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()


@pytest.mark.parametrize(("fmt", "content_type", "extension"), FORMATS)
def test_the_same_upload_twice_gives_the_same_checksum(fmt, content_type, extension) -> None:
    # given one image uploaded twice (duplicates are found by checksum)
    data = encode(noise((24, 24), seed=7), fmt)
    # when both are normalised / then the stored bytes are identical
    assert normalise_merchant_image(data).sha256 == normalise_merchant_image(data).sha256


def test_intake_writes_nothing_to_disk(tmp_path, monkeypatch, settings) -> None:
    # given empty working, temporary and media directories
    work, temp, media = tmp_path / "cwd", tmp_path / "tmp", tmp_path / "media"
    for folder in (work, temp, media):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    settings.MEDIA_ROOT = media
    # when accepted and refused images go through both entry points
    normalise_merchant_image(gps_tagged_jpeg())
    decode_query_image(animated("WEBP"))
    with pytest.raises(ImageRejected):
        normalise_merchant_image(truncated(jpeg_photo()))
    # then no file appeared anywhere
    assert [p for folder in (work, temp, media) for p in folder.iterdir()] == []


# --- what shoppers' photos become ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (gps_tagged_jpeg(), (32, 24)),
        (encode(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG"), (8, 8)),
        (encode(Image.new("I;16", (5, 4), 1000), "PNG"), (5, 4)),
        (encode(_palette_with_transparent_index(), "PNG"), (4, 4)),
        (animated("WEBP"), (16, 16)),
    ],
    ids=[
        "JPEG with EXIF",
        "CMYK JPEG",
        "16-bit PNG",
        "palette PNG with transparency",
        "animated WebP",
    ],
)
def test_a_shopper_photo_becomes_an_rgb_image_in_memory(data, size) -> None:
    # given a photo in one of the accepted shapes
    # when it is decoded for search
    image = decode_query_image(data)
    # then it is a loaded RGB image of the right size, with nothing of the file attached
    assert isinstance(image, Image.Image)
    assert (image.mode, image.size) == ("RGB", size)
    assert image.info == {}
    assert len(image.getexif()) == 0


def test_a_shopper_photo_is_turned_upright() -> None:
    # given a 20×10 JPEG tagged orientation 6
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(Image.new("RGB", (20, 10), "green"), "JPEG", exif=exif)
    # when it is decoded for search / then it is 10×20
    assert decode_query_image(data).size == (10, 20)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((4032, 3024), (1008, 756)), ((2400, 1200), (1200, 600)), ((1000, 800), (1000, 800))],
    ids=["12 MP phone photo: 1/4", "wide 2400x1200: 1/2", "1000x800: full size"],
)
def test_a_large_shopper_jpeg_is_decoded_at_reduced_scale_keeping_a_512_px_short_side(
    size, expected
) -> None:
    # given a JPEG tagged orientation 6 (taken with the phone on its side)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(Image.new("RGB", size, (20, 120, 200)), "JPEG", exif=exif)
    # when it is decoded for search
    image = decode_query_image(data)
    # then libjpeg scaled it by the largest power of two that keeps the short side >= 512,
    # and it is still turned upright, RGB, with its colour
    assert min(expected) >= QUERY_IMAGE_MIN_EDGE
    assert image.size == (expected[1], expected[0])
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((image.width // 2, image.height // 2))
    assert abs(red - 20) <= 3 and abs(green - 120) <= 3 and abs(blue - 200) <= 3


def test_a_large_cmyk_shopper_jpeg_is_decoded_at_reduced_scale_as_rgb() -> None:
    # given a 2048x2048 CMYK JPEG (pure cyan)
    data = encode(Image.new("CMYK", (2048, 2048), (255, 0, 0, 0)), "JPEG")
    # when it is decoded for search / then it is 512x512 (1/4 scale) RGB, still cyan
    image = decode_query_image(data)
    assert (image.mode, image.size) == ("RGB", (512, 512))
    red, green, blue = image.getpixel((256, 256))
    assert red < 60 and green > 150 and blue > 150


def test_transparent_areas_of_a_shopper_photo_are_laid_on_white() -> None:
    # given a PNG whose top-left pixel is fully transparent black
    image = Image.new("RGBA", (4, 4), (200, 30, 30, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    # when it is decoded for search
    decoded = decode_query_image(encode(image, "PNG"))
    # then the transparent pixel is white and the opaque ones keep their colour
    assert decoded.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.getpixel((3, 3)) == (200, 30, 30)
