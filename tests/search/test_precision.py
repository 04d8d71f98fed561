"""Encoder precision: chosen by what the machine has, checked at load against fp32, shown to
the operator; and a query path without TorchScript."""

import logging
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from search.encoding import precision
from search.encoding.clip import ClipEncoder
from search.encoding.precision import Hardware
from search.encoding.registry import get_clip_encoder, reset_encoders
from search.encoding.text import TextEncoder

REPO_ROOT = Path(__file__).resolve().parents[2]

AVX2 = Hardware("EPYC", frozenset({"avx2", "fma"}), "AVX2", ("x86", "fbgemm", "none"))
AVX512_VNNI_BF16 = Hardware(
    "EPYC Genoa",
    frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    "AVX512",
    ("x86", "fbgemm", "none"),
)
AMX = Hardware(
    "Xeon Sapphire Rapids",
    frozenset({"avx512f", "avx512_bf16", "amx_bf16", "amx_int8"}),
    "AVX512",
    ("x86", "onednn", "none"),
)
BF16_WITHOUT_FBGEMM = Hardware("odd", frozenset({"avx512_bf16"}), "AVX512", ("none",))
PLAIN = Hardware("old", frozenset({"sse4_2"}), "DEFAULT", ("none",))


@pytest.mark.parametrize(
    ("machine", "expected"),
    [(AVX2, "int8"), (AVX512_VNNI_BF16, "int8"), (AMX, "bf16"), (BF16_WITHOUT_FBGEMM, "bf16")]
    + [(PLAIN, "fp32")],
    ids=["avx2", "avx512 vnni+bf16", "amx", "bf16 without fbgemm", "no simd"],
)
def test_auto_picks_what_the_cpu_runs_natively_and_never_emulated_bf16(machine, expected):
    assert precision.choose("auto", "cpu", machine) == expected


def test_an_explicit_precision_is_obeyed_and_int8_refused_on_a_gpu():
    assert precision.choose("bf16", "cpu", AVX2) == "bf16"
    assert precision.choose("FP32", "cpu", AMX) == "fp32"
    with pytest.raises(precision.PrecisionUnavailable, match="CPU mode"):
        precision.choose("int8", "cuda", AVX2)
    with pytest.raises(precision.PrecisionUnavailable, match="unknown precision 'fp8'"):
        precision.choose("fp8", "cpu", AVX2)


def test_the_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512_bf16\n\n"
        "processor\t: 1\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512_bf16\n"
    )
    assert precision._cpuinfo(cpuinfo) == (
        "AMD EPYC 9R14",
        frozenset({"fpu", "avx2", "avx512_bf16"}),
    )


def test_auto_falls_back_to_fp32_when_the_check_at_load_fails(tiny_clip_dir, monkeypatch, caplog):
    # given a CPU on which auto picks int8, and an int8 conversion that goes wrong
    import torch

    monkeypatch.setattr(precision, "hardware", lambda: AVX2)
    convert = precision.convert

    def broken(model, mode):
        converted = convert(model, mode)
        projection = model.visual_projection  # the fp32 original's, untouched
        torch.manual_seed(1)
        converted.visual_projection = torch.nn.Linear(
            projection.in_features, projection.out_features, bias=False
        )
        return converted

    monkeypatch.setattr(precision, "convert", broken)
    auto = ClipEncoder(str(tiny_clip_dir), None, precision="auto")

    # when the encoder loads
    with caplog.at_level(logging.WARNING, logger="search.encoding.precision"):
        auto.load()

    # then it runs in fp32, says why, and gives the fp32 model's vectors
    report = auto.precision
    assert report is not None
    assert (report.requested, report.chosen, report.mode) == ("auto", "int8", "fp32")
    assert report.min_cosine is not None and report.min_cosine < 0.99
    assert "under PRECISION_MIN_COSINE 0.99" in report.reason
    assert "runs in fp32: int8 vectors agree with fp32 to a cosine of" in caplog.text
    fp32 = ClipEncoder(str(tiny_clip_dir), None)
    texts = ["red leather jacket", "kettle"]
    np.testing.assert_allclose(auto.encode_texts(texts), fp32.encode_texts(texts), atol=1e-6)


@pytest.mark.parametrize("mode", ["bf16", "int8"])
def test_a_passing_check_keeps_the_mode_and_its_vectors_stay_in_fp32s_space(tiny_clip_dir, mode):
    # given the tiny CLIP in fp32 and in another precision
    fp32 = ClipEncoder(str(tiny_clip_dir), None)
    other = ClipEncoder(str(tiny_clip_dir), None, precision=mode)
    pictures = precision.calibration_images(4, size=64)

    # when both encode pictures and phrases
    images = np.sum(fp32.encode_images(pictures) * other.encode_images(pictures), axis=1)
    words = np.sum(
        fp32.encode_texts(precision.CALIBRATION_PHRASES)
        * other.encode_texts(precision.CALIBRATION_PHRASES),
        axis=1,
    )

    # then the mode runs, its measured cosine is recorded, and the vectors agree with fp32
    assert other.precision is not None and other.precision.mode == mode
    assert other.precision.min_cosine is not None and other.precision.min_cosine >= 0.99
    assert other.model_key == fp32.model_key  # same model, same collection
    assert min(images.min(), words.min()) >= 0.99
    assert other.encode_text_query("red jacket").dtype == np.float32


def test_the_text_model_checks_its_precision_too():
    # given MiniLM (real weights) in fp32, bf16 and int8
    fp32, bf16, int8 = (TextEncoder("", precision=mode) for mode in ("fp32", "bf16", "int8"))
    query = "crimson coat made of leather"

    # then bf16 passes its check and queries agree with fp32
    assert float(bf16.encode_query(query) @ fp32.encode_query(query)) >= 0.99
    assert bf16.precision is not None and bf16.precision.mode == "bf16"
    # and int8 runs only where its measured cosine passed (MiniLM's int8 Linear layers measured
    # 0.947 on the calibration phrases here: it falls back to fp32, and says why)
    report = int8.encode_query(query) is not None and int8.precision
    assert report and report.min_cosine is not None
    assert report.mode == ("int8" if report.min_cosine >= 0.99 else "fp32")


@pytest.mark.django_db
def test_readyz_metrics_and_index_status_show_the_precision(clip_settings, client, capsys):
    # given CLIP loaded in int8 by this process
    clip_settings.CLIP_PRECISION = "int8"
    reset_encoders()
    encoder = get_clip_encoder()
    encoder.load()
    assert encoder.precision is not None
    cosine = round(encoder.precision.min_cosine or 0.0, 5)

    # then /readyz, /metrics and index_status say so, with the measured cosine
    details = client.get("/readyz").json()["details"]["encoders"]
    assert details["clip"] == {
        "requested": "int8",
        "mode": "int8",
        "runtime": "torch",
        "min_cosine": cosine,
    }
    metrics = client.get("/metrics").content.decode()
    assert 'visual_search_encoder_precision_mode{mode="int8",tower="clip"} 1.0' in metrics
    assert 'visual_search_encoder_precision_min_cosine{tower="clip"}' in metrics
    call_command("index_status")
    assert "CLIP precision on this host: int8 (CLIP_PRECISION=int8, min cosine to fp32" in (
        capsys.readouterr().out
    )


def test_no_torchscript_in_the_query_path(tiny_clip_dir, monkeypatch):
    # given TorchScript made unusable
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("TorchScript used on the query path")

    for name in ("trace", "script", "load"):
        monkeypatch.setattr(torch.jit, name, refuse)

    # when both towers encode shopper queries, then they answer without it
    assert ClipEncoder(str(tiny_clip_dir), None).encode_text_query("red jacket").shape == (16,)
    assert TextEncoder("").encode_query("red jacket").shape == (384,)
    # and no code of the search app reaches for it
    sources = (REPO_ROOT / "search").rglob("*.py")
    assert [path for path in sources if "torch.jit" in path.read_text()] == []


def test_clip_quantize_int8_still_means_int8(clip_settings):
    # given the deprecated setting, and no CLIP_PRECISION of its own (the fixtures' fp32)
    clip_settings.CLIP_QUANTIZE_INT8 = True
    reset_encoders()

    # then the encoder is built for int8; an explicit CLIP_PRECISION wins over it
    assert get_clip_encoder().precision_setting == "int8"
    clip_settings.CLIP_PRECISION = "bf16"
    assert get_clip_encoder().precision_setting == "bf16"
