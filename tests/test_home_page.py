"""The home page with AppTest: it runs, explains the gates, draws the cell and links to every page."""

from tests.pages import new_session


def test_home_page_runs_and_links_everywhere():
    app = new_session().run()
    assert not app.exception
    assert app.title[0].value == "LSTM Gate Explorer"
    text = " ".join(element.value for element in app.markdown)
    for words in ("cell state", "Forget gate", "Input gate", "Output gate", "candidate"):
        assert words in text
    assert len(app.get("plotly_chart")) == 1  # the cell diagram
    links = " ".join(link.proto.page for link in app.get("page_link"))
    for page in ("gates", "step", "tutorial", "gradients", "train", "playground", "compare", "corpus", "saturation",
                 "your-model"):  # fmt: skip
        assert page in links
