"""Home's "About the models" section: what each shipped language model and tagger read, where that text comes from
and under which licence, how well it does on text it never saw, and what it cannot do.

Pure functions of the loaded models' recorded metrics and `lstm_core.data.sources` (no Streamlit).
Every number comes from the model's own evaluation at training time (its model card has the rest).
"""

from __future__ import annotations

from collections.abc import Mapping

from lstm_core.data.sources import SOURCES
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.subwords import NAMES_NOTE

__all__ = ["about_models_markdown", "model_summary", "shipped_models_markdown", "SOURCE_KEYS"]

SOURCE_KEYS = ("gutenberg", "janeaustenr", "brown", "babynames")


def _percent(value: object) -> str:
    # one decimal, as the tutorial and the model cards give them: 99.6% must not read as 100%
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else "?"


def tagger_summary(name: str, tagger) -> str:
    """A Markdown paragraph on one part-of-speech tagger, from the metrics it was saved with."""
    test = tagger.metrics.get("test", {})
    reads = "reading both ways" if tagger.bidirectional else "reading forwards only"
    lines = [f"**`{name}`**: a part-of-speech tagger, {tagger.lstm.num_layers} LSTM layers {reads}, "
             f"{tagger.lstm.hidden_size} units per layer and direction; it gives every word one of "
             f"{len(tagger.tags)} tags (noun, verb, …)."]  # fmt: skip
    if "accuracy" in test:
        lines.append(f"On the Brown files it never read (those whose number ends in 0) it tags "
                     f"{100 * test['accuracy']:.1f}% of {test['tokens']:,} words right, and "
                     f"{_percent(test.get('unseen_word_accuracy'))} of the words it never saw, from their spelling.")  # fmt: skip
    return " ".join(lines)


def model_summary(name: str, model: LanguageModel) -> str:
    """A Markdown paragraph on one model, from the metrics it was saved with."""
    if getattr(model, "task", "next") == "tags":
        return tagger_summary(name, model)
    metrics = model.metrics
    unit = "word" if model.kind == "words" else "character"
    lines = [f"**`{name}`**: a {unit}-level LSTM, {model.lstm.hidden_size} units, "
             f"{len(model.vocab):,} tokens in its vocabulary."]  # fmt: skip
    if model.reads_spelling:
        lines.append("A word outside the vocabulary is read from its spelling, so no word is unknown to it, though it "
                     "can only guess vocabulary words as the next word.")  # fmt: skip
    if "real_text_perplexity" in metrics:
        sentence = (f"On book chapters and Brown files it never read, its perplexity is "
                    f"{metrics['real_text_perplexity']:.1f} per {unit}")  # fmt: skip
        if "ngram_real_text_perplexity" in metrics:
            sentence += (f" (a 5-gram model of the same text: {metrics['ngram_real_text_perplexity']:.1f}; "
                         "lower is better)")  # fmt: skip
        lines.append(sentence + ".")
    if "pronoun_agreement" in metrics:
        lines.append(
            f"After a change of subject (“Mary is a nice person. Dan, on the other hand, is evil.”) it prefers the "
            f"right pronoun in {_percent(metrics['pronoun_agreement'])} of held-out prompts"
            + (" told with names it never saw in training." if metrics.get("pronoun_names") == "held-out" else ".")
        )
    if "recall_accuracy" in metrics:
        lines.append(f"After “… died for his country. For his contributions, brave” its likeliest next word among "
                     f"the names of its stories is the subject's own in {_percent(metrics['recall_accuracy'])} of "
                     "held-out prompts.")  # fmt: skip
    gender = model.units.get("subject gender")
    if gender is not None:
        lines.append(f"Its unit {gender.unit} tracks the current subject's gender, right on "
                     f"{_percent(gender.accuracy)} of tokens with names it was not chosen on.")  # fmt: skip
    return " ".join(lines)


def _names(names: list[str]) -> str:
    return " and ".join(f"`{name}`" for name in names)


def about_models_markdown(models: Mapping[str, LanguageModel]) -> str:
    """The whole section: one paragraph per model, the sources with their licences, the limits."""
    parts = [model_summary(name, model) for name, model in models.items()]
    real = [name for name, model in models.items() if "real_text_perplexity" in model.metrics]
    taggers = [name for name, model in models.items() if getattr(model, "task", "next") == "tags"]
    story_only = [name for name in models if name not in real and name not in taggers]
    if real:
        parts.append(f"**What {_names(real)} read.** Each batch of training mixed real English with a generated "
                     "story world (people, their deeds, changes of subject) told with thousands of first names:")  # fmt: skip
        for key in SOURCE_KEYS:
            source = SOURCES[key]
            parts.append(f"- `{source.label}` ({source.registry}): {source.used}. Licence: {source.licence}.")
    if story_only:
        parts.append(f"**What {_names(story_only)} read.** Only the generated story world: short stories about 40 "
                     "people, their deeds and changes of subject.")  # fmt: skip
    if taggers:
        brown = SOURCES["brown"]
        parts.append(f"**What {_names(taggers)} read.** The Brown corpus's tagged sentences (`{brown.label}`, "
                     f"{brown.registry}; licence: {brown.licence}), their 87 tags mapped to the 12 universal tags; "
                     "the files whose number ends in 0 were kept for testing.")  # fmt: skip
    parts.append(
        "**What they cannot do.** They are small and know the English of their books (19th-century novels, 1961 "
        "American prose): modern words are read from their spelling, never guessed. They do not understand what "
        "they read; their guesses repeat the habits of their texts. The story world has two pronouns, he and she."
    )
    parts.append(f"**A note on names.** {NAMES_NOTE}")
    parts.append("Each model's card (`assets/<name>/model_card.md`) gives the data's versions and sizes, the "
                 "training settings and time, and every metric.")  # fmt: skip
    return "\n\n".join(parts)


def shipped_models_markdown() -> str:
    """The section for the shipped language models (loaded once per process), or a line saying which
    model files are missing."""
    from lstm_core.models.language_model import PRETRAINED
    from ui import model_store

    models, missing = {}, []
    for name in PRETRAINED:
        try:
            models[name] = model_store.language_model(name)
        except FileNotFoundError:
            missing.append(name)
    text = about_models_markdown(models) if models else ""
    if missing:
        text += ("\n\n" if text else "") + "Not installed here: " + ", ".join(f"`{name}`" for name in missing) + "."
    return text
