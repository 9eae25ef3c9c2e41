"""Word models that read spelling and name records: the NumPy reading equals torch's, survives a
save in float16, and never turns a word into <unk> on the input side."""

import numpy as np
import pytest
import torch

from lstm_core.data import corpus
from lstm_core.data.names import NameCounts, NameTable
from lstm_core.io.checkpoint import load_checkpoint
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.subwords import (
    NameRecords,
    WordPieces,
    fnv1a_32,
    fnv1a_32_many,
    mean_piece_vectors,
    mean_piece_vectors_of,
)
from lstm_core.training import language


def test_fnv1a_is_the_published_hash():
    # Test vectors of the FNV-1a 32-bit specification.
    assert fnv1a_32("") == 0x811C9DC5
    assert fnv1a_32("a") == 0xE40C292C
    assert fnv1a_32("foobar") == 0xBF9CF968


def test_pieces_are_the_marked_ngrams_and_stay_in_range():
    pieces = WordPieces(bucket_count=97, min_n=3, max_n=4)
    assert pieces.ngrams("cat") == ["<ca", "cat", "at>", "<cat", "cat>"]
    assert pieces.ngrams("a") == ["<a>"]
    rows = pieces.buckets("zanzibar")
    assert rows.dtype == np.int64 and len(rows) == len(pieces.ngrams("zanzibar"))
    assert ((0 <= rows) & (rows < 97)).all()
    np.testing.assert_array_equal(pieces.buckets("zanzibar"), WordPieces(97, 3, 4).buckets("zanzibar"))


def test_hashing_many_words_at_once_gives_each_word_its_own_rows():
    words = ["", "a", "foobar", "Zanzibar", "ñandú", "日本", "😀🎉", "x" * 300, "café-au-lait", "priya"]
    assert [int(value) for value in fnv1a_32_many([word.encode() for word in words])] == [fnv1a_32(w) for w in words]
    pieces = WordPieces(bucket_count=97)
    rows, counts = pieces.bucket_lists(words)
    np.testing.assert_array_equal(rows.astype(np.int64), np.concatenate([pieces.buckets(word) for word in words]))
    np.testing.assert_array_equal(counts, [len(pieces.ngrams(word)) for word in words])
    table = np.random.default_rng(0).standard_normal((97, 6)).astype(np.float32)
    np.testing.assert_allclose(mean_piece_vectors_of(table, pieces, words),
                               mean_piece_vectors(table, [pieces.buckets(word) for word in words]), atol=1e-5)  # fmt: skip


def _tiny_model(seed: int = 0):
    config = language.TrainConfig(kind="words", embedding_size=12, hidden_size=12, num_layers=1, steps=1,
                                  batch_size=4, learning_rate=1e-2, train_stories=20, max_length=40,
                                  piece_buckets=50, name_records=True)  # fmt: skip
    tokenizer = language.make_tokenizer("words")
    pieces = WordPieces(config.piece_buckets)
    records = NameRecords({"priya": 0.99, "omar": 0.01, "bob": 0.0, "alex": 0.4})
    torch.manual_seed(seed)
    twin = language.TorchLanguageModel(len(tokenizer.vocab), 12, 12, 1, True, piece_buckets=50, name_records=True)
    with torch.no_grad():
        twin.name_direction.normal_()
    return twin, language.to_numpy_model(twin, "tiny", tokenizer, pieces, records), tokenizer, pieces, records


def test_numpy_reading_equals_the_torch_twin_on_known_and_new_words():
    twin, model, tokenizer, pieces, records = _tiny_model()
    text = "Priya is a nice person. Omar, on the other hand, is zxqvian."
    words = tokenizer.words(text)
    assert "zxqvian" in words and "priya" not in tokenizer.token_to_id
    reading = language.Reading.empty()
    type_ids = reading.type_ids(words, tokenizer, pieces, records)
    with torch.no_grad():
        expected_inputs = twin.embed(torch.from_numpy(type_ids)[None], reading.tensors())[0].numpy()
        expected_probs = torch.softmax(twin(torch.from_numpy(type_ids)[None], reading.tensors()), -1)[0].numpy()
    np.testing.assert_allclose(model.input_vectors(text), expected_inputs, atol=1e-5)
    np.testing.assert_allclose(model.next_token_probs(model.trace(text)), expected_probs, atol=2e-5)


def test_the_input_is_word_row_plus_mean_of_pieces_plus_record():
    _, model, tokenizer, pieces, records = _tiny_model(1)
    vector = model.input_vectors("Priya")[0]
    expected = (model.embedding[tokenizer.unknown_id] + model.piece_embedding[pieces.buckets("priya")].mean(axis=0)
                + records.value("priya") * model.name_direction)  # fmt: skip
    np.testing.assert_allclose(vector, expected, rtol=1e-6)
    assert records.value("priya") == pytest.approx(0.98) and records.value("table") == 0.0
    # Two new words get different inputs: neither is collapsed to <unk>.
    assert not np.allclose(model.input_vectors("zorblat")[0], model.input_vectors("quindle")[0])
    assert model.tokens("Priya met Zorblat.") == ["priya", "met", "zorblat", "."]
    assert model.unknown_words("Priya met Zorblat.") == ["Priya", "Zorblat"]


def test_reading_a_word_says_what_the_model_made_of_it():
    _, model, *_ = _tiny_model(2)
    reading = model.read_word("Priya")
    assert not reading.known and reading.girls_share == pytest.approx(0.99)
    assert reading.pieces[0] == "<pr" and len(reading.nearest) == 3
    assert all(word != "<unk>" for word, _ in reading.nearest)
    assert model.read_word("bob").known and model.read_word("table").girls_share is None


def test_a_spelling_model_survives_save_and_load_in_float16(tmp_path):
    _, model, *_ = _tiny_model(3)
    model.save(tmp_path, storage_dtype=np.float16)
    loaded = LanguageModel.load(tmp_path)
    assert loaded.reads_spelling and loaded.pieces == model.pieces
    assert loaded.names.shares == model.names.shares
    text = "Alex is brave. For his contributions, brave Alex."
    np.testing.assert_allclose(loaded.next_token_probs(loaded.trace(text)),
                               model.next_token_probs(model.trace(text)), atol=5e-3)  # fmt: skip
    assert loaded.embedding.dtype == np.float32


def test_a_cast_from_records_is_deterministic_disjoint_and_keeps_the_story_names():
    rows = {}
    for index in range(4000):
        name = "".join(chr(ord("a") + (index * 7 + k * 13) % 26) for k in range(3 + index % 5)) + f"{'abc'[index % 3]}"
        rows[name.title()] = NameCounts(1000, 5) if index % 2 else NameCounts(5, 1000)
    rows["Jordan"] = NameCounts(600, 600)  # given to both: never in the cast
    table = NameTable(rows)
    first, second = language.records_cast(table, seed=3, per_sex=60), language.records_cast(table, seed=3, per_sex=60)
    assert first.train == second.train and first.heldout == second.heldout
    assert not set(first.train) & set(first.heldout)
    assert set(corpus.NAMES) <= set(first.train) and "jordan" not in first.genders
    assert first.records.value("jordan") == pytest.approx(0.0)
    for name in first.heldout:
        expected = "female" if table[name].female_share > 0.5 else "male"
        assert first.genders[name] == expected
    stories = corpus.generate_stories(5, seed=0, names=first.train, genders=first.genders)
    assert all(story.subject_gender[-1] in ("male", "female") for story in stories)


def test_chained_pronoun_scoring_reads_the_characters_of_he_and_she():
    from lstm_core.analysis.units import _continuation_log_probs

    torch.manual_seed(0)
    tokenizer = language.make_tokenizer("chars")
    twin = language.TorchLanguageModel(len(tokenizer.vocab), 8, 8, 1, tie_weights=False)
    model = language.to_numpy_model(twin, "tiny", tokenizer)
    prompt = "Mary is nice. Dan is evil. "
    he, she = _continuation_log_probs(model, [prompt], ["He ", "She "])
    probs = model.next_token_probs(model.trace(prompt + "She "))
    ids = model.encode(prompt + "She ")
    start = len(prompt)
    expected = sum(np.log(probs[t - 1, ids[t]]) for t in range(start, start + 4))
    assert she[0] == pytest.approx(expected, rel=1e-5)
    assert he.shape == (1,)


def test_sampled_softmax_with_every_word_always_scored_is_the_full_cross_entropy():
    torch.manual_seed(0)
    tokenizer = language.make_tokenizer("words")
    twin = language.TorchLanguageModel(len(tokenizer.vocab), 8, 8, 1)
    output = torch.randn(20, 8)
    targets = torch.randint(len(tokenizer.vocab), (20,))
    targets[3] = -100  # padding counts for nothing
    sampling = torch.full((len(tokenizer.vocab),), 1.0 / len(tokenizer.vocab))
    everything = torch.arange(len(tokenizer.vocab))
    loss = language.sampled_softmax_loss(twin, output, targets, sampling, count=16, always=everything)
    expected = torch.nn.functional.cross_entropy(twin.decoder(output), targets, ignore_index=-100)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    # Drawn words only: an estimate near the full loss, not equal to it.
    estimate = language.sampled_softmax_loss(twin, output, targets, sampling, count=len(tokenizer.vocab) * 4)
    assert estimate.item() == pytest.approx(expected.item(), rel=0.3) and estimate.item() != expected.item()


def test_hidden_name_rows_leave_only_spelling_and_record():
    twin, model, tokenizer, pieces, records = _tiny_model(4)
    reading = language.Reading.empty(names=["bob"])
    ids = torch.from_numpy(reading.type_ids(["bob", "is", "bob"], tokenizer, pieces, records))[None]
    tensors = reading.tensors()
    with torch.no_grad():
        shown = twin.embed(ids, tensors)[0]
        hidden = twin.embed(ids, tensors, hide_names=1.0, unknown_id=tokenizer.unknown_id)[0]
    row = twin.embedding.weight[tokenizer.token_to_id["bob"]] - twin.embedding.weight[tokenizer.unknown_id]
    torch.testing.assert_close(shown[0] - hidden[0], row.detach())
    torch.testing.assert_close(shown[1], hidden[1])  # "is" is not a name


def _whole_input_twin(seed: int = 5):
    twin, _, tokenizer, pieces, records = _tiny_model(seed)
    twin.tie_whole_input(tokenizer, pieces, records)
    return twin, language.to_numpy_model(twin, "tiny", tokenizer, pieces, records), tokenizer, pieces, records


def test_a_decoder_tied_to_the_whole_input_scores_each_word_by_its_input_vector():
    twin, model, tokenizer, pieces, records = _whole_input_twin()
    assert model.decoder_is_input
    # Every vocabulary word's decoder row is exactly what the model reads for that word.
    for word in ("bob", "mary", "swimming", "."):
        np.testing.assert_allclose(model.decoder_weight[tokenizer.token_to_id[word]], model.input_vectors(word)[0],
                                   atol=1e-5)  # fmt: skip
    text = "Priya is a nice person. Omar, on the other hand, is zxqvian."
    reading = language.Reading.empty()
    type_ids = torch.from_numpy(reading.type_ids(tokenizer.words(text), tokenizer, pieces, records))[None]
    with torch.no_grad():
        expected = torch.softmax(twin(type_ids, reading.tensors()), -1)[0].numpy()
    np.testing.assert_allclose(model.next_token_probs(model.trace(text)), expected, atol=2e-5)


def test_a_whole_input_decoder_is_not_stored_and_is_rebuilt_on_load(tmp_path):
    _, model, *_ = _whole_input_twin(6)
    model.save(tmp_path, storage_dtype=np.float16)
    tensors, config = load_checkpoint(tmp_path / "model.safetensors")
    assert config["decoder_is_input"] and "decoder.weight" not in tensors
    loaded = LanguageModel.load(tmp_path)
    text = "Alex is brave. For his contributions, brave"
    np.testing.assert_allclose(loaded.next_token_probs(loaded.trace(text)), model.next_token_probs(model.trace(text)),
                               atol=5e-3)  # fmt: skip
    with pytest.raises(ValueError, match="decoder_is_input"):
        LanguageModel("bad", model.tokenizer, model.embedding, model.lstm, model.decoder_weight, model.decoder_bias,
                      decoder_is_input=True)  # fmt: skip


def test_sampled_softmax_reads_the_whole_input_decoder_rows():
    twin, _, tokenizer, *_ = _whole_input_twin(7)
    output = torch.randn(12, 12)
    targets = torch.randint(len(tokenizer.vocab), (12,))
    sampling = torch.full((len(tokenizer.vocab),), 1.0 / len(tokenizer.vocab))
    loss = language.sampled_softmax_loss(twin, output, targets, sampling, count=8, always=torch.arange(len(tokenizer.vocab)))
    expected = torch.nn.functional.cross_entropy(output @ twin.decoder_rows().T + twin.decoder.bias, targets)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    # The rows differ from the embedding's alone, so the test above would catch reading only those.
    assert not torch.allclose(twin.decoder_rows(), twin.embedding.weight)
