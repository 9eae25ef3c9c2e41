"""Checkpoints: round trips, interoperability with the safetensors package, and hostile files."""

import io
import json
import pickle
import struct
import zipfile

import numpy as np
import pytest

from lstm_core import LSTM, load_checkpoint, save_checkpoint


@pytest.fixture
def tensors():
    rng = np.random.default_rng(0)
    return {
        "embedding.weight": rng.normal(size=(10, 4)).astype(np.float32),
        "lstm.weight_ih_l0": rng.normal(size=(12, 4)),
        "ids": np.arange(5, dtype=np.int64),
        "flags": np.array([True, False]),
        "half": np.ones(3, dtype=np.float16),
    }


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_round_trip_keeps_values_dtypes_and_config(tmp_path, tensors, suffix):
    config = {"kind": "words", "sizes": [1, 2], "units": {"subject gender": {"unit": 3}}}
    path = tmp_path / f"model{suffix}"
    save_checkpoint(path, tensors, config)
    loaded, loaded_config = load_checkpoint(path)
    assert loaded_config == config
    assert loaded.keys() == tensors.keys()
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)
    # bytes and file objects work as well as paths (uploads arrive that way)
    assert load_checkpoint(path.read_bytes())[1] == config
    assert load_checkpoint(io.BytesIO(path.read_bytes()))[1] == config


def test_safetensors_interoperates_with_the_reference_library(tmp_path, tensors):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    ours = tmp_path / "ours.safetensors"
    save_checkpoint(ours, tensors, {"a": 1})
    theirs = safetensors_numpy.load_file(str(ours))
    for name, array in tensors.items():
        np.testing.assert_array_equal(theirs[name], array)
    written = tmp_path / "theirs.safetensors"
    safetensors_numpy.save_file(tensors, str(written), metadata={"config": json.dumps({"b": 2})})
    loaded, config = load_checkpoint(written)
    assert config == {"b": 2}
    for name, array in tensors.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_an_lstm_survives_a_checkpoint(tmp_path):
    lstm = LSTM.random(3, 5, 2, True, seed=0)
    save_checkpoint(tmp_path / "lstm.safetensors", lstm.state_dict(), {})
    tensors, _ = load_checkpoint(tmp_path / "lstm.safetensors")
    x = np.ones((4, 3))
    np.testing.assert_array_equal(LSTM.from_state_dict(tensors).run(x).output, lstm.run(x).output)


class RunsCode:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('/tmp/lstm_pwned').write_text('x')",))


def test_a_pickle_that_runs_code_is_refused_and_does_not_run(tmp_path):
    import pathlib

    marker = pathlib.Path("/tmp/lstm_pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.array([RunsCode()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load_checkpoint(path)
    with pytest.raises(ValueError):
        load_checkpoint(pickle.dumps(RunsCode()))
    assert not marker.exists()


def safetensors_with_header(header: dict, body: bytes = b"", declared: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if declared is None else declared) + raw + body


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "too short"),
        (b"\x00" * 5, "too short"),
        (struct.pack("<Q", 2**62) + b"{}", "header claims"),
        (safetensors_with_header({}, declared=10**6), "header claims"),
        (struct.pack("<Q", 4) + b"\xff\xfe{]", "not JSON"),
        (safetensors_with_header([1, 2]), "not a JSON object"),
        (safetensors_with_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 4), "does not fit"),
        (safetensors_with_header({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\x00" * 8), "does not fit"),
        (safetensors_with_header({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\x00" * 8), "does not fit"),
        (safetensors_with_header({"w": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 8]}}, b"\x00" * 8), "malformed"),
        (safetensors_with_header({"w": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\x00" * 2), "bfloat16"),
        (safetensors_with_header({"w": 3}), "malformed"),
        (safetensors_with_header({"__metadata__": {"config": "[1]"}}), "config is not a JSON object"),
        (b"PK\x03\x04garbage", "not a valid .npz"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        load_checkpoint(data)


def test_truncated_files_are_refused(tmp_path, tensors):
    for suffix in (".safetensors", ".npz"):
        path = tmp_path / f"m{suffix}"
        save_checkpoint(path, tensors, {})
        data = path.read_bytes()
        with pytest.raises(ValueError):
            load_checkpoint(data[: len(data) // 2])


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        header = b"\x93NUMPY\x01\x00" + b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }".ljust(118) + b"\n"
        archive.writestr("w.npy", header + bytes(400_000_000))
    with pytest.raises(ValueError, match="declares"):
        load_checkpoint(buffer.getvalue(), max_bytes=50_000_000)


def test_oversized_files_and_wrong_types_are_refused(tmp_path):
    path = tmp_path / "big.safetensors"
    path.write_bytes(b"\x00" * 2000)
    with pytest.raises(ValueError, match="limit"):
        load_checkpoint(path, max_bytes=1000)
    with pytest.raises(ValueError, match="cannot read"):
        load_checkpoint(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="takes a path"):
        load_checkpoint(12)
    with pytest.raises(ValueError, match="suffix"):
        save_checkpoint(tmp_path / "m.pt", {}, {})
    with pytest.raises(ValueError, match="only numeric"):
        save_checkpoint(tmp_path / "m.npz", {"s": np.array(["a"])}, {})
