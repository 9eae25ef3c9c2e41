"""/tutorial with AppTest: the order of its parts, a question per lesson that says right or wrong with the
trace's answer and keeps the answer hidden until then, lessons opened on the tokens the analysis found,
links to /step and /gates with that view, and every model of the model choice (a session's own too)."""

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from lstm_core.analysis import directions
from lstm_core.models.language_model import LANGUAGE_MODELS
from lstm_core.models.tagger import load_tagger
from tests.fake_models import fake_language_model
from tests.pages import chart_specs, new_session, open_page
from ui import explain, figures, lessons, model_store, tagger_lessons

TUTORIAL = "views/tutorial.py"


def open_tutorial(query: dict[str, str] | None = None, app: AppTest | None = None) -> AppTest:
    return open_page(TUTORIAL, query, app=app, timeout=300)


def shown(app: AppTest) -> str:
    return "\n".join(element.value for element in app.markdown)


def built(models, name: str = "words") -> lessons.ModelLessons:
    return lessons.build_lessons(models[name], name)


def chart_keys(app: AppTest) -> list[str]:
    return [chart.key for chart in app.get("plotly_chart")]


TAGGER_QUESTION = "tutorial_question_tagger_0"  # the first pair of sentences, shown by default


def question_keys(name: str = "words") -> list[str]:
    return ["tutorial_question_warm_up", *(f"tutorial_question_{key}_{name}" for key in ("forget", "input", "output")),
            TAGGER_QUESTION]  # fmt: skip


def reveal_all(app: AppTest, name: str = "words") -> AppTest:
    """Press every question's "Show the answer", as a student who reads on without answering."""
    for key in question_keys(name):
        app.button(key=f"{key}_reveal").click().run()
        assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_the_tutorial_builds_up_in_order_for_every_model(models, name):
    app = open_tutorial({"model": name})
    assert not app.exception, app.exception
    assert app.radio(key="model").value == name
    headings = [header.value for header in app.subheader]
    order = ["0 · Start small", *(lesson.title for lesson in built(models, name).lessons), "How the named units",
             "Why a plain RNN forgets", "Stacked and bidirectional"]  # fmt: skip
    positions = [next(index for index, heading in enumerate(headings) if heading.startswith(part)) for part in order]
    assert positions == sorted(positions)
    assert all(header.proto.help for header in app.subheader)  # every heading explains its terms
    assert [pills.key for pills in app.pills] == question_keys(name)
    assert {"For the curious: the Jacobian, and why it shrinks", "For the curious: the PyTorch names"} <= {
        expander.label for expander in app.expander
    }
    assert not app.table  # every table gives its question's answer away: none before an answer
    reveal_all(app, name)
    assert len(app.table) == 6  # the warm-up's numbers, each lesson's, and both taggers on two sentences


def test_each_lesson_opens_on_the_token_the_analysis_found(models):
    app = reveal_all(open_tutorial())
    text = shown(app)
    for lesson in built(models).lessons:
        assert lesson.title in [header.value for header in app.subheader]
        assert explain.highlighted_text(lesson.tokens, lesson.t) in text
        assert f"**Following unit {lesson.unit}**" in text
        for sentence in lesson.story:
            assert explain.as_markdown(sentence) in text
    forget = built(models).lessons[0]
    gender = models["words"].units["subject gender"]
    assert forget.unit == gender.unit and "subject-gender unit" in forget.unit_reason
    assert "With unit " in text and "switched off" in text  # the switch-off sentence under its charts


@pytest.mark.parametrize("question", ["warm_up", "forget", "input", "output"])
def test_predict_then_reveal_says_right_or_wrong_with_the_traces_answer(models, question):
    asked = lessons.warm_up().question if question == "warm_up" else next(
        lesson.question for lesson in built(models).lessons if lesson.key == question
    )  # fmt: skip
    key = "tutorial_question_warm_up" if question == "warm_up" else f"tutorial_question_{question}_words"
    app = open_tutorial()
    assert app.pills(key=key).value is None
    assert not app.success and not app.error  # nothing revealed before an answer
    app.pills(key=key).set_value(asked.answer).run()
    assert not app.exception
    assert [element.value for element in app.success] == [explain.as_markdown(asked.reveal(asked.answer).text)]
    assert asked.reveal(asked.answer).text.startswith("Right:") and not app.error
    wrong = next(option for option in range(len(asked.labels)) if option != asked.answer)
    app.pills(key=key).set_value(wrong).run()
    assert not app.success and len(app.error) == 1
    assert app.error[0].value == explain.as_markdown(asked.reveal(wrong).text)
    assert f"The answer is “{asked.labels[asked.answer]}”" in asked.reveal(wrong).text


def test_lesson_links_carry_the_view_to_step_and_gates(models):
    app = reveal_all(open_tutorial())
    links = [link for link in app.get("page_link") if link.proto.page.startswith(("step", "gates"))
             and "model=words" in link.proto.query_string]  # the taggers' lesson links its own steps  # fmt: skip
    taught = built(models).lessons
    assert len(links) == 2 * len(taught)
    for lesson, step_link, gates_link in zip(taught, links[::2], links[1::2], strict=True):
        for link, page in ((step_link, "step"), (gates_link, "gates")):
            assert link.proto.page.startswith(page)
            query = {key: values[0] for key, values in parse_qs(link.proto.query_string).items()}
            assert query["text"] == lesson.text and query["model"] == "words"
            assert int(query["t"]) == lesson.t and int(query["unit"]) == lesson.unit


def test_following_a_lesson_link_lands_on_that_token_in_step(models):
    lesson = built(models).lessons[0]
    query = {"text": lesson.text, "model": "words", "t": str(lesson.t), "unit": str(lesson.unit)}
    app = open_page("views/step.py", query)
    assert not app.exception and not app.warning
    assert app.slider(key="t").value == lesson.t and app.number_input(key="unit").value == lesson.unit


def test_named_units_say_how_they_were_found_and_link_to_the_corpus_explorer(models):
    app = open_tutorial()
    text = shown(app).replace("\\", "")
    corpus_links = [link for link in app.get("page_link") if link.proto.page.startswith("corpus")]
    assert len(corpus_links) == len(models["words"].units)
    for info in models["words"].units.values():
        assert f"{info.accuracy:.1%}" in text and f"Why {figures.threshold_text(info.threshold)}" in text
    queries = [parse_qs(link.proto.query_string) for link in corpus_links]
    assert all(query["model"] == ["words"] and query["signal"] == ["cell"] for query in queries)


def test_the_notes_lead_on_to_the_gradient_training_playground_and_glossary_pages(models):
    app = open_tutorial()
    pages = {link.proto.page.split("/")[0]: link.proto.query_string for link in app.get("page_link")}
    assert {"gradients", "train", "playground", "glossary"} <= set(pages)
    assert parse_qs(pages["gradients"]) == {"source": ["longlag"], "lag": ["60"]}
    assert parse_qs(pages["playground"]) == {"preset": [lessons.warm_up().preset.title]}
    assert "coming" not in shown(app)  # no promise of pages that are already here


def test_a_session_model_gets_its_own_lessons(models):
    app = new_session(timeout=300)
    name = model_store.add_session_model(fake_language_model("chars"), "mine", session=app.session_state)
    open_tutorial({"model": name}, app)
    assert not app.exception, app.exception
    assert app.radio(key="model").value == name
    assert f"tutorial_question_forget_{name}" in [pills.key for pills in app.pills]
    assert ("lessons", name) in app.session_state["_tutorial_lessons"]  # kept in the session, not shared


def test_a_named_units_link_opens_the_corpus_explorer_with_that_unit_selected(models):
    model = models["words"]
    info = model.units["subject gender"]
    story = next(story for story in lessons.named_units_for("words") if story.info.name == "subject gender")
    app = open_page("views/corpus.py", story.explorer, timeout=300)
    assert not app.exception and not app.warning
    units = list(app.table[0].value["unit"])
    assert any(label.startswith(f"unit {info.unit} ") and "(subject gender)" in label for label in units), units


def test_each_answer_stays_hidden_until_the_student_answers(models):
    """Predict, then reveal: before a pick (or "Show the answer") a lesson shows its text, unmarked, and its
    question only; the story, the table and the charts that give the answer away come after."""
    forget, taught_input = built(models).lessons[:2]
    app = open_tutorial()
    assert not app.exception
    before = chart_keys(app)
    assert "tutorial_warm_up_chart" not in before
    assert not [key for key in before if key.startswith(("tutorial_forget_", "tutorial_input_", "tutorial_output_"))]
    text = shown(app)
    # the whole text, the answer's token not marked
    assert explain.highlighted_text(forget.tokens, None, radius=len(forget.tokens)) in text
    assert explain.highlighted_text(forget.tokens, forget.t) not in text
    assert not any(explain.as_markdown(sentence) in text for sentence in forget.story)
    assert f"**Following unit {forget.unit}**" not in text and not app.table
    assert len([button for button in app.button if button.key.endswith("_reveal")]) == 5

    key = "tutorial_question_forget_words"
    wrong = next(option for option in range(len(forget.question.labels)) if option != forget.question.answer)
    app.pills(key=key).set_value(wrong).run()  # even a wrong answer is an answer: the trace then shows why
    assert not app.exception
    after = chart_keys(app)
    assert {f"tutorial_forget_{part}" for part in ("lines", "ablation", "diagram", "history")} <= set(after)
    assert not [key for key in after if key.startswith(("tutorial_input_", "tutorial_output_"))]  # still asked
    text = shown(app)
    assert explain.highlighted_text(forget.tokens, forget.t) in text
    assert all(explain.as_markdown(sentence) in text for sentence in forget.story)
    assert "tutorial_question_forget_words_reveal" not in [button.key for button in app.button]

    app.button(key="tutorial_question_input_words_reveal").click().run()  # the answer alone, on request
    assert not app.exception
    assert [element.value for element in app.info if "The answer is" in element.value] == [
        explain.as_markdown(taught_input.question.shown().text)
    ]
    assert "tutorial_input_carry" in chart_keys(app)
    app.pills(key=key).set_value(None).run()  # clearing the pick does not hide what was revealed
    assert "tutorial_forget_diagram" in chart_keys(app)


@pytest.mark.parametrize("tagger", ["tagger", "tagger-forward"])
def test_a_link_naming_a_tagger_teaches_with_a_language_model_and_points_to_the_taggers_lesson(models, tagger):
    app = open_tutorial({"model": tagger})
    assert not app.exception
    assert tagger not in app.radio(key="model").options and app.radio(key="model").value == "words"
    assert any("has its own lesson under “Stacked and bidirectional LSTMs”" in box.value for box in app.warning)


def test_the_taggers_lesson_asks_first_then_shows_both_taggers_and_the_backward_unit(models):
    both, forward = load_tagger("tagger"), load_tagger("tagger-forward")
    (first_text, first_t, _), (second_text, second_t, second_tag) = directions.AMBIGUOUS_PAIRS[0]
    app = open_tutorial()
    assert TAGGER_QUESTION in [pills.key for pills in app.pills]
    assert not [key for key in chart_keys(app) if key.startswith("tutorial_carried_")]
    rows = directions.tag_rows(both, forward, second_text.split())
    question = tagger_lessons.which_tagger_question(rows, second_t, second_tag)
    app.pills(key=TAGGER_QUESTION).set_value(question.answer).run()
    assert not app.exception
    assert explain.as_markdown(question.reveal(question.answer).text) in [box.value for box in app.success]
    tables = [table.value for table in app.table]
    second_table = next(table for table in tables if list(table["word"]) == second_text.split())
    assert list(second_table["both ways"])[second_t].startswith(rows[second_t].tag_both)
    unit, _ = directions.carrier_unit(both, (first_text.split(), first_t), (second_text.split(), second_t))
    assert f"is unit {unit}" in shown(app)
    paths = [(words, directions.carried_path(both.trace_words(words), unit, t))
             for words, t in ((first_text.split(), first_t), (second_text.split(), second_t))]  # fmt: skip
    assert explain.as_markdown(tagger_lessons.gate_contrast_sentence(paths[0], paths[1], unit)) in shown(app)
    assert len([key for key in chart_keys(app) if key.startswith("tutorial_carried_")]) == 2
    step_links = [link.proto.query_string for link in app.get("page_link") if "model=tagger" in link.proto.query_string]
    assert len(step_links) == 2 and all(f"unit={unit}" in query and "direction=" in query for query in step_links)
    assert "tutorial_probes" in chart_keys(app) and "tutorial_language_probes" in chart_keys(app)
    words_probes = models["words"].metrics["probes"]
    assert all(sentence in shown(app) for sentence in tagger_lessons.probe_sentences(words_probes))
    probes = both.metrics["probes"]
    assert all(sentence in shown(app) for sentence in tagger_lessons.probe_sentences(probes))
    app.text_input(key="tutorial_tagger_text").set_value("I saw her duck.").run()
    typed = next(table.value for table in app.table if list(table.value["word"]) == ["I", "saw", "her", "duck", "."])
    assert list(typed["both ways"])[3].startswith(both.tag(["I", "saw", "her", "duck", "."])[3])


def test_the_forget_lessons_line_chart_draws_the_named_units_threshold(models):
    forget = built(models).lessons[0]
    gender = models["words"].units["subject gender"]
    assert forget.unit == gender.unit
    app = reveal_all(open_tutorial())
    spec = next(chart for chart, key in zip(chart_specs(app), chart_keys(app), strict=True)
                if key == "tutorial_forget_history")  # fmt: skip
    lines = [shape for shape in spec["layout"].get("shapes", []) if shape.get("type") == "line"]
    assert any(abs(shape["y0"] - gender.threshold) < 1e-4 and abs(shape["y1"] - gender.threshold) < 1e-4 for shape in lines)
