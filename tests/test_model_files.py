"""Reading uploaded models (`lstm_core.io.model_files`): every accepted format against torch's own output,
and every refusal with the message a student reads. Files are written in tmp_path with torch,
safetensors and NumPy, exactly as a user would save them."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file as save_numpy_safetensors
from safetensors.torch import save_file as save_torch_safetensors

from lstm_core.io import model_files
from lstm_core.io.model_files import (
    MAX_INPUT_STEPS,
    MAX_MODEL_BYTES,
    build_language_model,
    read_input_vectors,
    read_model,
    read_vocabulary,
    read_weights,
    split_model,
)
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer

VOCAB = [UNKNOWN_TOKEN, "the", "cat", "sat", "on", "mat", "."]
VOCAB_SIZE = len(VOCAB)


class WordModel(torch.nn.Module):
    """The layout the page documents: embedding, lstm, decoder."""

    def __init__(self, vocab_size=VOCAB_SIZE, embedding_size=6, hidden_size=5, num_layers=1, bidirectional=False):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, embedding_size)
        self.lstm = torch.nn.LSTM(embedding_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
        self.decoder = torch.nn.Linear(hidden_size * (2 if bidirectional else 1), vocab_size)

    def forward(self, ids):
        output, _ = self.lstm(self.embedding(ids))
        return torch.softmax(self.decoder(output), dim=-1)


class WordLanguageModelExample(torch.nn.Module):
    """PyTorch's examples/word_language_model names: encoder, rnn, decoder."""

    def __init__(self, vocab_size=VOCAB_SIZE):
        super().__init__()
        self.encoder = torch.nn.Embedding(vocab_size, 4)
        self.rnn = torch.nn.LSTM(4, 3, num_layers=2)
        self.decoder = torch.nn.Linear(3, vocab_size)


class RunsCode:
    """A pickle that runs a shell command when it is loaded: what a hostile .pt file does."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def seeded(module_class, **sizes):
    torch.manual_seed(0)
    return module_class(**sizes).eval()


# ------------------------------------------------------------------------------ accepted files
@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_torch_lstm_saved_as_pt_runs_exactly_like_torch(tmp_path, bidirectional):
    torch.manual_seed(0)
    module = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=bidirectional).eval()
    path = tmp_path / "lstm.pt"
    torch.save(module.state_dict(), path)
    uploaded = read_model(path.read_bytes(), path.name)
    assert not uploaded.is_language_model and uploaded.lstm_prefix == ""
    assert (uploaded.lstm.input_size, uploaded.lstm.hidden_size, uploaded.lstm.num_layers) == (5, 7, 2)
    x = torch.randn(11, 5)
    with torch.no_grad():
        expected, (h_n, c_n) = module(x)
    trace = uploaded.lstm.run(x.numpy())
    np.testing.assert_allclose(trace.output, expected.numpy(), atol=2e-6)
    np.testing.assert_allclose(trace.h_n, h_n.numpy(), atol=2e-6)
    np.testing.assert_allclose(trace.c_n, c_n.numpy(), atol=2e-6)


def test_a_whole_language_model_gives_torchs_next_token_probabilities(tmp_path):
    model = seeded(WordModel, num_layers=2, bidirectional=True)
    path = tmp_path / "model.pth"
    torch.save(model.state_dict(), path)
    uploaded = read_model(path.read_bytes(), path.name)
    assert uploaded.is_language_model and uploaded.embedding_key == "embedding.weight" and uploaded.vocab_size == 7
    built = build_language_model(uploaded, VOCAB, "mine")
    assert built.notices == () and isinstance(built.model.tokenizer, WordTokenizer)
    text = "The cat sat on the mat."
    ids = torch.from_numpy(built.model.encode(text))
    with torch.no_grad():
        expected = model(ids)
    ours = built.model.next_token_probs(built.model.trace(text))
    np.testing.assert_allclose(ours, expected.numpy(), atol=2e-6)


@pytest.mark.parametrize("writer", ["safetensors-torch", "safetensors-numpy", "npz", "npz-compressed"])
def test_safetensors_and_npz_hold_the_same_model(tmp_path, writer):
    model = seeded(WordLanguageModelExample)
    state = model.state_dict()
    arrays = {key: value.numpy() for key, value in state.items()}
    path = tmp_path / ("model.npz" if writer.startswith("npz") else "model.safetensors")
    if writer == "safetensors-torch":
        save_torch_safetensors(state, str(path))
    elif writer == "safetensors-numpy":
        save_numpy_safetensors(arrays, str(path))
    elif writer == "npz":
        np.savez(path, **arrays)
    else:
        np.savez_compressed(path, **arrays)
    uploaded = read_model(path.read_bytes(), path.name)
    assert uploaded.lstm_prefix == "rnn." and uploaded.embedding_key == "encoder.weight"
    assert uploaded.lstm.num_layers == 2
    for key, value in uploaded.lstm.state_dict().items():
        np.testing.assert_array_equal(value, arrays["rnn." + key])
    np.testing.assert_array_equal(uploaded.decoder_weight, arrays["decoder.weight"])
    np.testing.assert_array_equal(uploaded.decoder_bias, arrays["decoder.bias"])


def test_a_checkpoint_dict_with_a_nested_state_dict_and_a_prefix_beside_it():
    model = seeded(WordModel)
    state = {f"module.{key}": value for key, value in model.state_dict().items()}  # nn.DataParallel's names
    data = torch_bytes({"epoch": 7, "optimizer": {"lr": 0.1}, "state_dict": state})
    uploaded = read_model(data, "checkpoint.pt")
    assert uploaded.lstm_prefix == "module.lstm." and uploaded.embedding_key == "module.embedding.weight"
    np.testing.assert_array_equal(uploaded.embedding, model.embedding.weight.detach().numpy())


def test_float16_and_float64_weights_and_a_decoder_without_bias():
    torch.manual_seed(0)
    state = {
        "embedding.weight": torch.randn(len(VOCAB), 3, dtype=torch.float64),
        **{f"lstm.{key}": value.half() for key, value in torch.nn.LSTM(3, 4).state_dict().items()},
        "decoder.weight": torch.randn(len(VOCAB), 4),
    }
    uploaded = read_model(torch_bytes(state), "mixed.pt")
    assert uploaded.lstm.dtype == np.float32 and uploaded.embedding.dtype == np.float32
    np.testing.assert_array_equal(uploaded.decoder_bias, np.zeros(len(VOCAB), np.float32))
    assert {row[2] for row in uploaded.tensors} == {"float64", "float16", "float32"}


# ---------------------------------------------------------------------------- hostile files
def test_a_pickle_that_runs_code_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "ran"
    data = torch_bytes({"weight_ih_l0": RunsCode(marker)})
    with pytest.raises(ValueError, match=r"refused: the PyTorch file holds Python objects \(posix.system\)"):
        read_weights(data, "evil.pt")
    assert not marker.exists()
    # The file is really hostile: an unsafe load runs its command. Without this the test proves nothing.
    torch.load(io.BytesIO(data), weights_only=False)
    assert marker.exists()


def test_a_plain_pickle_is_refused_without_being_opened(tmp_path):
    marker = tmp_path / "ran"
    for protocol in (2, 4, 5):
        data = pickle.dumps({"weight_ih_l0": RunsCode(marker)}, protocol=protocol)
        with pytest.raises(ValueError, match="refused: this file is a plain Python pickle"):
            read_weights(data, "evil.pth")
    assert not marker.exists()
    pickle.loads(data)
    assert marker.exists()


def test_a_whole_module_saved_with_torch_save_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"Python objects \(torch.nn.modules.rnn.LSTM\).*model.state_dict\(\)"):
        read_weights(torch_bytes(torch.nn.LSTM(2, 3)), "model.pt")


def test_a_file_over_the_limit_is_refused_before_it_is_read():
    with pytest.raises(ValueError, match="the weights file is 50.0 MB, more than the limit of 50 MB"):
        read_weights(b"PK\x03\x04" + bytes(MAX_MODEL_BYTES), "big.pt")


def test_a_torch_file_that_unpacks_past_the_limit_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({}))
        archive.writestr("archive/data/0", bytes(MAX_MODEL_BYTES + 1))  # zeros: a few kilobytes once packed
    assert len(buffer.getvalue()) < 1_000_000
    with pytest.raises(ValueError, match="unpacks to 52,428,8.. bytes, more than the limit"):
        read_weights(buffer.getvalue(), "bomb.pt")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the weights file is empty"),
        (b"hello, this is not a model", "not a valid .safetensors file.*Accepted: .pt or .pth"),
        (b"PK\x03\x04 broken zip", "not a valid .npz file"),
        (torch_bytes(torch.zeros(3)), "holds a Tensor, not a state_dict"),
        (torch_bytes({"weight_ih_l0": [1.0, 2.0]}), "'weight_ih_l0' is a list, not a tensor"),
        (torch_bytes({"weight_ih_l0": torch.zeros(8, 2, dtype=torch.bfloat16)}), "bfloat16; save the model as float32"),
        (torch_bytes({3: torch.zeros(2)}), "a key 3 that is not a string"),
    ],
    ids=["empty", "text", "broken-zip", "tensor", "list", "bfloat16", "int-key"],
)
def test_malformed_files_get_a_message(data, message):
    with pytest.raises(ValueError, match=message):
        read_weights(data, "x.pt")


# --------------------------------------------------------------------------- keys and shapes
def lstm_state(input_size=3, hidden_size=4, prefix="lstm.") -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    return {prefix + key: value.numpy() for key, value in torch.nn.LSTM(input_size, hidden_size).state_dict().items()}


def language_state(vocab_size=VOCAB_SIZE, embedding_width=3, decoder_shape=None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "embedding.weight": rng.normal(size=(vocab_size, embedding_width)).astype(np.float32),
        **lstm_state(),
        "decoder.weight": rng.normal(size=decoder_shape or (vocab_size, 4)).astype(np.float32),
        "decoder.bias": np.zeros(vocab_size, np.float32),
    }


def with_value(tensors, key, value):
    return {**tensors, key: value}


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        (with_value(lstm_state(), "lstm.weight_hh_l0", np.full((16, 4), np.nan, np.float32)),
         r"'lstm.weight_hh_l0' holds 64 NaN or infinite value\(s\)"),
        (with_value(language_state(), "embedding.weight", np.full((7, 3), np.inf, np.float32)),
         r"'embedding.weight' holds 21 NaN or infinite"),
        (with_value(lstm_state(), "lstm.bias_ih_l0", np.zeros(16, np.int64)), "'lstm.bias_ih_l0' has dtype int64"),
        (with_value(lstm_state(), "lstm.weight_hh_l0", np.zeros((16, 5), np.float32)),
         r"lstm.weight_hh_l0 has shape \(16, 5\): expected \(4 \* hidden_size, hidden_size\)"),
        ({"lstm.weight_ih_l0": np.zeros((16, 3), np.float32)}, "no lstm.weight_ih_l0 and lstm.weight_hh_l0"),
        ({**lstm_state(), **lstm_state(prefix="rnn.")}, r"several prefixes \('lstm.', 'rnn.'\)"),
        ({"fc.weight": np.zeros((2, 2), np.float32)}, "no LSTM weights found.*'fc.weight'"),
        (with_value(lstm_state(), "fc.weight", np.zeros((2, 4), np.float32)),
         r"key\(s\) this page cannot use: 'fc.weight'.*decoder.weight"),
        ({**lstm_state(), "decoder.weight": np.zeros((7, 4), np.float32)}, "'decoder.weight' but no embedding"),
        ({k: v for k, v in language_state().items() if not k.startswith("decoder")}, "no decoder.weight"),
        (language_state(embedding_width=5), "'embedding.weight' has 5 columns but .* reads vectors of 3"),
        (language_state(decoder_shape=(7, 5)), r"'decoder.weight' has shape \(7, 5\), expected \(7, 4\)"),
        (with_value(language_state(), "decoder.bias", np.zeros(6, np.float32)), r"'decoder.bias' has shape \(6,\)"),
        (with_value(language_state(), "encoder.weight", np.zeros((7, 3), np.float32)), "two embeddings"),
        ({}, "the file holds no tensors"),
    ],
    ids=["nan", "inf", "int", "lstm-shape", "lstm-missing", "two-prefixes", "no-lstm", "unknown-key",
         "decoder-alone", "embedding-alone", "embedding-width", "decoder-shape", "bias-shape", "two-embeddings", "empty"],
)  # fmt: skip
def test_every_key_and_shape_is_checked(tensors, message):
    with pytest.raises(ValueError, match=message):
        split_model(tensors)


# -------------------------------------------------------------------------------- vocabulary
@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (json.dumps(VOCAB).encode(), "vocab.json"),
        (json.dumps({token: index for index, token in enumerate(VOCAB)}).encode(), "vocab.json"),
        (json.dumps({str(index): token for index, token in reversed(list(enumerate(VOCAB)))}).encode(), "v.json"),
        (("\n".join(VOCAB) + "\n\n").encode(), "vocab.txt"),
        (("\r\n".join(VOCAB)).encode("utf-8-sig"), "vocab.txt"),
        (json.dumps(VOCAB).encode(), "vocab.txt"),  # JSON is recognised by its content too
    ],
    ids=["list", "token-to-id", "id-to-token", "lines", "crlf-bom", "json-in-txt"],
)
def test_vocabulary_formats(data, filename):
    assert read_vocabulary(data, filename) == VOCAB


def test_a_line_with_one_space_is_the_space_token():
    assert read_vocabulary(b"<unk>\na\n \nb\n", "chars.txt") == ["<unk>", "a", " ", "b"]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b'["<unk>", "a",', "v.json", "not valid JSON: Expecting value at line 1"),
        (b'["<unk>", 3]', "v.json", "vocabulary entry 1 is 3: every token must be a string"),
        (b'["<unk>", "a", "b", "a"]', "v.json", "the token 'a' appears twice in the vocabulary, at ids 1 and 3"),
        (b"<unk>\na\nb\na\n", "v.txt", "the token 'a' appears twice"),
        (b"[]", "v.json", "the vocabulary is empty"),
        (b"", "v.txt", "the vocabulary is empty"),
        (b'{"<unk>": 0, "a": 2}', "v.json", "ids must be 0 to 1, each once; id 1 is missing"),
        (b'{"<unk>": 0, "a": 0}', "v.json", "two tokens of the vocabulary have the same id"),
        (b'{"<unk>": "x", "a": 1}', "v.json", "must map every token to its id"),
        (b"42", "v.json", "the vocabulary JSON is a int"),
        (b"<unk>\n\na\n", "v.txt", "line 2 of the vocabulary is empty"),
        (b"\xff\xfe<\x00u\x00", "v.txt", "not UTF-8 text"),
        (b"[" * 100_000, "v.json", "not valid JSON"),
        (b"x\n" * (model_files.MAX_VOCAB_BYTES // 2 + 1), "v.txt", "more than the limit of 5 MB"),
    ],
    ids=["bad-json", "number", "duplicate", "duplicate-lines", "empty-list", "empty-text", "missing-id", "same-id",
         "mixed-object", "json-number", "blank-line", "utf16", "deep-json", "too-big"],
)  # fmt: skip
def test_bad_vocabularies_are_refused(data, filename, message):
    with pytest.raises(ValueError, match=message):
        read_vocabulary(data, filename)


def test_a_vocabulary_that_does_not_match_the_embedding_names_both_numbers():
    uploaded = split_model(language_state())
    with pytest.raises(ValueError, match="the vocabulary has 6 tokens but 'embedding.weight' has 7 rows"):
        build_language_model(uploaded, VOCAB[:-1], "x")


def test_single_characters_make_a_character_model():
    vocab = [UNKNOWN_TOKEN, "<pad>", "a", "b", " ", "."]
    built = build_language_model(split_model(language_state(vocab_size=6)), vocab, "x")
    assert isinstance(built.model.tokenizer, CharTokenizer) and built.model.kind == "chars"
    assert built.model.tokens("ab z") == ["a", "b", " ", UNKNOWN_TOKEN]


def test_other_spellings_of_the_unknown_token_and_capitals():
    vocab = ["[UNK]", "Bob", "is", "nice", ".", "the", "a"]
    built = build_language_model(split_model(language_state()), vocab, "x")
    assert built.model.vocab[0] == UNKNOWN_TOKEN and built.model.tokens("Bob is nice") == [UNKNOWN_TOKEN, "is", "nice"]
    assert "The token [UNK] is read as the unknown token <unk>." in built.notices
    assert any("1 token(s) have capital letters (such as 'Bob')" in notice for notice in built.notices)


def test_a_vocabulary_without_unknown_token_reads_unknown_words_as_zeros_and_never_predicts_them():
    vocab = ["the", "cat", "sat", "on", "mat", ".", "a"]
    uploaded = split_model(language_state())
    built = build_language_model(uploaded, vocab, "x")
    model = built.model
    assert model.vocab == [*vocab, UNKNOWN_TOKEN] and "no unknown token" in built.notices[0]
    assert model.tokens("the dog") == ["the", UNKNOWN_TOKEN]
    expected = uploaded.lstm.run(np.stack([uploaded.embedding[0], np.zeros(3, np.float32)]))
    trace = model.trace("the dog")
    np.testing.assert_allclose(trace.hidden, expected.hidden, atol=1e-7)
    assert model.next_token_probs(trace)[:, -1].max() == 0.0


def test_a_bare_lstm_is_not_a_language_model():
    with pytest.raises(ValueError, match="no embedding and decoder"):
        build_language_model(split_model(lstm_state()), VOCAB, "x")


# ----------------------------------------------------------------------------- numeric input
def test_csv_rows_become_timesteps():
    text = "# a comment\nx,y,z\n1, 2, 3\n\n-0.5,1e-3,4\n"
    values, notices = read_input_vectors(text, 3)
    np.testing.assert_array_equal(values, np.array([[1, 2, 3], [-0.5, 1e-3, 4]], np.float32))
    assert values.dtype == np.float32 and notices == ()
    spaced, _ = read_input_vectors("1 2 3\n4\t5\t6\n7;8;9", 3)
    np.testing.assert_array_equal(spaced, np.arange(1, 10, dtype=np.float32).reshape(3, 3))


def test_too_many_rows_are_cut_with_a_notice():
    values, notices = read_input_vectors("1,2\n" * (MAX_INPUT_STEPS + 5), 2)
    assert values.shape == (MAX_INPUT_STEPS, 2)
    assert notices == (f"The input has {MAX_INPUT_STEPS + 5:,} rows; only the first {MAX_INPUT_STEPS:,} are read.",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3\n4,5\n", r"row 2 has 2 value\(s\); this LSTM reads 3 per timestep"),
        ("1,2,3\n4,abc,6\n", "row 2, column 2: 'abc' is not a number"),
        ("1,nan,3\n", "row 1, column 2 is 'nan': every value must be a finite number"),
        ("1,2,-inf\n", "row 1, column 3 is '-inf'"),
        ("1,2,1e39\n", "row 1, column 3 is '1e39'"),
        ("1,,3\n", "row 1, column 2 is empty"),
        ("\n# nothing\n", "no rows of numbers"),
        ("a,b,c\n", "no rows of numbers"),
        ("1," * 2_000_000, "more than 2 MB"),
        ("1,2,3\n<script>,2,3\n", "row 2, column 1: '<script>' is not a number"),
    ],
    ids=["count", "word", "nan", "inf", "overflow", "empty-field", "nothing", "header-only", "huge", "html"],
)
def test_bad_input_rows_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        read_input_vectors(text, 3)
