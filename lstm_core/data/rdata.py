"""A small reader of R's serialisation format, enough for the data of an R package's lazy-load database.

R stores a package's data sets in `data/Rdata.rdx` (an index) and `data/Rdata.rdb` (the values).
Both hold objects written by R's `serialize()` in its XDR (big-endian binary) form, version 2 or 3:

- `.rdx` is an RDS file (gzip-compressed serialisation) of a named list with `variables` (name ->
  integer vector `c(offset, length)` into the `.rdb`), `references` and `compressed`;
- each `.rdb` entry is a 4-byte big-endian uncompressed length followed by zlib data (R's default,
  `compressed = TRUE`), which is one serialisation stream.

The reader decodes NULL, logical, integer, double and character vectors (with their string
encodings), lists, pairlists and symbols, and the attributes of each; anything else (functions,
environments, complex numbers, compact ALTREP sequences, ...) is refused with an `RDataError`
naming the R type, never guessed. The format is described in R's `src/main/serialize.c` and in
"R Internals", section 1.8.

>>> import gzip
>>> stream = b"X\\n" + bytes.fromhex("00000002" "00040200" "00020300" "0000000d" "00000002" "00000007" "80000000")
>>> read_rds(gzip.compress(stream))
RVector(type='integer', values=[7, None], attributes={})
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "RDataError",
    "RSymbol",
    "RVector",
    "LazyLoadIndex",
    "read_serialized",
    "read_rds",
    "read_lazyload_index",
    "read_lazyload_entry",
    "read_lazyload_database",
]


class RDataError(ValueError):
    """The bytes are not R serialisation this reader handles; the message says what was found."""


@dataclass(frozen=True)
class RSymbol:
    """An R symbol (a name such as `names` or `class`), as it appears in tags and attributes."""

    name: str


@dataclass(frozen=True)
class RVector:
    """One decoded R vector.

    type: "logical", "integer", "double", "character", "list" or "pairlist".
    values: the elements in order, NA as None; a list's elements are decoded values
        (`RVector`, `RSymbol` or None for NULL).
    attributes: attribute name -> decoded value, e.g. "names" -> a character `RVector`.

    >>> v = RVector("integer", [1, 2], {"names": RVector("character", ["a", "b"])})
    >>> v.names, v.to_dict()
    (['a', 'b'], {'a': 1, 'b': 2})
    """

    type: str
    values: list[Any]
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str | None] | None:
        """The `names` attribute as a list of strings, or None when the vector has none."""
        names = self.attributes.get("names")
        return None if names is None else list(names.values)

    def to_dict(self) -> dict[str, Any]:
        """name -> element for a named vector; raises `RDataError` when names are missing or repeated."""
        names = self.names
        if names is None or len(names) != len(self.values):
            raise RDataError(f"this {self.type} vector has no names for its {len(self.values)} elements")
        if len(set(names)) != len(names) or None in names:
            raise RDataError(f"this {self.type} vector has missing or repeated names")
        return dict(zip(names, self.values, strict=True))  # type: ignore[arg-type]


@dataclass(frozen=True)
class LazyLoadIndex:
    """The `.rdx` index of a lazy-load database.

    variables: variable name -> (byte offset, byte length) of its entry in the `.rdb`.
    compression: 1 for zlib (the only one this reader decodes), 2 for bzip2, 3 for xz.
    """

    variables: dict[str, tuple[int, int]]
    compression: int


# Type codes from R's Rinternals.h and serialize.c.
_NILSXP, _SYMSXP, _LISTSXP, _CHARSXP = 0, 1, 2, 9
_LGLSXP, _INTSXP, _REALSXP, _STRSXP, _VECSXP = 10, 13, 14, 16, 19
_REFSXP, _NILVALUE_SXP = 255, 254
_TYPE_NAMES = {
    0: "NULL", 1: "symbol", 2: "pairlist", 3: "closure", 4: "environment", 5: "promise",
    6: "language object", 7: "special function", 8: "builtin function", 9: "string", 10: "logical",
    13: "integer", 14: "double", 15: "complex", 16: "character", 17: "dots", 18: "any", 19: "list",
    20: "expression", 21: "bytecode", 22: "external pointer", 23: "weak reference", 24: "raw", 25: "S4 object",
    238: "ALTREP object (a compact or wrapped vector)", 239: "attributed pairlist (old format)",
    240: "attributed language object (old format)", 241: "base environment", 242: "empty environment",
    246: "class reference", 247: "persistent reference (an environment or external object)",
    248: "package environment", 249: "namespace", 250: "base namespace", 251: "missing argument",
    252: "unbound value", 253: "global environment",
}  # fmt: skip
_VECTOR_TYPE_NAMES = {_LGLSXP: "logical", _INTSXP: "integer", _REALSXP: "double", _STRSXP: "character", _VECSXP: "list"}
_NA_INTEGER = -(2**31)
# R's NA_real_ is a NaN whose low word is 1954; other NaNs are plain NaN.
_NA_REAL_LOW_WORD = 1954
# Flags of a CHARSXP's "levels" field (R's Defn.h): how the bytes are encoded.
_BYTES_MASK, _LATIN1_MASK, _UTF8_MASK, _ASCII_MASK = 1 << 1, 1 << 2, 1 << 3, 1 << 6
# R's lazy-load `compressed` field: TRUE (1) means zlib; 2 and 3 are bzip2 and xz containers.
_COMPRESSION_NAMES = {1: "zlib", 2: "bzip2", 3: "xz"}


class _Stream:
    """Reads one XDR serialisation stream; keeps the reference table that symbols go into."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0
        self.references: list[Any] = []
        self.native_encoding = "utf-8"

    def take(self, count: int) -> bytes:
        end = self.position + count
        if count < 0 or end > len(self.data):
            raise RDataError(f"the stream ends early: {count} bytes wanted at byte {self.position} of {len(self.data)}")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def integer(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def length(self) -> int:
        length = self.integer()
        if length == -1:  # a long vector: two more words, upper and lower half
            upper, lower = struct.unpack(">II", self.take(8))
            length = (upper << 32) + lower
        if length < 0:
            raise RDataError(f"negative vector length {length} at byte {self.position}")
        return length

    def header(self) -> None:
        form = self.take(2)
        if form != b"X\n":
            named = {
                b"A\n": "ASCII",
                b"B\n": "native binary",
                b"RD": "an .RData file (use its payload after 'RDX3\\n')",
            }
            raise RDataError(
                f"not XDR serialisation: starts with {form!r} ({named.get(form, 'unknown format')}); "
                "this reader handles R's default XDR form only"
            )
        version = self.integer()
        self.integer()  # the R version that wrote it
        self.integer()  # the oldest R version that can read it
        if version == 3:
            self.native_encoding = self.take(self.integer()).decode("ascii")
        elif version != 2:
            raise RDataError(f"serialisation format version {version}; this reader handles versions 2 and 3")

    def item(self) -> Any:
        flags = self.integer()
        sexp_type = flags & 0xFF
        has_attributes = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        levels = flags >> 12
        if sexp_type == _NILVALUE_SXP:
            return None
        if sexp_type == _REFSXP:
            index = flags >> 8 or self.integer()
            if not 1 <= index <= len(self.references):
                raise RDataError(f"reference {index} points outside the {len(self.references)} seen so far")
            return self.references[index - 1]
        if sexp_type == _SYMSXP:
            name_flags = self.integer()
            symbol = RSymbol(self._string(name_flags, name_flags >> 12) or "")
            self.references.append(symbol)
            return symbol
        if sexp_type == _LISTSXP:
            return self._pairlist(has_attributes, has_tag)
        if sexp_type == _CHARSXP:
            return self._string(flags, levels)
        if sexp_type in _VECTOR_TYPE_NAMES:
            values = self._vector_values(sexp_type)
            attributes = self._attributes() if has_attributes else {}
            return RVector(_VECTOR_TYPE_NAMES[sexp_type], values, attributes)
        name = _TYPE_NAMES.get(sexp_type, f"unknown type {sexp_type}")
        raise RDataError(
            f"cannot decode an R {name} (type code {sexp_type}) at byte {self.position - 4}: this reader "
            "handles NULL, logical, integer, double and character vectors, lists and pairlists"
        )

    def _string(self, flags: int, levels: int) -> str | None:
        """A CHARSXP whose flags word has just been read (for a symbol's name, `flags` is read by the caller)."""
        if flags & 0xFF != _CHARSXP:
            raise RDataError(f"expected a string (type 9), found type {flags & 0xFF} at byte {self.position - 4}")
        length = self.integer()
        if length == -1:
            return None  # NA_character_
        raw = self.take(length)
        if levels & _BYTES_MASK:
            raise RDataError(
                f"a string marked as raw bytes (no encoding) at byte {self.position - length}: {raw[:40]!r}"
            )
        if levels & _UTF8_MASK or levels & _ASCII_MASK:
            encoding = "utf-8"
        elif levels & _LATIN1_MASK:
            encoding = "latin-1"
        else:
            encoding = self.native_encoding
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as error:
            raise RDataError(f"cannot decode a string as {encoding}: {error}") from None

    def _vector_values(self, sexp_type: int) -> list[Any]:
        length = self.length()
        if sexp_type in (_LGLSXP, _INTSXP):
            raw = struct.unpack(f">{length}i", self.take(4 * length))
            if sexp_type == _LGLSXP:
                return [None if value == _NA_INTEGER else bool(value) for value in raw]
            return [None if value == _NA_INTEGER else value for value in raw]
        if sexp_type == _REALSXP:
            chunk = self.take(8 * length)
            words = struct.unpack(f">{length}Q", chunk)
            reals = struct.unpack(f">{length}d", chunk)
            return [
                None if math.isnan(real) and word & 0xFFFFFFFF == _NA_REAL_LOW_WORD else real
                for real, word in zip(reals, words, strict=True)
            ]
        if sexp_type == _STRSXP:
            strings = []
            for _ in range(length):
                flags = self.integer()
                strings.append(self._string(flags, flags >> 12))
            return strings
        return [self.item() for _ in range(length)]  # a list

    def _attributes(self) -> dict[str, Any]:
        pairlist = self.item()
        if not isinstance(pairlist, RVector) or pairlist.type != "pairlist":
            raise RDataError(f"attributes must be a pairlist, found {pairlist!r:.80}")
        names = pairlist.names or []
        if len(names) != len(pairlist.values) or None in names:
            raise RDataError("an attribute without a name")
        return dict(zip(names, pairlist.values, strict=True))  # type: ignore[arg-type]

    def _pairlist(self, has_attributes: bool, has_tag: bool) -> RVector:
        """A pairlist, read cell by cell (iteratively, so long ones do not exhaust the recursion limit)."""
        tags: list[str | None] = []
        values: list[Any] = []
        attributes: dict[str, Any] = {}
        while True:
            cell_attributes = self._attributes() if has_attributes else {}
            if not values:
                attributes = cell_attributes
            tag = self.item() if has_tag else None
            if tag is not None and not isinstance(tag, RSymbol):
                raise RDataError(f"a pairlist tag must be a symbol, found {tag!r:.80}")
            tags.append(tag.name if tag is not None else None)
            values.append(self.item())
            flags = self.integer()
            if flags & 0xFF == _NILVALUE_SXP:
                break
            if flags & 0xFF != _LISTSXP:
                self.position -= 4
                raise RDataError(f"a pairlist ends in an R {_TYPE_NAMES.get(flags & 0xFF, flags & 0xFF)}, not NULL")
            has_attributes = bool(flags & (1 << 9))
            has_tag = bool(flags & (1 << 10))
        if any(tag is not None for tag in tags):
            attributes = {**attributes, "names": RVector("character", tags)}
        return RVector("pairlist", values, attributes)


def read_serialized(data: bytes) -> Any:
    """Decode one uncompressed serialisation stream (starting with b"X\\n") into Python values.

    Returns None for NULL, an `RVector` for a vector, list or pairlist, an `RSymbol` for a symbol.
    Raises `RDataError` for any other format or R type, or for trailing bytes.
    """
    stream = _Stream(data)
    stream.header()
    value = stream.item()
    if stream.position != len(data):
        raise RDataError(f"{len(data) - stream.position} unread bytes after the serialised object")
    return value


def read_rds(data: bytes) -> Any:
    """Decode the contents of an `.rds` file (`saveRDS`): gzip-compressed or plain XDR serialisation."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise RDataError(f"a damaged gzip stream: {error}") from None
    elif data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00":
        raise RDataError("a bzip2- or xz-compressed .rds file; this reader handles gzip (R's default) only")
    return read_serialized(data)


def read_lazyload_index(rdx: bytes) -> LazyLoadIndex:
    """Decode an `.rdx` file: which variables the `.rdb` holds, where, and how they are compressed.

    >>> # index = read_lazyload_index(Path("data/Rdata.rdx").read_bytes())
    >>> # index.variables["emma"] -> (0, 352043); index.compression -> 1
    """
    index = read_rds(rdx)
    if not isinstance(index, RVector) or index.type != "list":
        raise RDataError(f"an .rdx file holds a named list, found {index!r:.80}")
    fields = index.to_dict()
    if "variables" not in fields:
        raise RDataError(f"an .rdx list without 'variables' (it has {sorted(fields)})")
    listed = fields["variables"]
    variables: dict[str, tuple[int, int]] = {}
    for name, position in (listed.to_dict() if isinstance(listed, RVector) and listed.values else {}).items():
        if not isinstance(position, RVector) or position.type not in ("integer", "double") or len(position.values) != 2:
            raise RDataError(f"the position of {name!r} is not a pair (offset, length): {position!r:.80}")
        offset, length = (int(value) for value in position.values)
        variables[name] = (offset, length)
    compressed = fields.get("compressed")
    compression = 1
    if isinstance(compressed, RVector) and compressed.values:
        compression = int(compressed.values[0])
    return LazyLoadIndex(variables=variables, compression=compression)


def read_lazyload_entry(rdb: bytes, offset: int, length: int, compression: int = 1) -> Any:
    """Decode the entry at `offset` (of `length` bytes) of an `.rdb` file's contents."""
    if compression != 1:
        name = _COMPRESSION_NAMES.get(compression, f"type {compression}")
        raise RDataError(f"a {name}-compressed lazy-load database; this reader handles zlib (R's default) only")
    if offset < 0 or length < 4 or offset + length > len(rdb):
        raise RDataError(f"entry (offset {offset}, length {length}) lies outside the {len(rdb)}-byte .rdb file")
    expected_size = struct.unpack(">I", rdb[offset : offset + 4])[0]
    try:
        data = zlib.decompress(rdb[offset + 4 : offset + length])
    except zlib.error as error:
        raise RDataError(f"entry at offset {offset} is not zlib data: {error}") from None
    if len(data) != expected_size:
        raise RDataError(f"entry at offset {offset} unpacks to {len(data)} bytes, its header says {expected_size}")
    return read_serialized(data)


def read_lazyload_database(rdb_path: Path, rdx_path: Path | None = None) -> dict[str, Any]:
    """All variables of a lazy-load database: name -> decoded value.

    `rdx_path` defaults to `rdb_path` with the suffix `.rdx`.

    >>> # books = read_lazyload_database(Path(".../janeaustenr/data/Rdata.rdb"))
    >>> # books["emma"].type -> 'character'; books["emma"].values[:3] -> ['EMMA', '', 'By Jane Austen']
    """
    rdx_path = rdx_path or rdb_path.with_suffix(".rdx")
    index = read_lazyload_index(rdx_path.read_bytes())
    rdb = rdb_path.read_bytes()
    return {
        name: read_lazyload_entry(rdb, offset, length, index.compression)
        for name, (offset, length) in index.variables.items()
    }
