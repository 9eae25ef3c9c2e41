"""First names: counts per sex, the table's helpers, the stable split, and both package formats."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from lstm_core.data.names import (
    BABYNAMES_MEMBER,
    NameCounts,
    NameTable,
    counts_from_rows,
    load_names,
    name_split,
    prepare_names_from_babynames,
    prepare_names_from_stdlib,
)
from lstm_core.data.sources import DataError, DataMissingError

TABLE = NameTable({
    "Mary": NameCounts(4_000_000, 15_000), "Anna": NameCounts(880_000, 2_700), "Priya": NameCounts(5_600, 0),
    "Omar": NameCounts(450, 95_000), "Dan": NameCounts(545, 105_000), "Jordan": NameCounts(130_000, 370_000),
    "Rare": NameCounts(12, 0),
})  # fmt: skip


def test_counts_are_summed_per_name_and_sex():
    rows = [("Ann", "F", 5), ("Bo", "M", 3), ("Ann", "F", 7), ("Ann", "M", 1)]
    assert counts_from_rows(rows) == {"Ann": NameCounts(12, 1), "Bo": NameCounts(0, 3)}
    with pytest.raises(DataError, match="unknown sex 'X'"):
        counts_from_rows([("Ann", "X", 1)])


def test_lookups_ignore_case_and_unknown_names_have_no_share():
    assert TABLE["mary"] == TABLE["MARY"] == NameCounts(4_000_000, 15_000)
    assert "priya" in TABLE and "Nobody" not in TABLE
    assert TABLE.female_share("Priya") == 1.0
    assert TABLE.female_share("jordan") == pytest.approx(0.26)
    assert TABLE.female_share("Nobody") is None
    assert NameTable({"ann": NameCounts(1, 0), "Ann": NameCounts(2, 1)})["ANN"] == NameCounts(3, 1)


def test_unambiguous_names_by_sex_with_minimum_count_and_share():
    assert TABLE.names("female") == ["Mary", "Anna", "Priya"]  # most births first; "Rare" has too few
    assert TABLE.names("male") == ["Dan", "Omar"]
    assert TABLE.names("male", min_share=0.7) == ["Jordan", "Dan", "Omar"]
    assert TABLE.names("female", min_total=0) == ["Mary", "Anna", "Priya", "Rare"]
    assert TABLE.names("female", split="valid") == ["Mary", "Anna"]
    with pytest.raises(ValueError, match="sex must be"):
        TABLE.names("other")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_share"):
        TABLE.names("female", min_share=0.4)


def test_the_name_split_is_stable_and_roughly_80_10_10():
    # sha256 first bytes: Anna 85, Mary 105, Wei 30, Kwame 10, Priya 68, Omar 33 (fixed forever)
    pinned = {"Anna": "valid", "Mary": "valid", "Wei": "test", "Kwame": "test", "Priya": "train", "Omar": "train"}
    assert {name: name_split(name) for name in pinned} == pinned
    assert name_split("anna") == name_split("ANNA")
    splits = [name_split(f"name{i}") for i in range(3000)]
    assert 0.07 < splits.count("test") / 3000 < 0.13
    assert 0.07 < splits.count("valid") / 3000 < 0.13


def _parquet_wheel(path: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "year": [1900.0, 2000.0, 2000.0, 2000.0], "sex": ["F", "F", "M", "M"], "name": ["Ann", "Ann", "Ann", "Bo"],
        "n": pa.array([5, 7, 1, 3], pa.int32()), "prop": [0.1, 0.1, 0.1, 0.1],
    })  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(BABYNAMES_MEMBER, buffer.getvalue())
    return path


def test_births_are_read_from_the_wheels_parquet(tmp_path):
    counts = prepare_names_from_babynames(_parquet_wheel(tmp_path / "names.whl"), tmp_path / "prepared")
    assert counts == {"source": "babynames", "names": 2, "mostly female": 1, "mostly male": 1, "births": 16}
    table = load_names(tmp_path)
    assert (table.source, table.has_counts) == ("babynames", True)
    assert dict(table) == {"Ann": NameCounts(12, 1), "Bo": NameCounts(0, 3)}


def _names_tgz(path: Path, names: list[str]) -> Path:
    data = "\n".join(names).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("package/data/names.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


def test_the_lists_without_counts_are_the_fallback(tmp_path):
    female = _names_tgz(tmp_path / "female.tgz", ["Ann", "Robin", "Sue"])
    male = _names_tgz(tmp_path / "male.tgz", ["Bo", "Robin"])
    counts = prepare_names_from_stdlib(female, male, tmp_path / "prepared")
    assert counts["names"] == 4
    table = load_names(tmp_path)
    assert not table.has_counts
    assert table.female_share("Robin") == 0.5
    assert table.names("female", min_total=1000) == ["Ann", "Sue"]  # min_total does not apply without counts
    assert table.names("male") == ["Bo"]


def test_a_missing_table_says_how_to_fetch(tmp_path):
    with pytest.raises(DataMissingError, match=r"python -m lstm_core\.data fetch"):
        load_names(tmp_path)
