"""Property-based tests: arbitrary input to the tokenizers, the core, the checkpoint loaders and the URL
checks gives a correct result or a clear ValueError, never another exception or a hang.

Hypothesis draws the inputs; each property states what must hold for every one of them. A failure
prints the smallest input that breaks it.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lstm_core import LSTM, load_checkpoint, save_checkpoint
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer
from ui import model_store, typed_text
from ui.query import check_view

# derandomize: the same examples on every run, so that a failure is the code's and can be rerun.
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
WORDS = WordTokenizer([UNKNOWN_TOKEN, "bob", "is", "nice", ".", ",", "he", "she"])
CHARS = CharTokenizer()
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)


# ------------------------------------------------------------------------------- tokenizers
@SETTINGS
@given(text=any_text)
def test_word_tokens_are_known_or_unknown_and_encode_alike(text):
    tokens = WORDS.tokens(text)
    ids = WORDS.encode(text)
    assert len(tokens) == len(ids)
    assert all(0 <= index < len(WORDS.vocab) for index in ids)
    assert [WORDS.vocab[index] for index in ids] == tokens
    assert set(tokens) <= set(WORDS.vocab)
    assert len(WORDS.unknown(text)) <= tokens.count(UNKNOWN_TOKEN)


@SETTINGS
@given(text=any_text)
def test_char_tokens_are_one_per_character(text):
    tokens = CHARS.tokens(text)
    assert len(tokens) == len(text) == len(CHARS.encode(text))
    assert all(token == character or token == UNKNOWN_TOKEN for token, character in zip(tokens, text, strict=True))
    assert set(CHARS.unknown(text)) == {c for c, t in zip(text, tokens, strict=True) if t == UNKNOWN_TOKEN}


@SETTINGS
@given(raw=st.one_of(any_text, st.none(), st.integers(), st.binary(max_size=50)), limit=st.integers(1, 400))
def test_clean_text_never_raises_and_keeps_no_control_characters(raw, limit):
    cleaned = typed_text.clean_text(raw, max_chars=limit)
    assert len(cleaned.text) <= limit
    assert cleaned.text == cleaned.text.strip() and "  " not in cleaned.text
    assert not any(character in cleaned.text for character in "\x00\x07\x1b\n\r\t\u202e")
    assert all(isinstance(notice, str) for notice in cleaned.notices)


# ------------------------------------------------------------------------------- the core
finite = st.floats(-30, 30, allow_nan=False, width=32)


@SETTINGS
@given(
    input_size=st.integers(1, 5),
    hidden_size=st.integers(1, 6),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    data=st.data(),
)
def test_any_finite_sequence_runs_exactly_as_torch(input_size, hidden_size, num_layers, bidirectional, data):
    lstm = LSTM.random(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                       seed=data.draw(st.integers(0, 1000)), scale=data.draw(st.floats(0.1, 3.0)))  # fmt: skip
    length = data.draw(st.integers(1, 12))
    x = data.draw(hnp.arrays(np.float32, (length, input_size), elements=finite))
    trace = lstm.run(x)
    module = torch.nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
    module.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in lstm.state_dict().items()})
    with torch.no_grad():
        output, (h_n, c_n) = module(torch.from_numpy(x))
    np.testing.assert_allclose(trace.output, output, atol=2e-5, rtol=1e-5)
    np.testing.assert_allclose(trace.h_n, h_n, atol=2e-5, rtol=1e-5)
    np.testing.assert_allclose(trace.c_n, c_n, atol=2e-5, rtol=1e-5)
    for values in trace.gates.values():
        assert np.isfinite(values).all() and ((values >= -1) & (values <= 1)).all()


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.complex64, object]),
    poison=st.sampled_from([None, np.nan, np.inf, -np.inf]),
)
def test_a_bad_sequence_is_refused_with_a_value_error(shape, dtype, poison):
    lstm = LSTM.random(3, 4, seed=0)
    x = np.zeros(shape, dtype=dtype)
    poisoned = poison is not None and x.size > 0 and np.issubdtype(x.dtype, np.floating)
    if poisoned:
        x.flat[0] = poison
    well_formed = x.ndim == 2 and x.shape[0] > 0 and x.shape[1] == 3 and not poisoned
    if well_formed and dtype in (np.float32, np.float64, np.int64, np.bool_):
        assert lstm.run(x).length == shape[0]  # plain numbers of the right shape are fine
        return
    with pytest.raises((ValueError, TypeError)) as error:
        lstm.run(x)
    assert str(error.value)


# ------------------------------------------------------------------------------ checkpoints
@SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_by_the_checkpoint_loader(data):
    try:
        tensors, config = load_checkpoint(data)
    except ValueError as error:
        assert str(error)
    else:  # a random byte string that happens to be a valid file must still give arrays and a dict
        assert isinstance(config, dict) and all(isinstance(v, np.ndarray) for v in tensors.values())


@SETTINGS
@given(
    cut=st.integers(0, 10_000),
    flip=st.integers(0, 10_000),
    value=st.integers(0, 255),
    fmt=st.sampled_from(["safetensors", "npz"]),
)
def test_a_truncated_or_corrupted_checkpoint_is_refused_or_read_whole(tmp_path, cut, flip, value, fmt):
    path = tmp_path / f"model.{fmt}"
    lstm = LSTM.random(3, 4, seed=1)
    save_checkpoint(path, lstm.state_dict(), {"hidden_size": 4})
    original = path.read_bytes()
    damaged = bytearray(original[: cut % (len(original) + 1)])
    if damaged:
        damaged[flip % len(damaged)] = value
    try:
        tensors, _ = load_checkpoint(bytes(damaged))
    except ValueError as error:
        assert str(error)
        return
    # it loaded: then every array must be whole, and LSTM.from_state_dict either accepts or explains
    try:
        LSTM.from_state_dict(tensors)
    except ValueError as error:
        assert str(error)


def test_a_safetensors_header_declaring_a_huge_size_is_refused_without_allocating():
    header = json.dumps({"w": {"dtype": "F32", "shape": [1_000_000_000, 1_000], "data_offsets": [0, 4 * 10**12]}})
    data = struct.pack("<Q", len(header)) + header.encode() + b"\0" * 16
    with pytest.raises(ValueError):
        load_checkpoint(data)
    with pytest.raises(ValueError):
        load_checkpoint(struct.pack("<Q", 2**62) + b"{}")  # a header length past the end of the file


def npz_with_member(payload: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr("weight_ih_l0.npy", payload)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...]) -> bytes:
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = shape
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, header)
    return npy.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    limit = 1_000_000
    bomb = npz_with_member(npy_header((5_000_000,)) + b"\0" * 20_000_000)  # 20 MB of zeros packs into ~20 KB
    assert len(bomb) < 100_000
    with pytest.raises(ValueError, match="declares .* once unpacked"):
        load_checkpoint(bomb, max_bytes=limit)


@pytest.mark.parametrize("elements", [10**11, 10**15, 2**62])
def test_a_tiny_array_declaring_a_huge_shape_is_refused_without_allocating(elements):
    tiny = npz_with_member(npy_header((elements,)) + b"\0" * 64, compression=zipfile.ZIP_STORED)
    with pytest.raises(ValueError, match="declares shape"):
        load_checkpoint(tiny)


def test_a_pickled_object_in_an_npz_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (marker.write_text, ("pwned",))

    buffer = io.BytesIO()
    np.savez(buffer, weight_ih_l0=np.array([Payload()], dtype=object))
    with pytest.raises(ValueError):
        load_checkpoint(buffer.getvalue())
    assert not marker.exists()


# ------------------------------------------------------------------------------- URL checks
url_value = st.one_of(any_text, st.integers(-(10**12), 10**12).map(str), st.lists(any_text, max_size=3))


@SETTINGS
@given(raw=st.dictionaries(st.sampled_from(["t", "unit", "layer", "direction", "model", "junk"]), url_value),
       tokens=st.integers(1, 300), units=st.integers(1, 256), layers=st.integers(1, 3), directions=st.integers(1, 2))  # fmt: skip
def test_any_link_gives_a_view_inside_the_model_with_a_notice_per_change(raw, tokens, units, layers, directions):
    sizes = {"t": tokens, "unit": units, "layer": layers, "direction": directions}
    view = check_view(raw, sizes)
    assert view.model in model_store.MODEL_NAMES
    for key, value in view.corrected.items():
        assert 0 <= value < sizes[key], (key, value)
    assert len(view.notices) >= len(view.corrected)
    assert all(isinstance(notice, str) and notice for notice in view.notices)
