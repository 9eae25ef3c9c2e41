"""A page whose model files are missing says so and stops, without a traceback (ui.inputs.model_or_stop)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import lstm_core.models.language_model
from ui import state


@pytest.mark.parametrize("page", ["views/gates.py", "views/step.py", "views/compare.py", "views/corpus.py"])
def test_a_page_without_its_model_files_says_so(page, monkeypatch):
    def missing(name, *args, **kwargs):
        raise FileNotFoundError(f"assets/{name}/model.npz")

    monkeypatch.setattr(lstm_core.models.language_model, "load_pretrained", missing)
    state.language_model.clear()
    try:
        app = AppTest.from_file("../app.py", default_timeout=120)
        app.switch_page(page)
        app.run()
        assert not app.exception, [item.value for item in app.exception]
        assert any("model is not installed yet" in error.value for error in app.error)
        assert not app.get("plotly_chart")
    finally:
        state.language_model.clear()
