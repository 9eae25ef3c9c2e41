"""The R serialisation reader: values written by the test writer and by hand, lazy-load databases, refusals."""

from __future__ import annotations

import gzip
import math
import struct
import zlib

import pytest

from lstm_core.data.rdata import (
    RDataError,
    RSymbol,
    RVector,
    read_lazyload_database,
    read_lazyload_entry,
    read_lazyload_index,
    read_rds,
    read_serialized,
)
from tests.r_serialize import char, flags, header, lazyload_files, named_list, serialize, word


@pytest.mark.parametrize("version", [2, 3])
def test_vectors_lists_and_attributes_read_back(version):
    value = named_list(
        words=RVector("character", ["Emma", None, "naïve", ""]),
        counts=RVector("integer", [1, None, -7], {"names": RVector("character", ["a", "b", "c"])}),
        reals=RVector("double", [0.5, None, -2.0]),
        flags=RVector("logical", [True, False, None]),
        nothing=None,
        nested=named_list(inner=RVector("integer", [42])),
        symbol=RSymbol("names"),  # a second "names": written as a reference to the first
    )
    decoded = read_serialized(serialize(value, version=version))
    fields = decoded.to_dict()
    assert list(fields) == ["words", "counts", "reals", "flags", "nothing", "nested", "symbol"]
    assert fields["words"].values == ["Emma", None, "naïve", ""]
    assert fields["counts"].values == [1, None, -7]
    assert fields["counts"].to_dict() == {"a": 1, "b": None, "c": -7}
    assert fields["reals"].values == [0.5, None, -2.0]
    assert fields["flags"].values == [True, False, None]
    assert fields["nothing"] is None
    assert fields["nested"].to_dict()["inner"].values == [42]
    assert fields["symbol"] == RSymbol("names")


def test_a_plain_nan_is_not_na():
    decoded = read_serialized(header() + flags(14) + word(2) + struct.pack(">d", math.nan) + struct.pack(">d", 1.0))
    assert math.isnan(decoded.values[0])
    assert decoded.values[1] == 1.0


def test_hand_built_bytes_with_string_encodings():
    # STRSXP of four: ASCII-flagged, UTF-8-flagged, Latin-1-flagged, and unflagged (native: the header's).
    latin1 = "Brunetière".encode("latin-1")
    utf8 = "Brunetière".encode()
    stream = (
        b"X\n" + bytes.fromhex("00000003 00040201 00030500 00000006") + b"latin1"
        + bytes.fromhex("00000010 00000004")
        + bytes.fromhex("00040009 00000002") + b"ok"
        + bytes.fromhex("00008009") + word(len(utf8)) + utf8
        + bytes.fromhex("00004009") + word(len(latin1)) + latin1
        + bytes.fromhex("00000009") + word(len(latin1)) + latin1
    )  # fmt: skip
    assert read_serialized(stream) == RVector("character", ["ok", "Brunetière", "Brunetière", "Brunetière"])


def test_a_pairlist_reads_as_named_values():
    stream = header() + flags(2, has_tag=True) + word(1) + char("x") + flags(13) + word(1) + word(5) + word(254)
    decoded = read_serialized(stream)
    assert decoded.type == "pairlist"
    assert decoded.to_dict()["x"].values == [5]


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (header() + word(3), "closure"),
        (header() + word(4), "environment"),
        (header() + flags(15) + word(0), "complex"),
        (header() + flags(238), "ALTREP"),
        (b"A\n" + b"3\n", "ASCII"),
        (b"X\n" + word(4) + word(0) + word(0), "version 4"),
        (header() + flags(13) + word(3) + word(1), "ends early"),
        (header() + word(254) + b"\x00", "unread bytes"),
        (header() + flags(16) + word(1) + flags(9, 1 << 1) + word(2) + b"\xff\xfe", "raw bytes"),
        (header() + word((5 << 8) | 255), "reference 5"),
    ],
)
def test_what_it_cannot_read_is_refused_with_a_reason(stream, message):
    with pytest.raises(RDataError, match=message):
        read_serialized(stream)


def test_rds_is_read_gzipped_or_plain_and_other_compressions_are_refused():
    stream = serialize(RVector("integer", [3]))
    assert read_rds(gzip.compress(stream)).values == [3]
    assert read_rds(stream).values == [3]
    with pytest.raises(RDataError, match="bzip2- or xz"):
        read_rds(b"BZh91AY&SY")


def test_a_lazyload_database_round_trips(tmp_path):
    novels = {"emma": RVector("character", ["EMMA", "", "CHAPTER I"]), "other": RVector("integer", [1, 2])}
    rdb, rdx = lazyload_files(novels)
    (tmp_path / "Rdata.rdb").write_bytes(rdb)
    (tmp_path / "Rdata.rdx").write_bytes(rdx)
    index = read_lazyload_index(rdx)
    assert index.compression == 1
    assert list(index.variables) == ["emma", "other"]
    assert index.variables["emma"][0] == 0
    assert read_lazyload_database(tmp_path / "Rdata.rdb") == novels


def test_lazyload_entries_that_are_damaged_or_not_zlib_are_refused():
    rdb, rdx = lazyload_files({"x": RVector("integer", [1])})
    offset, length = read_lazyload_index(rdx).variables["x"]
    with pytest.raises(RDataError, match="bzip2"):
        read_lazyload_entry(rdb, offset, length, compression=2)
    with pytest.raises(RDataError, match="outside"):
        read_lazyload_entry(rdb, offset, length + 1)
    damaged = rdb[:6] + bytes([rdb[6] ^ 0xFF]) + rdb[7:]
    with pytest.raises(RDataError, match="zlib"):
        read_lazyload_entry(damaged, offset, length)
    wrong_size = struct.pack(">I", 999) + zlib.compress(serialize(RVector("integer", [1])))
    with pytest.raises(RDataError, match="header says 999"):
        read_lazyload_entry(wrong_size, 0, len(wrong_size))


def test_an_index_without_variables_is_refused():
    with pytest.raises(RDataError, match="without 'variables'"):
        read_lazyload_index(gzip.compress(serialize(named_list(compressed=RVector("logical", [True])))))
