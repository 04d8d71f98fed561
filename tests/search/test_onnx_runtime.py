"""The text towers on ONNX Runtime (search/encoding/onnx_runtime.py): the same vectors as
eager torch, checked at load, exported once per model revision, and torch whenever ONNX
Runtime cannot run a tower or disagrees with it."""

import logging
import sys

import numpy as np
import pytest

from search.encoding import onnx_runtime
from search.encoding.base import ModelUnavailable
from search.encoding.clip import ClipEncoder
from search.encoding.text import TextEncoder

pytestmark = pytest.mark.slow

QUERIES = ["red leather jacket", "kettle", "oak dining chair with a woven seat", "gold"]


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b, axis=1).min())


def test_clip_text_tower_on_onnx_gives_eagers_vectors(tiny_clip_dir, onnx_cache):
    # given the tiny CLIP on torch, and with its text tower on ONNX Runtime
    eager = ClipEncoder(str(tiny_clip_dir), None)
    onnx = ClipEncoder(str(tiny_clip_dir), None, text_runtime="onnx", runtime_cache=onnx_cache)

    # when both encode queries, one at a time and as a batch
    batch = onnx.encode_texts(QUERIES)
    one_by_one = np.stack([onnx.encode_text_query(query) for query in QUERIES])

    # then the text tower runs on ONNX Runtime, checked at load; the image tower stays on torch
    report = onnx.text_precision
    assert report is not None
    assert (report.runtime, report.mode) == ("onnxruntime", "fp32")
    assert report.min_cosine is not None and report.min_cosine >= 0.999
    assert onnx.precision is not None and onnx.precision.runtime == "torch"
    # and the vectors are eager's, whichever way they are asked for
    assert agreement(batch, eager.encode_texts(QUERIES)) >= 0.9999
    np.testing.assert_allclose(one_by_one, batch, atol=1e-5)
    assert batch.dtype == np.float32
    assert len(list(onnx_cache.glob("clip-text-*-fp32.onnx"))) == 1


def test_the_text_model_on_onnx_gives_eagers_vectors(tiny_sentence_model_dir, onnx_cache):
    # given a sentence-transformers model on torch, and on ONNX Runtime
    eager = TextEncoder(str(tiny_sentence_model_dir))
    onnx = TextEncoder(str(tiny_sentence_model_dir), runtime="onnx", runtime_cache=onnx_cache)

    # when both encode texts of different lengths in one batch, and one query
    texts = [*QUERIES, "linen dress " * 20]  # past the model's window: truncated alike
    vectors = onnx.encode(texts, batch_size=2)

    # then ONNX Runtime runs it and its vectors are eager's, in the order asked
    assert onnx.precision is not None and onnx.precision.runtime == "onnxruntime"
    assert agreement(vectors, eager.encode(texts)) >= 0.9999
    np.testing.assert_allclose(onnx.encode_query(texts[2]), vectors[2], atol=1e-5)


def test_int8_that_fails_its_check_runs_fp32_on_onnx(tiny_clip_dir, onnx_cache, monkeypatch):
    # given an int8 graph whose vectors drift from fp32's
    real = onnx_runtime.OnnxTower

    class DriftingInt8(real):
        def __call__(self, features):
            output = super().__call__(features)
            if self.path.name.endswith("-int8.onnx"):
                output = output + np.random.default_rng(0).normal(size=output.shape)
            return output

    monkeypatch.setattr(onnx_runtime, "OnnxTower", DriftingInt8)
    encoder = ClipEncoder(
        str(tiny_clip_dir), None, precision="int8", text_runtime="auto", runtime_cache=onnx_cache
    )

    # when it loads
    encoder.load()

    # then the text tower runs fp32 on ONNX Runtime and says why; the image tower keeps int8
    report = encoder.text_precision
    assert report is not None
    assert (report.runtime, report.chosen, report.mode) == ("onnxruntime", "int8", "fp32")
    assert "int8 on ONNX Runtime agrees with torch fp32 to a cosine of" in report.reason
    assert encoder.precision is not None and encoder.precision.mode == "int8"


def test_an_export_is_kept_per_revision_and_reused(tiny_clip_dir, onnx_cache, monkeypatch):
    # given the tower exported once
    ClipEncoder(str(tiny_clip_dir), None, text_runtime="onnx", runtime_cache=onnx_cache).load()

    # when another process loads the same model with exporting made impossible
    def refuse(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_runtime, "_export_fp32", refuse)
    again = ClipEncoder(str(tiny_clip_dir), None, text_runtime="onnx", runtime_cache=onnx_cache)
    again.load()

    # then it runs on the kept file; another revision would get a file of its own
    assert again.text_precision is not None and again.text_precision.runtime == "onnxruntime"
    names = {
        onnx_runtime.cache_name(tower="clip-text", model_key="m", revision=rev, mode="fp32")
        for rev in ("a" * 40, "b" * 40)
    }
    assert len(names) == 2


def test_without_onnxruntime_the_towers_run_on_torch(tiny_clip_dir, tmp_path, monkeypatch, caplog):
    # given ONNX Runtime not installed
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    encoder = ClipEncoder(
        str(tiny_clip_dir), None, text_runtime="auto", runtime_cache=tmp_path / "onnx"
    )

    # when the encoder loads
    with caplog.at_level(logging.WARNING, logger="search.encoding.onnx_runtime"):
        vectors = encoder.encode_texts(QUERIES)

    # then its text tower runs on torch, the log says why, and the vectors are eager's
    assert encoder.text_precision is encoder.precision
    assert encoder.precision is not None and encoder.precision.runtime == "torch"
    assert "runs on torch: ONNX Runtime is not installed" in caplog.text
    eager = ClipEncoder(str(tiny_clip_dir), None)
    np.testing.assert_allclose(vectors, eager.encode_texts(QUERIES), atol=1e-6)


def test_an_export_that_disagrees_leaves_the_tower_on_torch(tiny_clip_dir, onnx_cache, monkeypatch):
    # given an ONNX graph that answers something else than the model
    def wrong(self, features):
        return np.random.default_rng(1).normal(size=(len(features["input_ids"]), 16))

    monkeypatch.setattr(onnx_runtime.OnnxTower, "__call__", wrong)
    encoder = ClipEncoder(str(tiny_clip_dir), None, text_runtime="onnx", runtime_cache=onnx_cache)

    # when it loads, then the text tower stays on torch with eager's vectors
    vectors = encoder.encode_texts(QUERIES)
    assert encoder.text_precision is not None and encoder.text_precision.runtime == "torch"
    eager = ClipEncoder(str(tiny_clip_dir), None)
    np.testing.assert_allclose(vectors, eager.encode_texts(QUERIES), atol=1e-6)


def test_an_unknown_runtime_names_the_setting(tiny_clip_dir):
    with pytest.raises(ModelUnavailable, match="TEXT_RUNTIME: unknown runtime 'tensorrt'"):
        ClipEncoder(str(tiny_clip_dir), None, text_runtime="tensorrt").load()
    assert not onnx_runtime.wanted("auto", device="cuda", mode="fp32")
    assert not onnx_runtime.wanted("onnx", device="cpu", mode="bf16")
