"""The model card of a shipped language model: data and licences, sizes, training, metrics, limits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lstm_core.models.language_model import LanguageModel
from lstm_core.models.subwords import NAMES_NOTE

if TYPE_CHECKING:
    from lstm_core.training.language import TrainConfig, TrainingData

__all__ = ["write_model_card", "NAMES_NOTE"]



def _sources_lines(config: TrainConfig) -> list[str]:
    if config.real_text_share <= 0 and config.cast != "records":
        return []
    from lstm_core.data.sources import SOURCES

    keys = ["gutenberg", "janeaustenr", "brown"] if config.real_text_share > 0 else []
    keys += ["babynames"] if config.cast == "records" else []
    lines = ["", "### Sources", ""]
    for key in keys:
        source = SOURCES[key]
        lines.append(f"- `{source.label}` ({source.registry}, sha256 `{source.sha256[:12]}…`): {source.used}. "
                     f"Licence: {source.licence}. <{source.url}>")  # fmt: skip
    lines.append("- Fetched and prepared by `python -m lstm_core.data fetch` (pinned versions, checked sums).")
    return lines


def _decoder_words(model: LanguageModel, config: TrainConfig) -> str:
    if getattr(model, "decoder_is_input", False):
        return "each word scored by its whole input vector (its row, its spelling and its record), not stored"
    return "tied to the embedding" if config.tie_weights else "its own matrix"


def _forget_init_words(config: TrainConfig) -> str:
    horizon = getattr(config, "chrono_horizon", 0)
    if horizon > 1:
        return (f"forget-gate biases initialised \"chrono\" (Tallec & Ollivier, 2018) for memories of 1 to {horizon} "
                f"{config.kind}")  # fmt: skip
    return "forget-gate bias initialised to 1"


def write_model_card(directory: Path, model: LanguageModel, config: TrainConfig, data: TrainingData) -> None:
    metrics, units = model.metrics, model.units
    unit_of = {"words": "word", "chars": "character"}[model.kind]
    parameter_count = sum(array.size for name, array in model.tensors().items() if name != "decoder.weight" or not config.tie_weights)
    file_bytes = sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
    cast = data.cast
    from lstm_core.data.sources import GUTENBERG_BOOKS

    lines = [
        f"# Model card: `{model.name}`",
        "",
        f"A {unit_of}-level LSTM language model for the LSTM Gate Explorer: embedding -> LSTM -> linear decoder. "
        "Trained with torch by `lstm_core.training.language`, run with NumPy (`lstm_core.load_pretrained`).",
        "",
        "## Data",
        "",
    ]
    if config.real_text_share > 0:
        lines.append(
            f"- Real English ({100 * config.real_text_share:.0f}% of every batch): {data.real_token_count:,} {model.kind} "
            f"of training chapters of {len(GUTENBERG_BOOKS)} Project Gutenberg prose books, Austen's six novels and "
            "the Brown corpus, "
            f"read in random windows of {config.max_length} {model.kind}. Held out: every chapter and Brown file "
            "whose number ends in 0 (test) or 5 (validation)."
        )
    lines.append(
        f"- The story world `lstm_core.data.corpus` ({100 * (1 - config.real_text_share):.0f}% of every batch): "
        f"{config.train_stories:,} stories (seed {config.seed}) with changes of subject, pronouns, unimportant "
        "details and distractor names, deeds recalled by name, quotations; each cut at "
        f"{config.max_length} {model.kind}."
    )
    if config.switch_stories:
        lines.append(f"- {config.switch_stories:,} more short stories with a change of subject in each (\"Mary is a nice "
                     "person. Dan, on the other hand, is evil. He ...\").")  # fmt: skip
    if getattr(config, "recall_stories", 0):
        lines.append(f"- {config.recall_stories:,} more short stories that each end by recalling their subject's name "
                     "(\"Rose saved a child from the river. She likes tea. For her contributions, brave Rose.\").")  # fmt: skip
    if getattr(config, "pronoun_weight", 1.0) != 1.0:
        lines.append(f"- the loss on the first {model.kind[:-1]} of each pronoun in the stories counts "
                     f"{config.pronoun_weight:g} times (real text counts as it is)")  # fmt: skip
    if cast.genders is not None:
        lines.append(
            f"- Its cast: {len(cast.train):,} first names in training and {len(cast.heldout):,} held-out names that "
            "no training story uses, drawn uniformly (not by popularity) from the US birth records' names given "
            "to at least 300 babies, at least 95% of them of one sex; the story world's own 40 names are in training."
        )
    lines += _sources_lines(config)
    lines += ["", "## Sizes", ""]
    lines.append(f"- vocabulary: {len(model.vocab):,} tokens (`vocab.json`, id order; `<unk>` for anything else)")
    if model.reads_spelling:
        lines.append(
            f"- every word is also read from its spelling: the mean of {model.pieces.bucket_count:,} hashed character "
            f"{model.pieces.min_n}- to {model.pieces.max_n}-gram vectors is added to its input, so a word outside the "
            "vocabulary is never unknown to the input (it can still not be predicted)"
        )
    if model.names is not None:
        lines.append(
            f"- a first name's birth record (share of girls among {len(model.names.shares):,} names in `names.json`) "
            "moves its input along one learned direction"
        )
    lines.append(
        f"- embedding {config.embedding_size}, LSTM {config.hidden_size} units x {config.num_layers} layer(s), decoder "
        f"{_decoder_words(model, config)}; {parameter_count:,} parameters, "
        f"stored as float16: {file_bytes / 2**20:.1f} MiB on disk"
    )
    lines += ["", "## Training", ""]
    steps_done = metrics.get("train_steps", config.steps)
    lines.append(
        f"- Adam, learning rate {config.learning_rate} decayed linearly to a tenth "
        f"{'over the planned steps or the time limit, whichever ran out first' if config.max_minutes else 'over the steps'}, "
        f"{steps_done:,} steps of "
        f"{config.batch_size} sequences (planned {config.steps:,}; time limit {config.max_minutes} min), gradient clip "
        f"{config.grad_clip}, seed {config.seed}, {metrics.get('train_threads', 2)} CPU thread(s); {_forget_init_words(config)}"
    )
    lines.append(
        f"- final training loss {metrics.get('final_train_loss', float('nan')):.3f}"
        + (f" (sampled softmax over {config.sampled_words:,} drawn words)" if config.sampled_words else "")
        + "; "
        f"training time {metrics.get('train_seconds', 0) / 60:.1f} min"
    )
    lines.append(f"- rebuild: `python -m lstm_core.data fetch` then `python -m lstm_core.training.language {model.name}`")
    lines += ["", "## Held-out metrics", ""]
    if "real_text_perplexity" in metrics:
        line = (f"- real text: perplexity per {unit_of} {metrics['real_text_perplexity']:.2f} on "
                f"{metrics['real_text_windows']:,} test windows (held-out chapters and Brown files)")  # fmt: skip
        if "ngram_real_text_perplexity" in metrics:
            ratio = metrics["real_text_perplexity"] / metrics["ngram_real_text_perplexity"]
            line += (f"; a Kneser-Ney 5-gram model of the same tokens (`lstm_core.analysis.ngram`, "
                     f"{metrics['ngram_training_tokens']:,} training tokens) gets {metrics['ngram_real_text_perplexity']:.2f} "
                     f"on the same windows: the LSTM's perplexity is {ratio:.2f}x the 5-gram's")  # fmt: skip
        lines.append(line)
    lines.append(f"- story world: perplexity per {unit_of} {metrics['story_perplexity']:.3f} on "
                 f"{metrics['heldout_stories']} held-out stories told with held-out names")  # fmt: skip
    pronoun_test = ('P("He ") against P("She "), chained over characters' if model.kind == "chars"
                    else "P(he) against P(she)")  # fmt: skip
    lines.append(
        f'- pronoun after a change of subject and gender ("Mary is a nice person. Dan, on the other hand, is evil. ___", '
        f"{pronoun_test}): right in {100 * metrics['pronoun_agreement']:.1f}% of held-out prompts with "
        f"{metrics['pronoun_names']} names"
    )
    if "recall_accuracy" in metrics:
        example = metrics["recall_example"]
        top = ", ".join(f"{token} {probability:.3f}" for token, probability in example["top"])
        lines.append(
            f'- "For his contributions, brave ___": the subject\'s name above every other name of the cast in '
            f"{100 * metrics['recall_accuracy']:.1f}% of held-out prompts; \"{example['text']}\" -> {top}"
        )
    if "everyday_tokens" in metrics:
        lines.append(
            f"- everyday sentences (`lstm_core.data.everyday`, {metrics['everyday_tokens']} tokens): "
            f"{100 * metrics['everyday_outside_vocabulary']:.1f}% of tokens outside the vocabulary, read from their "
            f"spelling; {100 * metrics['everyday_unknown']:.1f}% unknown to the model's input"
        )
    if units:
        lines += ["", "## Interpretable units", ""]
        for unit in units.values():
            line = (
                f"- **{unit.name}**: layer {unit.layer}, unit {unit.unit}, {unit.signal} state > {unit.threshold:.3f} "
                f'reads "{unit.above}", otherwise "{unit.below}". Held-out accuracy {100 * unit.accuracy:.1f}% '
                f"({100 * unit.chosen_accuracy:.1f}% on the data it was chosen on). {unit.description}"
            )
            if unit.name == "subject gender" and "gender_unit_switch_flip_rate" in metrics:
                line += (f" It changes sides at {100 * metrics['gender_unit_switch_flip_rate']:.1f}% of the held-out "
                         "switches to a subject of the other gender.")  # fmt: skip
            lines.append(line)
    lines += ["", "## Limits", ""]
    if cast.genders is not None:
        lines.append(f"- {NAMES_NOTE}")
    lines += [
        "- It knows the English of its books: 19th-century novels and 1961 American prose, plus a small "
        "generated story world."
        + (" Modern words (apps, brands, slang) are read from their spelling only and never predicted."
           if model.kind == "words" else " It spells modern words by the habits of old ones."),
        "- It is small and reads one sentence or a few at a time; it does not understand, and its guesses "
        "repeat the habits of its books.",
        "- Its story world has two pronouns, he and she; it has never seen they used for one person.",
    ]
    if cast.genders is not None:
        lines.append(
            "- The pronoun and subject-gender figures above are measured on the story world's sentences. In freer "
            "text, where a new subject comes after a strong cue for the old one (\"She loves her new job. Omar, on "
            "the other hand, ...\") or is introduced by a word such as \"brother\", the subject-gender unit can "
            "stay on the old side, and after a sentence of real English the pronoun is one guess among many."
        )
    (directory / "model_card.md").write_text("\n".join(lines) + "\n")


PROBES_HEADING = "## What each layer knows (linear probes)"


def probe_lines(rows: list[dict], fitted_on: str, scored_on: str) -> list[str]:
    """The model card's section on linear probes (`lstm_core.analysis.probes`), one table row per probe."""
    lines = ["", PROBES_HEADING, "",
             f"A logistic regression from one layer's hidden state (or the input vectors) to a property of the token, "
             f"fitted on {fitted_on} and scored on {scored_on}; the baseline always answers the most common value.",
             "", "| states | property | probe | baseline |", "|---|---|---:|---:|"]  # fmt: skip
    lines += [f"| {row['states']} | {row['property']} | {row['accuracy']:.1%} | {row['baseline']:.1%} |" for row in rows]
    return lines


def replace_probe_section(card: str, rows: list[dict], fitted_on: str, scored_on: str) -> str:
    """`card` with its probes section (if any) replaced by one for `rows`, placed before its limits."""
    if PROBES_HEADING in card:
        start = card.index(PROBES_HEADING)
        following = card.find("\n## ", start + len(PROBES_HEADING))
        card = card[:start].rstrip("\n") + ("\n\n" + card[following + 1 :] if following != -1 else "\n")
    section = "\n".join(probe_lines(rows, fitted_on, scored_on)).lstrip("\n") + "\n\n"
    marker = card.find("## Limits")
    return card[:marker] + section + card[marker:] if marker != -1 else card.rstrip("\n") + "\n\n" + section


def write_tagger_card(directory: Path, tagger, config) -> None:
    """`model_card.md` of a part-of-speech tagger (`lstm_core.training.tagger`)."""
    from lstm_core.data.sources import SOURCES
    from lstm_core.tags import TAG_MEANINGS

    metrics = tagger.metrics
    test, valid = metrics["test"], metrics["valid"]
    brown = SOURCES["brown"]
    reads = "both ways (a forward and a backward LSTM per layer)" if config.bidirectional else "forwards only"
    parameter_count = sum(array.size for array in tagger.tensors().values())
    file_bytes = sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
    lines = [
        f"# Model card: `{tagger.name}`",
        "",
        f"A part-of-speech tagger for the LSTM Gate Explorer: word vectors -> {config.num_layers}-layer LSTM reading "
        f"{reads} -> one of 12 universal tags per word. Trained with torch by `lstm_core.training.tagger`, run with "
        "NumPy (`lstm_core.load_pretrained`).",
        "",
        "## Data",
        "",
        f"- `{brown.label}` ({brown.registry}, sha256 `{brown.sha256[:12]}…`): {brown.used}. Licence: {brown.licence}. "
        f"<{brown.url}>",
        "- Fetched and prepared by `python -m lstm_core.data fetch` (pinned version, checked sum).",
        "- **Split:** the Brown files whose number ends in 0 (ca10, ca20, …) are the test set, never trained or tuned "
        "on; those ending in 5 are the validation set; the rest train. "
        f"Training: {metrics['train_sentences']:,} sentences, {metrics['train_tokens']:,} tokens.",
        "- **Tags:** Brown's tags mapped to the 12 universal tags of Petrov, Das and McDonald (2012) by "
        "`lstm_core.universal_tag` (its docstring explains each choice).",
        "",
        "## Model",
        "",
        f"- Input: a word's row (the {len(tagger.vocab) - 1:,} lowercased words seen at least {config.min_count} times; "
        f"others read `<unk>`'s row), plus the mean of its character {config.piece_min_n}- to {config.piece_max_n}-gram "
        f"rows ({config.piece_buckets} hashed rows), plus a row for its shape (Capitalised, digits, …). Size "
        f"{config.embedding_size}.",
        f"- LSTM: {config.num_layers} layers, {config.hidden_size} units per direction, "
        f"{'2 directions' if config.bidirectional else '1 direction'}; dropout {config.dropout} between layers.",
        f"- {parameter_count:,} parameters; files {file_bytes / 1e6:.1f} MB (float16).",
        f"- Training: {metrics['train_steps']:,} steps of {config.batch_size} sentences, Adam at {config.learning_rate} "
        f"decaying to a tenth, seed {config.seed}, known words read as `<unk>` {config.word_dropout:.0%} of the time; "
        f"{metrics['train_seconds'] / 60:.1f} min on {metrics['train_threads']} CPU thread(s).",
        "",
        "## Results",
        "",
        f"- **Test accuracy: {test['accuracy']:.2%}** of {test['tokens']:,} tokens "
        f"(validation {valid['accuracy']:.2%}).",
        f"- Words never seen in training: {test['unseen_word_accuracy']:.1%} of {test['unseen_word_tokens']:,} test tokens, "
        "tagged from their spelling and shape.",
        "",
        "| tag | meaning | test tokens | right |",
        "|---|---|---:|---:|",
    ]
    for tag in tagger.tags:
        if tag in test["per_tag_accuracy"]:
            lines.append(f"| `{tag}` | {TAG_MEANINGS[tag]} | {test['tag_counts'][tag]:,} | "
                         f"{test['per_tag_accuracy'][tag]:.1%} |")  # fmt: skip
    lines += ["", "Main confusions on the test set (true → tagged as):", ""]
    lines += [f"- {c['true']} → {c['predicted']}: {c['count']:,}" for c in test["top_confusions"]]
    if metrics.get("probes"):
        lines += probe_lines(metrics["probes"], "validation sentences", "test sentences")
    lines += [
        "",
        "## Limits",
        "",
        "- The Brown corpus is American English printed in 1961: words, spellings and topics since then are read "
        "from their spelling alone.",
        "- Tokens follow the app's splitting (\"Mr.\" is two tokens), which is not always Brown's.",
        "- The universal tags are coarse: \"to\" before a verb is a particle, before a noun an adposition; "
        "the tagger has to tell them apart from context.",
    ]
    if not config.bidirectional:
        lines.append("- It reads forwards only: a word is tagged before the words after it are read. It is the baseline "
                     "that shows what reading backwards buys; compare with `tagger`.")  # fmt: skip
    (directory / "model_card.md").write_text("\n".join(lines) + "\n")
