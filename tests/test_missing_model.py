"""A page whose model files are missing says so and stops, without a traceback (ui.inputs.model_or_stop)."""

from __future__ import annotations

import pytest

import lstm_core.models.language_model
from tests.pages import open_page
from ui import model_store


@pytest.mark.parametrize("page", ["views/gates.py", "views/step.py", "views/compare.py", "views/corpus.py"])
def test_a_page_without_its_model_files_says_so(page, monkeypatch):
    def missing(name, *args, **kwargs):
        raise FileNotFoundError(f"assets/{name}/model.npz")

    monkeypatch.setattr(lstm_core.models.language_model, "load_pretrained", missing)
    model_store.language_model.clear()
    try:
        app = open_page(page, timeout=120)
        assert not app.exception, [item.value for item in app.exception]
        assert any("model is not installed yet" in error.value for error in app.error)
        assert not app.get("plotly_chart")
    finally:
        model_store.language_model.clear()
