"""Checkpoints that never run code: `.safetensors` and `.npz`, with a JSON config beside the weights.

`.safetensors` is read and written here directly (the format is an 8-byte little-endian header length,
a JSON header naming each tensor's dtype, shape and byte range, then raw little-endian bytes), so
loading is a bounds-checked copy of bytes. `.npz` is loaded with `allow_pickle=False`, and the
declared sizes inside the zip are checked before anything is decompressed. The config travels as
JSON: in the safetensors header's `__metadata__["config"]`, or as the `__config__` entry of the npz.

    >>> save_checkpoint("/tmp/m.safetensors", {"w": np.eye(2, dtype=np.float32)}, {"kind": "demo"})
    >>> tensors, config = load_checkpoint("/tmp/m.safetensors")
    >>> config["kind"], tensors["w"].shape
    ('demo', (2, 2))
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from collections.abc import Mapping

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint", "MAX_CHECKPOINT_BYTES"]

MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024  # far above any model this app shows; refuses decompression bombs
_MAX_HEADER_BYTES = 16 * 1024 * 1024
_CONFIG_KEY = "__config__"

_SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}  # fmt: skip
_SAFETENSORS_NAMES = {dtype: name for name, dtype in _SAFETENSORS_DTYPES.items()}


def save_checkpoint(path: str | os.PathLike, tensors: Mapping[str, np.ndarray], config: Mapping | None = None) -> None:
    """Write `tensors` and a JSON-serialisable `config` to `.safetensors` or `.npz` (by the suffix)."""
    path = os.fspath(path)
    config_text = json.dumps(dict(config or {}), sort_keys=True)
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == _CONFIG_KEY or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        array = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
        if array.dtype.newbyteorder("<") not in _SAFETENSORS_NAMES and array.dtype not in _SAFETENSORS_NAMES:
            raise ValueError(f"tensor {name!r} has dtype {array.dtype}; only numeric and bool arrays can be saved")
        arrays[name] = array
    if path.endswith(".safetensors"):
        with open(path, "wb") as file:
            file.write(_safetensors_bytes(arrays, config_text))
    elif path.endswith(".npz"):
        config_bytes = np.frombuffer(config_text.encode("utf-8"), dtype=np.uint8)
        np.savez(path, **arrays, **{_CONFIG_KEY: config_bytes})
    else:
        raise ValueError(f"{path!r}: the checkpoint format is chosen by the suffix, .safetensors or .npz")


def load_checkpoint(source, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[dict[str, np.ndarray], dict]:
    """Read `(tensors, config)` from a path, or from bytes / a binary file object (e.g. an upload).

    The format is recognised from the content, not the name. Anything that is not a well-formed
    safetensors or npz file of numeric arrays raises a ValueError that says what is wrong.
    """
    data = _read_bounded(source, max_bytes)
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _load_npz(data, max_bytes)
    if len(data) >= 8:
        return _load_safetensors(data)
    raise ValueError("not a checkpoint: the file is too short to be .safetensors or .npz")


def _read_bounded(source, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        try:
            size = os.path.getsize(source)
        except OSError as error:
            raise ValueError(f"cannot read checkpoint {os.fspath(source)!r}: {error.strerror}") from None
        if size > max_bytes:
            raise ValueError(f"checkpoint is {size:,} bytes, more than the limit of {max_bytes:,}")
        with open(source, "rb") as file:
            data = file.read()
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        raise ValueError(f"load_checkpoint takes a path, bytes or a binary file, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise ValueError(f"checkpoint is more than the limit of {max_bytes:,} bytes")
    return data


def _safetensors_bytes(arrays: Mapping[str, np.ndarray], config_text: str) -> bytes:
    header: dict = {"__metadata__": {"config": config_text}}
    chunks, offset = [], 0
    for name, array in arrays.items():
        little = np.ascontiguousarray(
            array, dtype=array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
        )
        raw = little.tobytes()
        header[name] = {"dtype": _SAFETENSORS_NAMES[little.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}  # fmt: skip
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # the format aligns the data to 8 bytes
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def _load_safetensors(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > min(_MAX_HEADER_BYTES, len(data) - 8):
        raise ValueError(
            f"not a valid .safetensors file: its header claims {header_length:,} bytes but the file has {len(data) - 8:,} after the length"
        )
    try:
        header = json.loads(data[8 : 8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not a valid .safetensors file: the header is not JSON") from None
    if not isinstance(header, dict):
        raise ValueError("not a valid .safetensors file: the header is not a JSON object")
    body = memoryview(data)[8 + header_length :]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, entry in header.items():
        try:
            dtype = _SAFETENSORS_DTYPES[entry["dtype"]]
            shape = tuple(int(n) for n in entry["shape"])
            begin, end = (int(n) for n in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            if isinstance(entry, dict) and entry.get("dtype") == "BF16":
                raise ValueError(f"tensor {name!r} is bfloat16; save it as float32") from None
            raise ValueError(f"tensor {name!r}: malformed entry in the .safetensors header") from None
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(body) or end - begin != count * dtype.itemsize:
            raise ValueError(
                f"tensor {name!r}: its byte range {begin}..{end} does not fit dtype {entry['dtype']}, shape {list(shape)} and the file"
            )
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    config_text = metadata.get("config", "{}") if isinstance(metadata, dict) else "{}"
    return tensors, _parse_config(config_text)


def _load_npz(data: bytes, max_bytes: int) -> tuple[dict[str, np.ndarray], dict]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(f"not a valid .npz file: {error}") from None
    if declared > max_bytes:
        raise ValueError(f"the .npz declares {declared:,} bytes once unpacked, more than the limit of {max_bytes:,}")
    _check_npy_headers(archive)
    tensors, config_text = {}, "{}"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for name in npz.files:
                array = npz[name]
                if name == _CONFIG_KEY:
                    config_text = array.astype(np.uint8).tobytes().decode("utf-8")
                elif array.dtype.kind not in "fiub":
                    raise ValueError(f"array {name!r} has dtype {array.dtype}; only numeric arrays are accepted")
                else:
                    tensors[name] = array
    except ValueError as error:
        message = str(error)
        if "allow_pickle" in message or "Object arrays" in message:
            raise ValueError(
                "the .npz holds Python objects (a pickle); they are refused because loading them could run code"
            ) from None
        raise ValueError(f"not a valid .npz checkpoint: {message}") from None
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as error:
        raise ValueError(f"not a valid .npz file: {error}") from None
    return tensors, _parse_config(config_text)


def _check_npy_headers(archive: zipfile.ZipFile) -> None:
    """Refuse an array whose header promises more data than its member holds, before NumPy allocates
    it: a few bytes can declare a shape of petabytes."""
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            continue
        try:
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                header_bytes = member.tell()
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"not a valid .npz file: array {info.filename!r}: {error}") from None
        needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if needed > info.file_size - header_bytes:
            raise ValueError(
                f"array {info.filename.removesuffix('.npy')!r} declares shape {tuple(shape)} ({needed:,} bytes) "
                f"but holds only {max(info.file_size - header_bytes, 0):,} bytes"
            )


def _parse_config(text) -> dict:
    try:
        config = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        config = None
    if not isinstance(config, dict):
        raise ValueError("the checkpoint's config is not a JSON object")
    return config
