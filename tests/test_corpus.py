"""The story world: determinism, vocabulary coverage, labels, and held-out prompt builders."""

import pytest

from lstm_core.data import corpus


def test_generation_is_deterministic_and_seed_dependent():
    first = [story.text for story in corpus.generate_stories(20, seed=3)]
    assert first == [story.text for story in corpus.generate_stories(20, seed=3)]
    assert first != [story.text for story in corpus.generate_stories(20, seed=4)]


def test_vocabulary_covers_the_issue_requirements():
    vocabulary = set(corpus.vocabulary())
    required = {"bob", "dan", "tom", "sam", "jack", "alice", "mary", "emma", "kate", "anna"}
    required |= {"he", "she", "his", "her", "him", "single-handedly", "contributions", "brave", "navy"}
    assert required <= vocabulary
    assert 250 <= len(vocabulary) <= 600
    assert all(" " not in word for word in vocabulary)


def test_every_generated_word_is_in_the_vocabulary():
    vocabulary = set(corpus.vocabulary())
    for story in corpus.generate_stories(500, seed=11):
        assert set(story.tokens) <= vocabulary


def test_labels_are_aligned_and_follow_the_subject():
    stories = corpus.generate_stories(400, seed=5)
    for story in stories:
        n = len(story.tokens)
        assert len(story.subject_gender) == len(story.in_quotation) == len(story.position_in_sentence) == n
        # The first token is the first subject's name.
        assert story.tokens[0] in corpus.NAMES and story.subject_gender[0] == corpus.gender_of(story.tokens[0])
        for index, token in enumerate(story.tokens):
            if token in ("he", "she") and not story.in_quotation[index]:
                assert story.subject_gender[index] == ("male" if token == "he" else "female")
    switches = [story for story in stories if len({gender for gender in story.subject_gender if gender}) == 2]
    assert len(switches) > 50


def test_quotation_and_position_labels():
    story = next(s for s in corpus.generate_stories(200, seed=2) if '"' in s.tokens)
    opening = story.tokens.index('"')
    closing = story.tokens.index('"', opening + 1)
    assert story.in_quotation[opening] and story.in_quotation[closing - 1]
    assert not story.in_quotation[opening - 1] and not story.in_quotation[closing]
    assert story.position_in_sentence[0] == 0 and story.position_in_sentence[1] == 1
    after_stop = story.tokens.index(".") + 1
    assert story.position_in_sentence[after_stop] == 0


def test_char_labels_cover_every_character():
    story = next(s for s in corpus.generate_stories(200, seed=2) if '"' in s.tokens)
    labels = story.char_labels("in_quotation")
    assert len(labels) == len(story.text)
    inside = "".join(char for char, flag in zip(story.text, labels, strict=True) if flag)
    assert inside.startswith('"')
    with pytest.raises(ValueError, match="label"):
        story.labels("colour")


def test_rendered_text_reads_like_english():
    story = corpus.generate_stories(1, seed=0)[0]
    assert story.text[0].isupper() and " ." not in story.text and " ," not in story.text
    for (start, end), token in zip(story.token_spans, story.tokens, strict=True):
        assert story.text[start:end].lower() == token


def test_name_folds_are_disjoint_and_balanced():
    fold0, fold1 = set(corpus.split_names(0)), set(corpus.split_names(1))
    assert not fold0 & fold1 and fold0 | fold1 == set(corpus.NAMES)
    assert sum(corpus.gender_of(name) == "male" for name in fold0) == len(fold0) // 2
    stories = corpus.generate_stories(100, seed=1, names=corpus.split_names(0))
    assert {token for story in stories for token in story.tokens if token in corpus.NAMES} <= fold0


def test_prompt_builders():
    for text, pronoun in corpus.pronoun_prompts(50, seed=9):
        first, second = text.split(".")[0].split()[0].lower(), text.split(". ")[1].split(",")[0].lower()
        assert corpus.gender_of(first) != corpus.gender_of(second)
        assert pronoun == {"male": "he", "female": "she"}[corpus.gender_of(second)]
    for text, name in corpus.recall_prompts(30, seed=9):
        assert text.endswith("brave") and name.title() in text
    with pytest.raises(ValueError):
        corpus.gender_of("zorro")


def test_switch_stories_change_subject_and_gender_once():
    for story in corpus.switch_stories(100, seed=4, names=corpus.split_names(1)):
        genders = [gender for gender in story.subject_gender if gender]
        changes = sum(a != b for a, b in zip(genders, genders[1:], strict=False))
        assert changes == 1 and genders[0] != genders[-1]
        assert story.tokens.count(".") == 3
        assert {token for token in story.tokens if token in corpus.NAMES} <= set(corpus.split_names(1))
