"""Checkpoints that never run code: `.safetensors` and `.npz`, with a JSON config beside the weights.

`.safetensors` is read and written here directly (the format is an 8-byte little-endian header length,
a JSON header naming each tensor's dtype, shape and byte range, then raw little-endian bytes), so
loading is a bounds-checked copy of bytes. `.npz` is loaded with `allow_pickle=False`, and the
declared sizes inside the zip are checked before anything is decompressed. The config travels as
JSON: in the safetensors header's `__metadata__["config"]`, or as the `__config__` entry of the npz.

A file is read from bytes that may have been written to hurt: before a byte is copied, every size it
declares is added up and checked, byte ranges that two tensors share are refused (they would be copied
once per tensor), and so are zip members that are encrypted, compressed in an unusual way, or not
arrays, and JSON nested deeper than `MAX_JSON_DEPTH`. Every refusal is a `ValueError` saying why.

    >>> save_checkpoint("/tmp/m.safetensors", {"w": np.eye(2, dtype=np.float32)}, {"kind": "demo"})
    >>> tensors, config = load_checkpoint("/tmp/m.safetensors")
    >>> config["kind"], tensors["w"].shape
    ('demo', (2, 2))
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

__all__ = [
    "save_checkpoint", "load_checkpoint", "parse_json", "zip_members", "MAX_CHECKPOINT_BYTES",
    "MAX_CHECKPOINT_TENSORS", "MAX_HEADER_BYTES", "MAX_JSON_DEPTH", "MAX_ZIP_MEMBERS",
]  # fmt: skip

MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024  # far above any model this app shows; refuses decompression bombs
MAX_CHECKPOINT_TENSORS = 4096  # a language model has a few dozen
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 32  # a safetensors header is 3 levels deep, the shipped configs 5
MAX_ZIP_MEMBERS = 4096  # each entry of a zip's directory becomes a Python object before anything is checked
MAX_NDIM = 16
_CONFIG_KEY = "__config__"
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}  # what np.savez and torch.save write
_ZIP_DIRECTORY_ENTRY = b"PK\x01\x02"  # starts every entry of a zip's central directory

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


def load_checkpoint(
    source,
    max_bytes: int = MAX_CHECKPOINT_BYTES,
    max_tensors: int = MAX_CHECKPOINT_TENSORS,
    max_header_bytes: int = MAX_HEADER_BYTES,
) -> tuple[dict[str, np.ndarray], dict]:
    """Read `(tensors, config)` from a path, or from bytes / a binary file object (e.g. an upload).

    The format is recognised from the content, not the name. Anything that is not a well-formed
    safetensors or npz file of numeric arrays raises a ValueError that says what is wrong: a file over
    `max_bytes` (on disk or once unpacked), more than `max_tensors` arrays, a safetensors header over
    `max_header_bytes`, shared byte ranges, nested JSON, non-array zip members.
    """
    data = _read_bounded(source, max_bytes)
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _load_npz(data, max_bytes, max_tensors)
    if len(data) >= 8:
        return _load_safetensors(data, max_tensors, max_header_bytes)
    raise ValueError("not a checkpoint: the file is too short to be .safetensors or .npz")


def parse_json(text: str | bytes, what: str, max_depth: int = MAX_JSON_DEPTH, finite: bool = True):
    """The value of a JSON document from a file, or ValueError naming `what`: invalid JSON, not UTF-8,
    nested deeper than `max_depth`, or (with `finite`) holding NaN, Infinity or a number too large for
    a float. Python's JSON reader recurses once per level; its RecursionError becomes a refusal too."""
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{what} is not UTF-8 text (byte {error.start} cannot be read)") from None
    try:
        if finite:
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        else:
            value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{what} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except RecursionError:
        raise ValueError(
            f"{what} is not valid JSON here: it nests lists or objects more than {max_depth} levels deep"
        ) from None
    except ValueError as error:  # a refused constant, or an integer of more digits than Python converts
        raise ValueError(f"{what} is not valid JSON: {str(error)[:200]}") from None
    if _json_depth(value, max_depth) > max_depth:
        raise ValueError(f"{what} is not valid JSON here: it nests lists or objects more than {max_depth} levels deep")
    return value


def zip_members(data: bytes, what: str, max_members: int = MAX_ZIP_MEMBERS) -> list[zipfile.ZipInfo]:
    """The members of the zip archive `data`, each checked to be readable: not encrypted and stored or
    deflated (what np.savez and torch.save write). Raises ValueError naming `what` for more than
    `max_members` entries (counted before the directory is parsed), a broken archive, or such a member."""
    if data.count(_ZIP_DIRECTORY_ENTRY) > max_members:  # an upper bound: every directory entry starts so
        raise ValueError(f"the {what} has more than {max_members:,} entries")
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, struct.error) as error:
        raise ValueError(f"not a valid {what}: {str(error)[:200] or type(error).__name__}") from None
    for member in members:
        if member.flag_bits & 0x1:
            raise ValueError(
                f"the {what} has an encrypted member ({member.filename[:80]!r}); save it without a password"
            )
        if member.compress_type not in _ZIP_METHODS:
            raise ValueError(
                f"the {what} has a member ({member.filename[:80]!r}) compressed with zip method "
                f"{member.compress_type}; "
                f"only {' or '.join(_ZIP_METHODS.values())} members are read"
            )
    return members


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows here")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large for a number")
    return value


def _json_depth(value, limit: int) -> int:
    """Levels of lists and objects in `value` (a scalar is 0), counted without recursion; stops
    counting once past `limit`."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


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


def _load_safetensors(data: bytes, max_tensors: int, max_header_bytes: int) -> tuple[dict[str, np.ndarray], dict]:
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > len(data) - 8:
        raise ValueError(
            f"not a valid .safetensors file: its header claims {header_length:,} bytes but the file has {len(data) - 8:,} after the length"
        )
    if header_length > max_header_bytes:
        raise ValueError(
            f"not a valid .safetensors file: its header claims {header_length:,} bytes, more than the limit of "
            f"{max_header_bytes:,}"
        )
    try:
        header_text = data[8 : 8 + header_length].decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not a valid .safetensors file: the header is not JSON (it is not UTF-8 text)") from None
    try:
        header = parse_json(header_text, "the header")
    except ValueError as error:
        raise ValueError(f"not a valid .safetensors file: {error}") from None
    if not isinstance(header, dict):
        raise ValueError("not a valid .safetensors file: the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if len(header) > max_tensors:
        raise ValueError(f"the .safetensors file holds {len(header):,} tensors, more than the limit of {max_tensors:,}")
    body = memoryview(data)[8 + header_length :]
    entries = {name: _safetensors_entry(name, entry, len(body)) for name, entry in header.items()}
    _refuse_shared_ranges((begin, end, name) for name, (_, _, begin, end) in entries.items())
    tensors = {
        name: np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        for name, (dtype, shape, begin, end) in entries.items()
    }
    config_text = metadata.get("config", "{}") if isinstance(metadata, dict) else "{}"
    return tensors, _parse_config(config_text)


def _safetensors_entry(name: str, entry, body_bytes: int) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """(dtype, shape, begin, end) of one header entry, checked against the body's length."""
    malformed = ValueError(f"tensor {name[:80]!r}: malformed entry in the .safetensors header")
    if not isinstance(entry, dict):
        raise malformed
    dtype_name, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype_name == "BF16":
        raise ValueError(f"tensor {name[:80]!r} is bfloat16; save it as float32")
    dtype = _SAFETENSORS_DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
    if dtype is None or not _int_list(shape, MAX_NDIM) or not _int_list(offsets, 2) or len(offsets) != 2:
        raise malformed
    begin, end = offsets
    count = math.prod(shape)  # Python integers: a huge shape cannot wrap around to a small count
    if min(shape, default=0) < 0 or not 0 <= begin <= end <= body_bytes or end - begin != count * dtype.itemsize:
        raise ValueError(
            f"tensor {name[:80]!r}: its byte range {begin}..{end} does not fit dtype {dtype_name}, shape {shape} "
            "and the file"
        )
    return dtype, tuple(shape), begin, end


def _int_list(value, max_length: int) -> bool:
    return isinstance(value, list) and len(value) <= max_length and all(_is_int(item) for item in value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_shared_ranges(ranges) -> None:
    """Refuse two tensors whose byte ranges (begin, end, name) overlap: each would be copied whole, so a
    few bytes named many times would cost many copies."""
    previous = None
    for begin, end, name in sorted(item for item in ranges if item[1] > item[0]):
        if previous is not None and begin < previous[1]:
            raise ValueError(
                f"tensors {previous[2][:80]!r} and {name[:80]!r} share bytes {begin}..{min(end, previous[1])} of the "
                "file: every tensor must have a byte range of its own"
            )
        if previous is None or end > previous[1]:
            previous = (begin, end, name)


def _load_npz(data: bytes, max_bytes: int, max_tensors: int) -> tuple[dict[str, np.ndarray], dict]:
    members = zip_members(data, ".npz file")
    declared = sum(member.file_size for member in members)
    if declared > max_bytes:
        raise ValueError(f"the .npz declares {declared:,} bytes once unpacked, more than the limit of {max_bytes:,}")
    for member in members:
        if member.is_dir() or not member.filename.endswith(".npy"):
            raise ValueError(
                f"the .npz holds {member.filename[:80]!r}, which is not a .npy array: an .npz holds arrays only "
                "(as np.savez writes it)"
            )
    if len(members) > max_tensors + 1:  # + the config
        raise ValueError(f"the .npz holds {len(members):,} arrays, more than the limit of {max_tensors:,}")
    archive = zipfile.ZipFile(io.BytesIO(data))
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
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError) as error:
        raise ValueError(f"not a valid .npz file: {str(error)[:200] or type(error).__name__}") from None
    return tensors, _parse_config(config_text)


def _check_npy_headers(archive: zipfile.ZipFile) -> None:
    """Refuse an array whose header promises more data than its member holds, before NumPy allocates
    it: a few bytes can declare a shape of petabytes."""
    for info in archive.infolist():
        try:
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                header_bytes = member.tell()
        except Exception as error:  # noqa: BLE001 - NumPy parses headers with tokenize and ast
            raise ValueError(f"not a valid .npz file: array {info.filename[:80]!r}: {str(error)[:200]}") from None
        needed = math.prod(shape) * dtype.itemsize
        if needed > info.file_size - header_bytes:
            raise ValueError(
                f"array {info.filename.removesuffix('.npy')[:80]!r} declares shape {tuple(shape)} ({needed:,} bytes) "
                f"but holds only {max(info.file_size - header_bytes, 0):,} bytes"
            )


def _parse_config(text) -> dict:
    try:
        config = parse_json(text, "the checkpoint's config", finite=False) if isinstance(text, str) else None
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise ValueError("the checkpoint's config is not a JSON object")
    return config
