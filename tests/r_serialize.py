"""A small writer of R's XDR serialisation, so the tests can make .rds/.rdb/.rdx files without R.

It writes what `lstm_core.data.rdata` reads, laid out as R's `serialize()` does (src/main/serialize.c):
a header, then each object as a flags word (type, "has attributes", "has tag", string encoding) and
its contents; a symbol seen before is written as a reference to its first occurrence.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from typing import Any

from lstm_core.data.rdata import RSymbol, RVector

_TYPE_CODES = {"logical": 10, "integer": 13, "double": 14, "character": 16, "list": 19, "pairlist": 2}
NA_INTEGER = -(2**31)
NA_REAL_BITS = 0x7FF00000000007A2
UTF8_LEVEL, LATIN1_LEVEL, ASCII_LEVEL, BYTES_LEVEL = 1 << 3, 1 << 2, 1 << 6, 1 << 1


def word(value: int) -> bytes:
    return struct.pack(">i", value)


def flags(sexp_type: int, levels: int = 0, has_attributes: bool = False, has_tag: bool = False) -> bytes:
    return word(sexp_type | (has_attributes << 9) | (has_tag << 10) | (levels << 12))


def char(text: str | None, encoding: str = "utf-8") -> bytes:
    """A CHARSXP: NA, ASCII, UTF-8 or Latin-1 as R flags them."""
    if text is None:
        return flags(9) + word(-1)
    raw = text.encode(encoding)
    level = ASCII_LEVEL if text.isascii() else LATIN1_LEVEL if encoding == "latin-1" else UTF8_LEVEL
    return flags(9, level) + word(len(raw)) + raw


def header(version: int = 3, native_encoding: str = "UTF-8") -> bytes:
    versions = word(version) + word(0x040201) + word(0x030500)
    if version == 3:
        versions += word(len(native_encoding)) + native_encoding.encode("ascii")
    return b"X\n" + versions


class Writer:
    """Writes one stream; keeps the symbol table that references point into."""

    def __init__(self, string_encoding: str = "utf-8") -> None:
        self.symbols: list[str] = []
        self.string_encoding = string_encoding

    def symbol(self, name: str) -> bytes:
        if name in self.symbols:
            return word(((self.symbols.index(name) + 1) << 8) | 255)
        self.symbols.append(name)
        return word(1) + char(name)

    def attributes(self, attributes: dict[str, Any]) -> bytes:
        out = b""
        for name, value in attributes.items():
            out += flags(2, has_tag=True) + self.symbol(name) + self.item(value)
        return out + word(254)

    def item(self, value: Any) -> bytes:
        if value is None:
            return word(254)
        if isinstance(value, RSymbol):
            return self.symbol(value.name)
        assert isinstance(value, RVector)
        code = _TYPE_CODES[value.type]
        if value.type == "pairlist":
            names = value.names or [None] * len(value.values)
            out = b""
            for name, element in zip(names, value.values, strict=True):
                out += flags(2, has_tag=name is not None) + (self.symbol(name) if name is not None else b"")
                out += self.item(element)
            return out + word(254)
        out = flags(code, has_attributes=bool(value.attributes)) + word(len(value.values))
        if value.type in ("logical", "integer"):
            out += b"".join(word(NA_INTEGER if v is None else int(v)) for v in value.values)
        elif value.type == "double":
            out += b"".join(
                struct.pack(">Q", NA_REAL_BITS) if v is None else struct.pack(">d", v) for v in value.values
            )
        elif value.type == "character":
            out += b"".join(char(v, self.string_encoding) for v in value.values)
        else:
            out += b"".join(self.item(v) for v in value.values)
        if value.attributes:
            out += self.attributes(value.attributes)
        return out


def serialize(value: Any, version: int = 3, string_encoding: str = "utf-8") -> bytes:
    """The uncompressed serialisation stream of `value` (None, `RSymbol` or `RVector`)."""
    return header(version) + Writer(string_encoding).item(value)


def named_list(**elements: Any) -> RVector:
    return RVector("list", list(elements.values()), {"names": RVector("character", list(elements))})


def lazyload_files(variables: dict[str, Any]) -> tuple[bytes, bytes]:
    """(.rdb, .rdx) contents of a lazy-load database holding `variables`, compressed as R does by default."""
    rdb = b""
    positions = {}
    for name, value in variables.items():
        stream = serialize(value)
        entry = struct.pack(">I", len(stream)) + zlib.compress(stream)
        positions[name] = RVector("integer", [len(rdb), len(entry)])
        rdb += entry
    index = named_list(
        variables=named_list(**positions) if positions else RVector("list", []),
        references=RVector("list", []),
        compressed=RVector("logical", [True]),
    )
    return rdb, gzip.compress(serialize(index))
