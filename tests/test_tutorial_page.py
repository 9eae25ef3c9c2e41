"""/tutorial with AppTest: every lesson opens the real trace at its word, links to /step with that view."""

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages import open_page
from ui import lessons, model_store


def open_tutorial() -> AppTest:
    return open_page("views/tutorial.py")


def test_tutorial_runs_and_opens_each_lesson_at_its_word(models):
    app = open_tutorial()
    assert not app.exception
    shown = "\n".join(element.value for element in app.markdown)
    assert ":orange-background[**mary**]" in shown
    assert ":orange-background[**swimming**]" in shown
    assert ":orange-background[**brave**] bob" in shown  # the last "brave", right before the name
    for lesson in lessons.LESSONS:
        assert lesson.title in [header.value for header in app.subheader]
    assert len(app.get("plotly_chart")) == 2 * len(lessons.LESSONS)  # a cell diagram and a unit line each
    assert "vanishing gradient" in shown and "Bidirectional" in shown
    gender = models["words"].units.get("subject gender")
    if gender is not None:
        assert f"**Following unit {gender.unit}**: unit {gender.unit} is the model's subject-gender unit" in shown


def test_lesson_links_carry_the_view_to_step_and_gates(models):
    app = open_tutorial()
    links = [link for link in app.get("page_link") if link.proto.page.startswith(("step", "gates"))]
    assert len(links) == 2 * len(lessons.LESSONS)
    model = models["words"]
    for lesson, step_link, gates_link in zip(lessons.LESSONS, links[::2], links[1::2], strict=True):
        trace = model.trace(lesson.text)
        view = lessons.lesson_view(lesson, model, trace)
        for link, page in ((step_link, "step"), (gates_link, "gates")):
            proto = link.proto
            assert proto.page.startswith(page)  # "step_view", the page the link switches to
            query = {key: values[0] for key, values in parse_qs(proto.query_string).items()}
            assert query["text"] == lesson.text and query["model"] == "words"
            assert int(query["t"]) == view.t and int(query["unit"]) == view.unit
            assert trace.tokens[view.t] == lesson.word


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.word)
def test_following_a_lesson_link_lands_on_that_token_in_step(models, lesson):
    model = models["words"]
    view = lessons.lesson_view(lesson, model, model.trace(lesson.text))
    app = open_page("views/step.py", {"text": lesson.text, "model": "words", "t": str(view.t), "unit": str(view.unit)})
    assert not app.exception and not app.warning
    assert app.slider(key="t").value == view.t and app.number_input(key="unit").value == view.unit
    assert f":orange-background[**{lesson.word}**]" in "\n".join(element.value for element in app.markdown)
    assert model_store.text_trace("words", lesson.text).trace.tokens[view.t] == lesson.word


def test_the_notes_lead_on_to_the_gradient_training_and_playground_pages(models):
    app = open_tutorial()
    pages = {link.proto.page.split("/")[0]: link.proto.query_string for link in app.get("page_link")}
    assert {"gradients", "train", "playground"} <= set(pages)
    assert parse_qs(pages["gradients"]) == {"source": ["longlag"], "lag": ["60"]}
    shown = "\n".join(element.value for element in app.markdown)
    assert "coming" not in shown  # no promise of pages that are already here
