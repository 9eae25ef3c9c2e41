"""The Brown -> universal tag mapping (`lstm_core.universal_tag`)."""

import pytest

from lstm_core import universal_tag
from lstm_core.tags import TAG_MEANINGS, UNIVERSAL_TAGS


@pytest.mark.parametrize(
    ("brown", "universal"),
    [
        ("nn", "NOUN"), ("nns$", "NOUN"), ("np-tl", "NOUN"), ("pn", "NOUN"),
        ("vbd", "VERB"), ("bez", "VERB"), ("hvz", "VERB"), ("md", "VERB"), ("md*", "VERB"), ("do*", "VERB"),
        ("jj", "ADJ"), ("jjt", "ADJ"), ("od", "ADJ"), ("ap", "ADJ"),
        ("rb", "ADV"), ("ql", "ADV"), ("wrb", "ADV"), ("*", "ADV"), ("abl", "ADV"),
        ("pps", "PRON"), ("pp$", "PRON"), ("ppss", "PRON"), ("wps", "PRON"),
        ("at", "DET"), ("dts", "DET"), ("abn", "DET"), ("ex", "DET"), ("wdt", "DET"),
        ("in", "ADP"), ("cs", "ADP"), ("cd", "NUM"), ("cc", "CONJ"), ("to", "PRT"), ("rp", "PRT"),
        (".", "."), (",", "."), ("``", "."), ("''", "."), ("--", "."), ("(", "."), (":", "."), (".-hl", "."),
        ("uh", "X"), ("fw-nn", "X"), ("fw-in+at-tl", "X"), ("nil", "X"),
    ],
)  # fmt: skip
def test_brown_tags_map_to_their_universal_tag(brown, universal):
    assert universal_tag(brown) == universal
    assert universal_tag(brown.upper()) == universal  # NLTK and the Brown manual write tags in capitals


@pytest.mark.parametrize(
    ("brown", "universal"),
    [("ppss+md", "PRON"), ("pps+bez-hl", "PRON"), ("md+hv", "VERB"), ("ex+bez", "DET"), ("nn-tl-hl", "NOUN"),
     ("vbn-tl", "VERB"), ("ppss+ber-n", "PRON"), ("bez*-hl", "VERB")],
)  # fmt: skip
def test_contractions_and_place_marks_take_the_first_word_without_the_mark(brown, universal):
    assert universal_tag(brown) == universal


def test_every_result_is_one_of_the_twelve_and_explained():
    assert len(UNIVERSAL_TAGS) == len(set(UNIVERSAL_TAGS)) == 12
    assert set(TAG_MEANINGS) == set(UNIVERSAL_TAGS)
    for tag in ("zz", "abc-tl", "q+r", "x*"):  # well-formed but not Brown's
        assert universal_tag(tag) == "X"


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_an_empty_or_non_string_tag_is_refused(bad):
    with pytest.raises(ValueError, match="Brown tag"):
        universal_tag(bad)
