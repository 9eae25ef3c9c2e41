"""/your-model with AppTest: uploads through the page's file uploaders, the language model that then
opens in this session's /gates and /step (and no other session's), the bare LSTM fed pasted vectors,
and every refusal shown as a message, never an exception.

AppTest identifies a page by its file name until the app has run once; /your-model's url path differs
from its file name (your-model, your_model.py), so each session runs the home page first, then switches.
"""

import io
import json
from urllib.parse import parse_qs

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.pages import new_session, open_page
from tests.test_gates_page import CHARTS
from tests.test_model_files import VOCAB, RunsCode, WordModel, seeded, torch_bytes
from ui import model_store, your_model

PAGE = "views/your_model.py"
GATES = "views/gates.py"
HEATMAPS = 6


def open_your_model() -> AppTest:
    return open_page(PAGE, app=new_session().run())  # the home page first: see the module docstring


def upload(app: AppTest, index: int, name: str, data: bytes) -> AppTest:
    app.get("file_uploader")[index].set_value((name, data, "application/octet-stream"))
    return app.run()


def errors(app: AppTest) -> str:
    return "\n".join(element.value for element in app.error).replace("\\", "")


def infos(app: AppTest) -> str:
    return "\n".join(element.value for element in app.info).replace("\\", "")


def links(app: AppTest) -> dict[str, dict[str, str]]:
    return {
        link.proto.page: {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
        for link in app.get("page_link")
    }


def charts(app: AppTest) -> int:
    return len(app.get("plotly_chart"))


def bare_lstm_bytes(input_size=3, hidden_size=5, num_layers=1, bidirectional=False) -> tuple[torch.nn.LSTM, bytes]:
    torch.manual_seed(0)
    module = torch.nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
    return module, torch_bytes(module.state_dict())


def test_the_page_opens_with_the_documentation_and_asks_for_a_file():
    app = open_your_model()
    assert not app.exception, app.exception
    assert [header.value for header in app.header] == ["Your own model"]
    assert [uploader.label for uploader in app.get("file_uploader")][0].startswith("Weights: .pt, .pth")
    assert "Upload a weights file to begin" in infos(app)
    documented = "\n".join(element.value for element in app.markdown)
    for key in ("weight_ih_l0", "embedding.weight", "encoder.weight", "decoder.weight", "decoder.bias", "lstm."):
        assert key in documented
    assert "torch.save(model.state_dict()" in "\n".join(block.value for block in app.code)


def test_a_language_model_with_its_vocabulary_opens_in_gates_of_this_session_only(models):
    app = open_your_model()
    model = seeded(WordModel, num_layers=2)
    upload(app, 0, "my story model.pt", torch_bytes(model.state_dict()))
    assert not app.exception and not app.error
    assert "Upload its vocabulary, one token for each of the 7 rows of embedding.weight" in infos(app)
    upload(app, 1, "vocab.json", json.dumps(VOCAB).encode())
    assert not app.exception and not app.error, errors(app)
    name = "my story model (words)"
    assert model_store.session_model_names(app.session_state) == (name,)
    text = app.text_input(key="your_model_text").value
    assert text == "the cat sat on mat ."
    assert links(app) == {"gates": {"model": name, "text": text}, "step": {"model": name, "text": text}}
    app.run()  # a rerun (any click) must not add the model a second time
    assert model_store.session_model_names(app.session_state) == (name,)

    open_page(GATES, {"model": name, "text": "the cat sat", "layer": "1"}, app=app)  # the last layer shows guesses
    assert not app.exception, app.exception
    assert app.radio(key="model").value == name
    # Its vocabulary has no "he" and "she": the chart follows the words switching the unit off changes most.
    assert charts(app) == CHARTS and app.slider(key="top_k").max == 5
    uploaded = model_store.language_model(name, session=app.session_state)
    np.testing.assert_allclose(uploaded.embedding, model.embedding.weight.detach().numpy())

    other = open_page(GATES, {"model": name, "text": "the cat sat"})
    assert not other.exception and name not in other.radio(key="model").options
    assert "There is no model called “my story model (words)” in this session" in "\n".join(
        element.value for element in other.warning
    ).replace("\\", "")


def test_a_malicious_pickle_is_refused_on_the_page_and_does_not_run(tmp_path):
    marker = tmp_path / "ran"
    app = open_your_model()
    upload(app, 0, "evil.pt", torch_bytes({"weight_ih_l0": RunsCode(marker)}))
    assert not app.exception, app.exception
    assert "evil.pt: Refused: the PyTorch file holds Python objects (posix.system)" in errors(app)
    assert not marker.exists()
    assert model_store.session_model_names(app.session_state) == () and your_model.bare_model(app.session_state) is None


def test_a_vocabulary_of_the_wrong_size_is_refused_with_both_numbers():
    app = open_your_model()
    upload(app, 0, "lm.pt", torch_bytes(seeded(WordModel).state_dict()))
    upload(app, 1, "vocab.txt", "\n".join(VOCAB[:5]).encode())
    assert not app.exception, app.exception
    assert "vocab.txt: the vocabulary has 5 tokens but 'embedding.weight' has 7 rows" in errors(app)
    assert model_store.session_model_names(app.session_state) == ()
    upload(app, 1, "vocab.json", b'["<unk>", "a", "a"]')
    assert "vocab.json: The token 'a' appears twice in the vocabulary, at ids 1 and 2." in errors(app)


def test_a_bare_lstm_reads_pasted_vectors_and_draws_its_gates():
    module, data = bare_lstm_bytes(num_layers=2, bidirectional=True)
    app = open_your_model()
    upload(app, 0, "lstm.pt", data)
    assert not app.exception and "Paste some vectors" in infos(app)
    bare = your_model.bare_model(app.session_state)
    assert bare is not None and bare.lstm.num_layers == 2
    app.button(key="your_model_example").click().run()
    assert not app.exception, app.exception
    assert app.text_area(key="your_model_csv").value.startswith("x0,x1,x2\n")
    assert charts(app) == HEATMAPS + 2  # and the cell diagram and the strips of one timestep
    assert app.number_input(key="your_model_t").max == 39 and app.number_input(key="your_model_unit").max == 4

    rows = np.round(np.random.default_rng(0).normal(size=(6, 3)), 3)
    app.text_area(key="your_model_csv").set_value("\n".join(",".join(map(str, row)) for row in rows)).run()
    app.number_input(key="your_model_t").set_value(4).run()
    app.number_input(key="your_model_unit").set_value(2).run()
    app.selectbox(key="your_model_layer").set_value(1).run()
    app.selectbox(key="your_model_direction").set_value(1).run()
    assert not app.exception, app.exception
    with torch.no_grad():
        output, _ = module(torch.tensor(rows, dtype=torch.float32))
    hidden = output[4, 5 + 2].item()  # the backward direction's unit 2 of the last layer, at t = 4
    values = "\n".join(element.value for element in app.markdown)
    assert f"hidden h = {hidden:.3f}" in values
    assert "Timestep 4, unit 2" in [element.value for element in app.subheader]


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("1,2\n", "The input: row 1 has 2 value(s); this LSTM reads 3 per timestep."),
        ("1,2,3\n1,x,3\n", "The input: row 2, column 2: 'x' is not a number."),
        ("1,2,nan\n", "The input: row 1, column 3 is 'nan': every value must be a finite number."),
        ("<b>hi</b>,2,3\n", "The input: row 1, column 1: '<b>hi</b>' is not a number."),
    ],
    ids=["count", "word", "nan", "html"],
)
def test_bad_vectors_get_a_message(pasted, message):
    app = open_your_model()
    upload(app, 0, "lstm.pt", bare_lstm_bytes()[1])
    app.text_area(key="your_model_csv").set_value(pasted).run()
    assert not app.exception, app.exception
    assert message in errors(app) and charts(app) == 0


def test_too_many_rows_are_cut_and_drawn_in_a_window():
    app = open_your_model()
    upload(app, 0, "lstm.safetensors", _safetensors_bytes())
    app.text_area(key="your_model_csv").set_value("0.1,0.2,0.3\n" * 2_100).run()
    assert not app.exception, app.exception
    assert "The input has 2,100 rows; only the first 2,000 are read." in infos(app)
    assert app.number_input(key="your_model_t").max == 1_999 and charts(app) == HEATMAPS + 2


def test_a_csv_file_is_used_instead_of_the_box():
    app = open_your_model()
    upload(app, 0, "lstm.pt", bare_lstm_bytes()[1])
    app.get("file_uploader")[2].set_value(("steps.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n", "text/csv"))
    app.run()
    assert not app.exception, app.exception
    assert app.number_input(key="your_model_t").max == 2 and charts(app) == HEATMAPS + 2
    assert not app.info  # the header row is skipped without a word, as the page says it will be


def test_a_bare_lstm_stays_in_its_own_session():
    first = open_your_model()
    upload(first, 0, "lstm.pt", bare_lstm_bytes()[1])
    second = open_your_model()
    assert your_model.bare_model(first.session_state) is not None
    assert your_model.bare_model(second.session_state) is None
    assert "Upload a weights file to begin" in infos(second)


def test_a_vocabulary_for_an_lstm_without_embedding_is_not_used():
    app = open_your_model()
    upload(app, 0, "lstm.pt", bare_lstm_bytes()[1])
    upload(app, 1, "vocab.json", json.dumps(VOCAB).encode())
    assert not app.exception
    assert "has no embedding, so the vocabulary is not used" in "\n".join(element.value for element in app.warning)
    assert model_store.session_model_names(app.session_state) == ()


def _safetensors_bytes() -> bytes:
    from safetensors.torch import save

    torch.manual_seed(0)
    return save({f"rnn.{key}": value for key, value in torch.nn.LSTM(3, 8).state_dict().items()})


def test_torch_bytes_helper_is_a_real_torch_file():
    assert torch.load(io.BytesIO(bare_lstm_bytes()[1]), weights_only=True)["weight_ih_l0"].shape == (20, 3)


def test_hostile_file_names_and_tokens_are_shown_as_text():
    app = open_your_model()
    name = "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)).pt"
    upload(app, 0, name, torch_bytes(seeded(WordModel).state_dict()))
    upload(app, 1, "vocab.json", json.dumps(["<unk>", "<script>", "**x**", "$y$", "[a](b)", ":red[c]", "."]).encode())
    assert not app.exception and not app.error, errors(app)
    (model_name,) = model_store.session_model_names(app.session_state)
    assert not set(model_name) & set("<>[]*$:")
    success = app.success[0].value
    assert success.startswith("\\<img src=x onerror=alert\\(1\\)\\> \\*\\*bold\\*\\*")
    app.text_input(key="your_model_text").set_value("<script> **x** $y$").run()
    assert not app.exception, app.exception
    guesses = next(caption.value for caption in app.caption if caption.value.startswith("Its guesses"))
    assert "\\<script\\>" in guesses and "**x**" not in guesses.replace("\\*", "")


def test_removing_the_file_forgets_the_bare_lstm():
    app = open_your_model()
    upload(app, 0, "lstm.pt", bare_lstm_bytes()[1])
    assert your_model.bare_model(app.session_state) is not None
    app.get("file_uploader")[0].set_value(None).run()
    assert not app.exception and your_model.bare_model(app.session_state) is None
    assert "_your_model_read" not in app.session_state  # nor are its weights kept in the session
