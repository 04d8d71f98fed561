"""The CLIP encoder, on a tiny CLIP saved to disk and loaded through the production code."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.encoding import clip as encoders
from search.encoding.base import ModelUnavailable
from search.encoding.clip import ClipEncoder, UnreadableImage
from search.encoding.registry import get_clip_encoder, reset_encoders
from tests.fixtures.models import TINY_PROJECTION_DIM, build_tiny_clip

REPO_ROOT = Path(__file__).resolve().parents[2]


def _picture(seed: int, size: tuple[int, int] = (96, 72), mode: str = "RGB") -> Image.Image:
    """A smooth picture (gradient and a block of colour) unlike the one of another seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = rng.uniform(0, 255, 3)
    slope = rng.uniform(-2, 2, (3, 2))
    pixels = np.stack([base[c] + slope[c, 0] * x + slope[c, 1] * y for c in range(3)], axis=-1)
    top, left = rng.integers(0, height // 2), rng.integers(0, width // 2)
    pixels[top : top + height // 3, left : left + width // 3] = rng.uniform(0, 255, 3)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert(mode)


def _encoded(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _unit_norms(vectors: np.ndarray) -> np.ndarray:
    return np.linalg.norm(vectors, axis=1)


def test_encoder_from_settings_gives_unit_float32_vectors_of_the_projection_dim(clip_settings):
    # given the settings point at the tiny CLIP
    encoder = get_clip_encoder()
    images = [_encoded(_picture(seed)) for seed in range(3)]

    # when texts and images are encoded
    text_vectors = encoder.encode_texts(["red leather jacket", "blue jeans"])
    image_vectors = encoder.encode_images(images)

    # then both are (n, dim) float32 unit vectors
    assert encoder.dim == TINY_PROJECTION_DIM
    assert text_vectors.shape == (2, TINY_PROJECTION_DIM)
    assert image_vectors.shape == (3, TINY_PROJECTION_DIM)
    assert text_vectors.dtype == image_vectors.dtype == np.float32
    np.testing.assert_allclose(_unit_norms(text_vectors), 1.0, atol=1e-5)
    np.testing.assert_allclose(_unit_norms(image_vectors), 1.0, atol=1e-5)
    # and different pictures do not collapse onto one vector
    assert float(image_vectors[0] @ image_vectors[1]) < 0.9999


def test_get_clip_encoder_is_one_object_until_reset(clip_settings):
    # given the process's encoder
    first = get_clip_encoder()

    # when it is asked for again, and again after a reset
    again = get_clip_encoder()
    reset_encoders()
    after_reset = get_clip_encoder()

    # then the same object comes back until the reset
    assert again is first
    assert after_reset is not first


def test_batches_give_the_same_vectors_as_one_at_a_time(clip_settings):
    # given an encoder that batches 4 at a time and 6 pictures and texts
    encoder = get_clip_encoder()
    images = [_picture(seed) for seed in range(6)]
    texts = ["red jacket", "a pair of blue jeans", "kettle", "the green dress", "shoe", "hat"]

    # when they are encoded together and one by one
    batched_images = encoder.encode_images(images)
    single_images = np.concatenate([encoder.encode_images([image]) for image in images])
    batched_texts = encoder.encode_texts(texts)
    single_texts = np.concatenate([encoder.encode_texts([text]) for text in texts])

    # then the vectors agree
    np.testing.assert_allclose(batched_images, single_images, atol=1e-5)
    np.testing.assert_allclose(batched_texts, single_texts, atol=1e-5)


def test_texts_longer_than_the_model_context_are_truncated(clip_settings):
    # given a text of 30 one-letter words: more tokens than the tiny model's 16 positions
    encoder = get_clip_encoder()
    letters = "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d"

    # when it and its first 20 words (both past the limit) are encoded
    full, prefix = encoder.encode_texts([letters, " ".join(letters.split()[:20])])

    # then both were cut to the same tokens
    np.testing.assert_allclose(full, prefix, atol=1e-6)


def test_image_stream_yields_each_key_once_in_order_with_unreadable_items_marked(clip_settings):
    # given readable JPEG and PNG images mixed with garbage and a truncated JPEG
    encoder = get_clip_encoder()
    readable = {
        "jpeg-0": _encoded(_picture(0)),
        "png-1": _encoded(_picture(1), "PNG"),
        "jpeg-2": _encoded(_picture(2)),
        "jpeg-3": _encoded(_picture(3)),
    }
    unreadable = {"garbage": b"not an image at all", "truncated": readable["jpeg-0"][:200]}
    order = ["jpeg-0", "garbage", "png-1", "jpeg-2", "truncated", "jpeg-3"]
    data = readable | unreadable

    # when they stream through in batches of 2
    results = list(
        encoder.encode_image_stream(
            ((key, lambda key=key: data[key]) for key in order), batch_size=2
        )
    )

    # then every key comes back once, in order; the bad ones as UnreadableImage
    assert [key for key, _ in results] == order
    outcome = dict(results)
    assert all(isinstance(outcome[key], UnreadableImage) for key in unreadable)
    # and the good ones carry the same vectors as encode_images gives
    expected = encoder.encode_images(list(readable.values()))
    np.testing.assert_allclose(np.stack([outcome[key] for key in readable]), expected, atol=1e-5)


def test_image_stream_raises_a_loader_error_after_the_items_before_it(clip_settings):
    # given a storage read that fails on the fourth item
    encoder = get_clip_encoder()
    image = _encoded(_picture(0))

    def loader(key: int):
        def read() -> bytes:
            if key == 3:
                raise OSError("storage unreachable")
            return image

        return read

    seen: list[int] = []

    # when the stream is consumed
    with pytest.raises(OSError, match="storage unreachable"):
        for key, _vector in encoder.encode_image_stream(
            ((key, loader(key)) for key in range(8)), batch_size=2
        ):
            seen.append(key)

    # then the error reached the caller after the three items before it
    assert seen == [0, 1, 2]


def test_encode_images_rejects_bytes_that_are_not_an_image(clip_settings):
    # given bytes that no decoder understands
    encoder = get_clip_encoder()

    # when they are encoded, then UnreadableImage is raised
    with pytest.raises(UnreadableImage):
        encoder.encode_images([_encoded(_picture(0)), b"\x89PNG\r\n\x1a\nbroken"])


def test_exif_orientation_is_applied_before_encoding(clip_settings):
    # given a photo stored sideways with an EXIF "rotate 90" tag, and the same photo upright
    encoder = get_clip_encoder()
    upright = _picture(4, size=(64, 40))
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 clockwise to display
    tagged = _encoded(sideways, "PNG", exif=exif.tobytes())

    # when both are encoded
    from_tag, from_upright = encoder.encode_images([tagged, _encoded(upright, "PNG")])

    # then they give the same vector
    np.testing.assert_allclose(from_tag, from_upright, atol=1e-5)


def test_transparent_background_counts_as_white(clip_settings):
    # given a product cut-out whose background is transparent (black under the alpha)
    encoder = get_clip_encoder()
    product = _picture(5, size=(64, 64))
    mask = Image.new("L", product.size, 0)
    mask.paste(255, (16, 16, 48, 48))
    cut_out = product.convert("RGBA")
    cut_out.putalpha(mask)
    cut_out = Image.composite(cut_out, Image.new("RGBA", product.size, (0, 0, 0, 0)), mask)
    on_white = Image.new("RGB", product.size, "white")
    on_white.paste(product, (0, 0), mask)

    # when the cut-out and the same product on white are encoded
    from_alpha, from_white = encoder.encode_images([_encoded(cut_out, "PNG"), on_white])

    # then they agree
    np.testing.assert_allclose(from_alpha, from_white, atol=1e-5)


def test_large_jpeg_decoded_at_reduced_size_stays_close_to_full_decode(clip_settings):
    # given a JPEG far larger than the tiny model's 32-pixel input
    encoder = get_clip_encoder()
    photo = _picture(6, size=(400, 320))
    data = _encoded(photo, quality=95)

    # when it is encoded from bytes (reduced-size decode) and from the fully decoded image
    from_bytes = encoder.encode_images([data])[0]
    full = Image.open(io.BytesIO(data))
    full.load()
    from_full = encoder.encode_images([full])[0]

    # then the vectors point the same way
    assert float(from_bytes @ from_full) >= 0.99


def test_concurrent_first_use_loads_the_model_once(clip_settings, monkeypatch):
    # given a loader that counts its calls and is slow enough for the threads to overlap
    calls: list[str] = []
    real_load_parts = encoders._load_parts

    def counting_load_parts(*args, **kwargs):
        calls.append(args[0])
        time.sleep(0.2)
        return real_load_parts(*args, **kwargs)

    monkeypatch.setattr(encoders, "_load_parts", counting_load_parts)
    encoder = get_clip_encoder()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def first_use():
        start.wait()
        try:
            encoder.load()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    # when two threads use it for the first time together
    threads = [threading.Thread(target=first_use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then the weights were loaded once
    assert errors == []
    assert len(calls) == 1


@pytest.mark.parametrize(
    "model",
    ["/nonexistent/clip-model", "nobody-in-particular/no-such-clip-model", "no-such-clip-model"],
)
def test_unavailable_model_raises_at_once_naming_the_setting(settings, monkeypatch, model):
    # given offline mode and a model that is neither a directory nor in the local cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings.CLIP_MODEL = model
    settings.CLIP_MODEL_REVISION = "3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268"
    reset_encoders()

    # when it is loaded
    with pytest.raises(ModelUnavailable, match="CLIP_MODEL") as excinfo:
        get_clip_encoder().load()

    # then the message says what to change, without a chain of library errors under it
    error = excinfo.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    reset_encoders()


def test_directory_without_a_model_raises_model_unavailable(tmp_path, monkeypatch):
    # given an existing directory that holds no weights
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "config.json").write_text("{}")

    # when it is loaded, then the error names the setting
    with pytest.raises(ModelUnavailable, match="CLIP_MODEL"):
        ClipEncoder(str(tmp_path), None).load()


@pytest.mark.parametrize(
    ("model", "revision", "expected"),
    [
        (
            "openai/clip-vit-base-patch32",
            "3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268",
            "clip-vit-base-patch32-3d74acf9",
        ),
        (
            "openai/clip-vit-base-patch32",
            "e6a30b603a447e251fdaca1c3056b2a16cdfebeb",
            "clip-vit-base-patch32-e6a30b60",
        ),
        (
            "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
            "1a25a446712ba5ee05982a381eed697ef9b435cf",
            "clip-vit-b-32-laion2b-s34b-b79k-1a25a446",
        ),
    ],
)
def test_model_key_names_the_model_and_its_pinned_revision(model, revision, expected):
    # given a hub id at a pinned revision, when its key is read (nothing is loaded)
    encoder = ClipEncoder(model, revision)

    # then the key is the name slug and 8 characters of the revision
    assert encoder.model_key == expected
    assert re.fullmatch(r"[a-z0-9-]+", encoder.model_key)
    assert not encoder.loaded


def test_model_key_of_a_directory_follows_its_content(tiny_clip_dir, tmp_path):
    # given the tiny model and a copy of it with other weights under the same directory name
    other = build_tiny_clip(tmp_path / tiny_clip_dir.name, seed=1)

    # when their keys are read
    original_key = ClipEncoder(str(tiny_clip_dir), None).model_key
    other_key = ClipEncoder(str(other), None).model_key

    # then the keys differ, and the same directory always gives the same key
    assert original_key != other_key
    assert ClipEncoder(str(tiny_clip_dir), None).model_key == original_key


def test_a_text_query_gets_the_models_own_vector(tiny_clip_dir):
    # given the encoder
    encoder = ClipEncoder(str(tiny_clip_dir), None)
    queries = ["red", "blue jeans", "a b c d e f g h i j k l m n o p q r s t u v w x y z"]

    # when queries (one past the model's 16 positions) are encoded for search
    vectors = np.stack([encoder.encode_text_query(query) for query in queries])

    # then they are the model's own vectors, unit float32
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, encoder.encode_texts(queries), atol=1e-5)
    np.testing.assert_allclose(_unit_norms(vectors), 1.0, atol=1e-5)


def test_int8_mode_gives_vectors_close_to_fp32(tiny_clip_dir):
    # given the tiny model in fp32 and dynamically quantised to int8 (the deprecated
    # CLIP_QUANTIZE_INT8 spelling still means int8)
    fp32 = ClipEncoder(str(tiny_clip_dir), None)
    int8 = ClipEncoder(str(tiny_clip_dir), None, quantize_int8=True, min_cosine=0.0)
    images = [_picture(seed) for seed in range(4)]
    texts = ["red leather jacket", "stainless steel kettle"]

    # when both encode the same inputs
    image_cosines = np.sum(fp32.encode_images(images) * int8.encode_images(images), axis=1)
    text_cosines = np.sum(fp32.encode_texts(texts) * int8.encode_texts(texts), axis=1)

    # then the vectors point the same way, text queries included
    assert int8.precision is not None and int8.precision.mode == "int8"
    assert int8.quantize_int8
    assert image_cosines.min() >= 0.99
    assert text_cosines.min() >= 0.99
    np.testing.assert_allclose(
        int8.encode_text_query(texts[0]), int8.encode_texts(texts[:1])[0], atol=1e-6
    )


@pytest.mark.slow
def test_indexing_benchmark_quick_run_prints_its_table():
    # given the indexing benchmark, when it runs in quick mode
    completed = subprocess.run(
        [sys.executable, "bench/indexing.py", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )

    # then it succeeds and reports each mode
    assert completed.returncode == 0, completed.stderr[-2000:]
    for mode in ("naive", "pipeline", "int8"):
        assert mode in completed.stdout


def test_threads_encoding_texts_at_once_get_the_vectors_one_thread_gets(clip_settings):
    # given texts of different lengths (so each call pads and truncates differently)
    encoder = get_clip_encoder()
    texts = ["red", "a pair of blue jeans with a long description of the cut", "kettle", "hat"]
    expected = encoder.encode_texts(texts)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for _ in range(10):
                # the batch path and the traced query path, in turns
                results[number] = encoder.encode_texts([texts[number]])[0]
                np.testing.assert_allclose(
                    encoder.encode_text_query(texts[number]), results[number], atol=1e-5
                )
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    # when four threads encode at the same time
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then none fails and each gets its own text's vector
    assert errors == []
    np.testing.assert_allclose(
        np.stack([results[n] for n in range(len(texts))]), expected, atol=1e-5
    )
