"""Uploads written to hurt: small files that would unpack to gigabytes, files that make the readers
raise something other than a refusal, and models too large for a shared server.

Every case is refused with a message that says why, as `read_weights` / `read_vocabulary` raise it
and as /your-model shows it (`read_uploads`); nothing else is ever raised. Peak memory is measured in
a child process, whose `ru_maxrss` counts only its own reading. Hypothesis builds zip archives,
safetensors headers and torch views of shared storages from their parts, not only random bytes.
"""

from __future__ import annotations

import io
import json
import logging
import math
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_core import LSTM
from lstm_core.config import (
    MAX_UPLOAD_HIDDEN,
    MAX_UPLOAD_INPUT,
    MAX_UPLOAD_LAYERS,
    MAX_UPLOAD_TENSORS,
    MAX_UPLOAD_TEXT_TOKENS,
    MAX_UPLOAD_VOCAB,
    MAX_UPLOAD_WORK,
)
from lstm_core.io import checkpoint
from lstm_core.io.model_files import (
    MAX_HEADER_BYTES,
    MAX_INPUT_STEPS,
    MAX_MODEL_BYTES,
    MAX_PICKLE_BYTES,
    UploadedModel,
    build_language_model,
    check_language_model_size,
    check_lstm_size,
    read_vocabulary,
    read_weights,
    split_model,
)
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer
from tests.pages import ROOT
from tests.test_your_model_page import errors, open_your_model, upload
from ui import typed_text, your_model

PEAK_MIB = 150  # what reading any refused file below may add to the reader's peak memory
FAST = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------ builders
def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def lstm_tensors(input_size=2, hidden_size=3, prefix="", **sizes) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    state = torch.nn.LSTM(input_size, hidden_size, **sizes).state_dict()
    return {prefix + key: value for key, value in state.items()}


def safetensors_bytes(header: object, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(raw)) + raw + body


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED, encrypted: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray(buffer.getvalue())
    if encrypted:  # set the "encrypted" flag of every entry, in the central directory that readers trust
        position = data.find(b"PK\x01\x02")
        while position >= 0:
            data[position + 8] |= 0x1
            position = data.find(b"PK\x01\x02", position + 1)
    return bytes(data)


def torch_archive(replace: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_STORED, **options) -> bytes:
    """A real torch.save file of a small LSTM, rewritten member by member (`replace`: name suffix -> bytes)."""
    original = zipfile.ZipFile(io.BytesIO(torch_bytes(lstm_tensors())))
    members = {}
    for info in original.infolist():
        data = original.read(info)
        for suffix, replacement in (replace or {}).items():
            if info.filename.endswith(suffix):
                data = replacement
        members[info.filename] = data
    return zip_bytes(members, compression, **options)


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


SHARED = torch.zeros(2_000)  # 8 kB of stored values that the views below read many times
ARRAY = npy_bytes(np.zeros((8, 2), np.float32))


# --------------------------------------------------------------------- every refusal, named
# (file bytes, what the message must say). Each would raise something else, or cost gigabytes, unguarded.
HOSTILE_WEIGHTS = {
    # a few bytes that stand for many values
    "expand-40000x40000": (torch_bytes({"weight_ih_l0": torch.zeros(1).expand(40_000, 40_000)}),
                           "would take 6,400,000,000 bytes once copied, more than the limit"),
    "expand-small": (torch_bytes({**lstm_tensors(), "weight_ih_l0": torch.zeros(1).expand(12, 2)}), "a stride of 0"),
    "hundreds-of-views": (torch_bytes({f"v{index}": SHARED.as_strided((1_000, 1_000), (1, 1)) for index in range(200)}),
                          "would take 800,000,000 bytes"),
    "overlapping-strides": (torch_bytes({**lstm_tensors(), "weight_ih_l0": SHARED.as_strided((12, 2), (1, 1))}),
                            "read some of its values twice"),
    "tied-weights": (torch_bytes({**lstm_tensors(), "weight_hh_l0": SHARED[:36].view(12, 3),
                                  "bias_ih_l0": SHARED[:12]}), "views of the same stored values"),
    "overlapping-slices": (torch_bytes({**lstm_tensors(), "bias_ih_l0": SHARED[0:12], "bias_hh_l0": SHARED[6:18]}),
                           "views of the same stored values"),
    "too-many-tensors": (torch_bytes({f"t{index}": torch.zeros(1) for index in range(MAX_UPLOAD_TENSORS + 1)}),
                         f"more than the limit of {MAX_UPLOAD_TENSORS}"),
    "huge-pickle": (torch_archive({"data.pkl": pickle.dumps(list(range(MAX_PICKLE_BYTES // 4)))}),
                    "data.pkl.*more than the limit"),
    "torch-encrypted": (torch_archive(encrypted=True), "encrypted member"),
    "torch-lzma": (torch_archive(compression=zipfile.ZIP_LZMA), "zip method 14"),
    "zip-of-many-entries": (zip_bytes({f"{index}.npy": b"" for index in range(checkpoint.MAX_ZIP_MEMBERS + 1)}),
                            "more than 4,096 entries"),
    # safetensors: shared byte ranges, headers that nest, overflow or are too large
    "st-one-range-many-names": (safetensors_bytes({f"w{index}": {"dtype": "F32", "shape": [1000],
                                                                 "data_offsets": [0, 4000]} for index in range(200)},
                                                  bytes(4000)), "share bytes 0..4000"),
    "st-overlapping-ranges": (safetensors_bytes({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                                 "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}},
                                                bytes(24)), "share bytes 8..16"),
    "st-too-many": (safetensors_bytes({f"w{index}": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}
                                       for index in range(MAX_UPLOAD_TENSORS + 1)}), "more than the limit of 256"),
    "st-deep-header": (safetensors_bytes(b"[" * 50_000 + b"]" * 50_000), "more than 32 levels deep"),
    "st-deep-metadata": (safetensors_bytes({"__metadata__": {"config": "{}", "x": nested(40)}}),
                         "more than 32 levels deep"),
    "st-infinity": (safetensors_bytes(b'{"w": {"dtype": "F32", "shape": [Infinity], "data_offsets": [0, 4]}}',
                                      bytes(4)), "Infinity is not a number"),
    "st-nan": (safetensors_bytes(b'{"w": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 4]}}', bytes(4)),
               "NaN is not a number"),
    "st-overflowing-float": (safetensors_bytes(b'{"w": {"dtype": "F32", "shape": [1e999], "data_offsets": [0, 4]}}',
                                               bytes(4)), "too large for a number"),
    "st-huge-integer": (safetensors_bytes({"w": {"dtype": "F32", "shape": [2**70, 2**70], "data_offsets": [0, 4]}},
                                          bytes(4)), "does not fit"),
    "st-float-shape": (safetensors_bytes({"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}, bytes(4)),
                       "malformed"),
    "st-large-header": (safetensors_bytes({"__metadata__": {"x": "a" * MAX_HEADER_BYTES}}),
                        f"more than the limit of {MAX_HEADER_BYTES:,}"),
    # npz: members that are not arrays, or that cannot be read without a password or another codec
    "npz-readme": (zip_bytes({"weight_ih_l0.npy": ARRAY, "readme.txt": b"my model"}),
                   "'readme.txt', which is not a .npy"),
    "npz-directory": (zip_bytes({"weight_ih_l0.npy": ARRAY, "weights/": b""}), "'weights/', which is not a .npy"),
    "npz-encrypted": (zip_bytes({"weight_ih_l0.npy": ARRAY}, encrypted=True), "encrypted member"),
    "npz-bzip2": (zip_bytes({"weight_ih_l0.npy": ARRAY}, zipfile.ZIP_BZIP2), "zip method 12; only stored or deflated"),
    "npz-lzma": (zip_bytes({"weight_ih_l0.npy": ARRAY}, zipfile.ZIP_LZMA), "zip method 14"),
    "npz-deep-header": (zip_bytes({"w.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 9000) + b"(" * 8999 + b"\n"}),
                        "not a valid .npz file"),
    # models too large for a shared server
    "too-many-layers": (torch_bytes(lstm_tensors(1, 1, num_layers=MAX_UPLOAD_LAYERS + 1)),
                        f"more than {MAX_UPLOAD_LAYERS} layers"),
    "layer-number-too-high": (torch_bytes({**lstm_tensors(), "weight_ih_l99999999999": torch.zeros(12, 3)}),
                              f"more than {MAX_UPLOAD_LAYERS} layers .*layer 99999999999"),
    "input-too-wide": (torch_bytes(lstm_tensors(MAX_UPLOAD_INPUT + 1, 1)),
                       f"vectors of {MAX_UPLOAD_INPUT + 1:,} numbers \\(input size\\), more than the limit"),
    "vocabulary-too-large": (torch_bytes({"embedding.weight": torch.zeros(MAX_UPLOAD_VOCAB + 1, 2),
                                          **lstm_tensors(prefix="lstm."),
                                          "decoder.weight": torch.zeros(MAX_UPLOAD_VOCAB + 1, 3)}),
                             f"{MAX_UPLOAD_VOCAB + 1:,} tokens, more than the limit of {MAX_UPLOAD_VOCAB:,}"),
}  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_WEIGHTS)
def test_a_hostile_weights_file_is_refused_with_its_reason(name):
    data, message = HOSTILE_WEIGHTS[name]
    assert len(data) < 2 * MAX_PICKLE_BYTES  # small files: what they would unpack to is the danger
    with pytest.raises(ValueError, match=message):
        split_model(read_weights(data, f"{name}.pt"))
    read = your_model.read_uploads(data, f"{name}.pt", None, "")
    assert read.model is None and read.error and not read.error[0].islower() and read.error.endswith(".")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (json.dumps(nested(40)).encode(), "more than 32 levels deep"),
        (b"[" * 200_000, "not valid JSON"),
        (b'{"<unk>": 0, "a": NaN}', "NaN is not a number"),
        (b'["<unk>", 1e999]', "too large for a number"),
        (json.dumps(["<unk>", ["x" * 10_000]]).encode(), r"entry 1 is \[.{60,80}\.\.\.: every token must be a string"),
    ],
    ids=["nested", "unclosed", "nan", "overflow", "long-entry"],
)
def test_a_hostile_vocabulary_is_refused_with_its_reason(data, message):
    with pytest.raises(ValueError, match=message):
        read_vocabulary(data, "vocab.json")
    read = your_model.read_uploads(torch_bytes(lstm_tensors()), "lstm.pt", data, "vocab.json")
    assert read.model is not None and read.vocab is None and read.vocab_error


# -------------------------------------------------------------- files that share storage honestly
def test_an_lstm_trained_on_a_gpu_shares_one_storage_and_is_read():
    """cuDNN keeps an LSTM's weights as slices of one flat buffer, and torch.save writes that buffer
    once: slices of their own are accepted, only overlapping ones are refused."""
    weights = lstm_tensors(3, 4, num_layers=2, bidirectional=True)
    flat = torch.cat([value.flatten() for value in weights.values()])
    views, start = {}, 0
    for key, value in weights.items():
        views[key] = flat[start : start + value.numel()].view(value.shape)
        start += value.numel()
    data = torch_bytes(views)
    assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) < len(weights)  # one storage for all
    lstm = split_model(read_weights(data, "gpu.pt")).lstm
    for key, value in weights.items():
        np.testing.assert_array_equal(lstm.state_dict()[key], value.numpy())


def test_a_transposed_tensor_is_read_as_its_values():
    weights = lstm_tensors()
    transposed = weights["weight_hh_l0"].t().contiguous().t()  # strides (1, 12): a view, not a copy
    assert transposed.stride() == (1, 12)
    tensors = read_weights(torch_bytes({**weights, "weight_hh_l0": transposed}), "t.pt")
    np.testing.assert_array_equal(tensors["weight_hh_l0"], weights["weight_hh_l0"].numpy())
    assert tensors["weight_hh_l0"].flags.c_contiguous


# ------------------------------------------------------------------------------- model size caps
def test_every_size_cap_names_its_limit():
    small = LSTM.random(2, 4, num_layers=2, bidirectional=True, seed=0)  # 16 units in all
    check_lstm_size(small)
    check_language_model_size(small, MAX_UPLOAD_VOCAB)
    with pytest.raises(ValueError, match=r"\(625,001 vectors\) is 10,000,016, more than the limit of 10,000,000"):
        check_lstm_size(small, steps=MAX_UPLOAD_WORK // 16 + 1)
    with pytest.raises(ValueError, match=r"2 layer\(s\) × 2 direction\(s\) × 4 units × the longest text"):
        check_language_model_size(small, 10, tokens=MAX_UPLOAD_WORK // 16 + 1)
    with pytest.raises(ValueError, match=f"more than the limit of {MAX_UPLOAD_VOCAB:,} tokens"):
        check_language_model_size(small, MAX_UPLOAD_VOCAB + 1)
    wide = {"weight_ih_l0": np.zeros((4 * (MAX_UPLOAD_HIDDEN + 1), 1), np.float16),
            "weight_hh_l0": np.zeros((4 * (MAX_UPLOAD_HIDDEN + 1), MAX_UPLOAD_HIDDEN + 1), np.float16)}  # fmt: skip
    with pytest.raises(ValueError, match=f"{MAX_UPLOAD_HIDDEN + 1:,} units per layer .*limit of {MAX_UPLOAD_HIDDEN:,}"):
        split_model(wide)


def test_a_language_model_must_read_the_longest_text_within_the_work_limit():
    """Eight layers of 251 units: as a bare LSTM they read their 2,000 vectors, but 5,000 tokens of
    text through 2,008 units is over the limit, whether the file or the vocabulary makes the model."""
    hidden = MAX_UPLOAD_WORK // MAX_UPLOAD_TEXT_TOKENS // MAX_UPLOAD_LAYERS + 1
    weights = {key: value.half().numpy() for key, value in lstm_tensors(2, hidden, "lstm.", num_layers=8).items()}
    bare = split_model(weights)
    assert bare.lstm.num_layers * bare.lstm.hidden_size * MAX_INPUT_STEPS <= MAX_UPLOAD_WORK
    message = rf"8 layer\(s\) × 1 direction\(s\) × {hidden} units × the longest text .*limit of 10,000,000"
    language = {"embedding.weight": np.zeros((5, 2), np.float16), **weights,
                "decoder.weight": np.zeros((5, hidden), np.float16)}  # fmt: skip
    with pytest.raises(ValueError, match=message):
        split_model(language)
    built_elsewhere = UploadedModel(bare.lstm, "lstm.", np.zeros((5, 2), np.float32), np.zeros((5, hidden), np.float32),
                                    np.zeros(5, np.float32), "embedding.weight", ())  # fmt: skip
    with pytest.raises(ValueError, match=message):
        build_language_model(built_elsewhere, [UNKNOWN_TOKEN, "a", "b", "c", "d"], "big")


def test_no_page_runs_a_text_longer_than_the_caps_assume():
    """The caps are checked once, on upload, against the longest text a page runs through a model:
    the page's text box cut, one token at most per character."""
    assert typed_text.MAX_TEXT_CHARS <= MAX_UPLOAD_TEXT_TOKENS
    hostile = ("a.!" * MAX_UPLOAD_TEXT_TOKENS)[: typed_text.MAX_TEXT_CHARS]
    cleaned = typed_text.clean_text(hostile * 3).text
    assert len(WordTokenizer([UNKNOWN_TOKEN, "a"]).tokens(cleaned)) <= MAX_UPLOAD_TEXT_TOKENS
    assert len(CharTokenizer().tokens(cleaned)) <= MAX_UPLOAD_TEXT_TOKENS


# -------------------------------------------------------------------------- the last resort
@pytest.mark.parametrize("error", [RecursionError("deep"), KeyError("x"), MemoryError(), NotImplementedError()])
def test_an_unforeseen_error_while_reading_becomes_a_message_and_is_logged(monkeypatch, caplog, error):
    def fails(*_):
        raise error

    monkeypatch.setattr(your_model, "read_model", fails)
    with caplog.at_level(logging.ERROR, logger="ui.your_model"):
        read = your_model.read_uploads(b"anything", "odd.pt", None, "")
    assert read.model is None
    assert read.error.startswith(f"This file could not be read ({type(error).__name__}).")
    assert "odd.pt" in caplog.text and caplog.records[-1].exc_info is not None

    monkeypatch.setattr(your_model, "read_model", lambda *_: "a model")
    monkeypatch.setattr(your_model, "read_vocabulary", fails)
    read = your_model.read_uploads(b"anything", "odd.pt", b"[]", "vocab.json")
    assert read.model == "a model" and read.vocab_error.startswith("This file could not be read")


def test_the_page_shows_an_unforeseen_error_as_a_message(monkeypatch):
    def fails(*_):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(your_model, "read_model", fails)
    app = upload(open_your_model(), 0, "odd.pt", b"PK\x03\x04")
    assert not app.exception
    assert "odd.pt: This file could not be read (RecursionError)." in errors(app)


# ------------------------------------------------------------------------------ peak memory
MEMORY_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    import torch  # loaded before the baseline: every .pt read needs it anyway
    from lstm_core.io.model_files import read_weights

    results = {}
    for path in sorted(Path(sys.argv[1]).iterdir()):
        data = path.read_bytes()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_weights(data, path.name)
            outcome = "read"
        except ValueError as error:
            outcome = str(error)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        results[path.name] = [grown / 1024, outcome]  # ru_maxrss is in KiB on Linux
    print(json.dumps(results))
    """
)


def test_small_files_that_unpack_huge_are_refused_within_a_little_memory(tmp_path):
    shared = torch.zeros(250_000)  # 1 MB stored, viewed whole by every entry
    files = {
        "expand.pt": torch_bytes({"weight_ih_l0": torch.zeros(1).expand(40_000, 40_000)}),
        "views.pt": torch_bytes({f"v{index}": shared.view(500, 500) for index in range(250)}),
        "strided.pt": HOSTILE_WEIGHTS["hundreds-of-views"][0],
        "shared.safetensors": safetensors_bytes(
            {f"w{index}": {"dtype": "F32", "shape": [250_000], "data_offsets": [0, 1_000_000]} for index in range(250)},
            bytes(1_000_000),
        ),
        "bomb.npz": zip_bytes(
            {"w.npy": npy_bytes(np.zeros(MAX_MODEL_BYTES // 4 + 1, np.float32))}, zipfile.ZIP_DEFLATED
        ),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert len(files["expand.pt"]) < 4_000 and len(files["bomb.npz"]) < 100_000
    child = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(tmp_path)], capture_output=True, text=True,
                           cwd=ROOT, timeout=120, check=True)  # fmt: skip
    results = json.loads(child.stdout.strip().splitlines()[-1])
    assert set(results) == set(files)
    for name, (grown_mib, outcome) in results.items():
        assert outcome != "read", name
        assert grown_mib < PEAK_MIB, (name, grown_mib, outcome)


# ------------------------------------------------------------------------- generated structures
MEMBER_NAMES = st.one_of(
    st.sampled_from(["weight_ih_l0.npy", "w.npy", "__config__.npy", "archive/data.pkl", "archive/data/0",
                     "archive/version", "data.pkl", "readme.txt", "dir/", "dir/w.npy", "a" * 300 + ".npy"]),
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12),
)  # fmt: skip


@st.composite
def npy_payloads(draw) -> bytes:
    """A .npy member: a real small array, a header whose shape is anything, or plain bytes."""
    kind = draw(st.sampled_from(["array", "header", "bytes"]))
    if kind == "array":
        dtype = draw(st.sampled_from(["<f4", "<f2", ">f8", "<i8", "|b1", "<c8", "|O", "<U3", "|V4"]))
        shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
        if dtype == "|O":
            array = np.empty(shape, dtype=object)
        else:
            array = np.zeros(shape, dtype=dtype)
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=True)
        return buffer.getvalue()
    if kind == "header":
        shape = draw(st.lists(st.integers(-2, 2**63), max_size=4))
        descr = draw(st.sampled_from(["<f4", "|O", "x", "<f4,<f4", "'", "[('a', '<f4')]"]))
        header = f"{{'descr': {descr!r}, 'fortran_order': {draw(st.booleans())}, 'shape': {tuple(shape)}, }}"
        header = header.ljust(118) + "\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + draw(st.binary(max_size=64))
    return draw(st.binary(max_size=64))


@st.composite
def zip_archives(draw) -> bytes:
    """A zip of members with the names, contents and compression methods a hostile .npz or .pt might use."""
    members = draw(st.dictionaries(MEMBER_NAMES, npy_payloads() | st.just(pickle.dumps({})), min_size=0, max_size=5))
    if draw(st.booleans()):  # sometimes the members of a real torch.save file, kept or damaged
        real = zipfile.ZipFile(io.BytesIO(torch_bytes(lstm_tensors())))
        members |= {info.filename: real.read(info) for info in real.infolist()}
        if members and draw(st.booleans()):
            name = draw(st.sampled_from(sorted(members)))
            members[name] = draw(st.binary(max_size=64) | npy_payloads())
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    data = zip_bytes(members, compression, encrypted=draw(st.booleans()) and draw(st.booleans()))
    cut = draw(st.none() | st.integers(0, len(data)))
    return data if cut is None else data[:cut]


def refused_or_read(data: bytes, filename: str) -> dict[str, np.ndarray] | None:
    """The arrays, or None after a ValueError that says something; any other exception fails the test."""
    try:
        tensors = read_weights(data, filename)
    except ValueError as error:
        assert str(error).strip()
        return None
    assert all(isinstance(value, np.ndarray) for value in tensors.values())
    assert sum(value.nbytes for value in tensors.values()) <= MAX_MODEL_BYTES
    try:
        split_model(tensors)
    except ValueError as error:
        assert str(error).strip()
    return tensors


@FAST
@given(data=zip_archives(), suffix=st.sampled_from([".npz", ".pt"]))
def test_any_zip_archive_is_refused_with_a_message_or_read(data, suffix):
    refused_or_read(data, "upload" + suffix)


JSON_LEAVES = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6)
ANY_JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
DTYPE_NAMES = st.sampled_from(["F32", "F16", "F64", "I64", "U8", "BOOL", "BF16", "F8_E4M3", "f32", ""]) | JSON_LEAVES
SIZES = st.integers(-2, 8) | st.sampled_from([2**31, 2**62, 2**64, 2**70])


@st.composite
def safetensors_files(draw) -> bytes:
    """A header of entries whose dtype, shape and byte range are each valid or not, sometimes
    overlapping, with metadata of any JSON (NaN and Infinity included), nested or not."""
    body_length = draw(st.integers(0, 96))
    header: dict = {}
    for index in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 9)) == 0:
            header[f"t{index}"] = draw(ANY_JSON)
            continue
        offsets = st.lists(st.integers(-2, body_length + 8), min_size=2, max_size=2)
        entry = {"dtype": draw(DTYPE_NAMES), "shape": draw(st.lists(SIZES, max_size=3) | ANY_JSON),
                 "data_offsets": draw(offsets | ANY_JSON)}  # fmt: skip
        if draw(st.booleans()) and isinstance(entry["dtype"], str) and entry["dtype"] in ("F32", "U8", "F16"):
            itemsize = {"F32": 4, "U8": 1, "F16": 2}[entry["dtype"]]
            shape = draw(st.lists(st.integers(0, 4), max_size=2))
            begin = draw(st.integers(0, body_length))
            entry |= {"shape": shape, "data_offsets": [begin, begin + math.prod(shape) * itemsize]}  # often valid
        header[f"t{index}"] = entry
    if draw(st.booleans()):
        header["__metadata__"] = draw(ANY_JSON | st.fixed_dictionaries({"config": st.just("{}") | st.text(max_size=8)}))
    value: object = header
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 40]))):
        value = [value]
    raw = json.dumps(value, allow_nan=True).encode()
    declared = draw(st.sampled_from([len(raw), len(raw)]) | st.integers(0, 2**64 - 1))
    return struct.pack("<Q", declared) + raw + draw(st.binary(min_size=body_length, max_size=body_length))


@FAST
@given(data=safetensors_files())
def test_any_safetensors_header_is_refused_with_a_message_or_read(data):
    tensors = refused_or_read(data, "upload.safetensors")
    if tensors is not None:  # what was read is what the header described, each range once
        assert len(tensors) <= MAX_UPLOAD_TENSORS


@st.composite
def strided_views(draw) -> dict[str, torch.Tensor]:
    """Tensors viewing one or two small storages with any sizes, strides (0 included) and offsets
    that torch accepts: what torch.save writes for views, expands and tied weights."""
    storages = [torch.arange(draw(st.integers(1, 64)), dtype=torch.float32) for _ in range(draw(st.integers(1, 2)))]
    views = {}
    for index in range(draw(st.integers(1, 4))):
        storage = draw(st.sampled_from(storages))
        shape = draw(st.lists(st.integers(0, 6) | st.sampled_from([1000, 40_000]), min_size=1, max_size=3))
        strides = draw(st.lists(st.integers(0, 8), min_size=len(shape), max_size=len(shape)))
        reach = sum((size - 1) * stride for size, stride in zip(shape, strides, strict=True)) if all(shape) else 0
        if reach >= len(storage):
            continue  # outside the storage: torch itself refuses to make it
        offset = draw(st.integers(0, len(storage) - 1 - reach))
        views[f"v{index}"] = storage.as_strided(shape, strides, offset)
    return views


@FAST
@given(views=strided_views())
def test_any_views_of_shared_storage_are_refused_or_read_as_their_values(views):
    try:
        tensors = read_weights(torch_bytes(views), "views.pt")
    except ValueError as error:
        assert str(error).strip()
        return
    total = sum(value.numel() for value in views.values())
    assert total * 4 <= MAX_MODEL_BYTES
    for key, value in views.items():
        np.testing.assert_array_equal(tensors[key], value.numpy())
    # read means: no value is read twice, by one tensor or by two
    addresses = [value.data_ptr() + 4 * offset for value in views.values() for offset in _element_offsets(value)]
    assert len(addresses) == len(set(addresses))


def _element_offsets(tensor: torch.Tensor) -> list[int]:
    grids = np.meshgrid(*[np.arange(size) * stride for size, stride in zip(tensor.shape, tensor.stride(), strict=True)],
                        indexing="ij")  # fmt: skip
    return [int(offset) for offset in np.sum(grids, axis=0).ravel()] if tensor.numel() else []


@FAST
@given(value=ANY_JSON | st.dictionaries(st.text(max_size=12), st.integers(-(2**70), 2**70) | st.text(max_size=3)))
def test_any_json_vocabulary_is_refused_with_a_message_or_read(value):
    try:
        tokens = read_vocabulary(json.dumps(value, allow_nan=True).encode(), "vocab.json")
    except ValueError as error:
        assert str(error).strip()
        return
    assert tokens and all(isinstance(token, str) for token in tokens) and len(set(tokens)) == len(tokens)
