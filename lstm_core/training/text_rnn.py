"""Train a plain tanh RNN language model on the story world with the word model's own budget.

    python -m lstm_core.training.text_rnn       # writes assets/longlag/text_rnn.safetensors and its card (about 6 minutes on 1 core)

The /gradients page compares it with the shipped `story` LSTM (the story-world word model) on a pronoun whose subject was named
many words earlier. For the comparison to be fair, everything but the cell is the word model's
(`lstm_core.training.language.CONFIGS["story"]`): the same stories (count and seed), vocabulary,
sizes, tied decoder, optimizer, learning-rate schedule, batch size, number of steps and gradient
clipping. torch's default initialisation; one CPU thread.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_core.analysis.gradient_comparison import GAP_SEED, compare_on_text, gap_accuracy, pronoun_agreement_of
from lstm_core.config import LONGLAG_DIR
from lstm_core.data import corpus
from lstm_core.data.tasks import PRONOUN_EXAMPLE
from lstm_core.models.language_model import load_pretrained
from lstm_core.models.text_rnn import TEXT_RNN_FILE, TextRNN
from lstm_core.rnn import RNN
from lstm_core.training.language import CONFIGS, HELDOUT_STORY_SEED, PRONOUN_SEED, TrainConfig, _padded, make_tokenizer

__all__ = ["TorchTextRNN", "train_text_rnn", "to_text_rnn", "main"]

CARD_FILE = "text_rnn_card.md"


class TorchTextRNN(nn.Module):
    """embedding -> nn.RNN (tanh) -> decoder tied to the embedding; parameter names as `TextRNN.save`."""

    def __init__(self, vocab_size: int, size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, size)
        self.cell = nn.RNN(size, size, batch_first=True, nonlinearity="tanh")
        self.decoder = nn.Linear(size, vocab_size)
        self.decoder.weight = self.embedding.weight  # tied, as the word model's (Press & Wolf, 2017)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, V)
        output, _ = self.cell(self.embedding(ids))
        return self.decoder(output)


def train_text_rnn(
    config: TrainConfig = CONFIGS["story"], threads: int = 1, log: Callable[[str], None] = print
) -> tuple[TextRNN, float]:
    """Train on `config`'s stories and budget; returns the NumPy model (float32) and the seconds spent."""
    if config.kind != "words" or config.num_layers != 1 or config.embedding_size != config.hidden_size:
        raise ValueError("the story-world RNN copies a one-layer word model with tied sizes")
    torch.manual_seed(config.seed)
    torch.set_num_threads(threads)
    tokenizer = make_tokenizer("words")
    stories = corpus.generate_stories(config.train_stories, seed=config.seed)
    sequences = [np.asarray(tokenizer.encode(story.text)[: config.max_length], dtype=np.int64) for story in stories]
    model = TorchTextRNN(len(tokenizer.vocab), config.hidden_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    # The word model's schedule: linear warm-down to a tenth.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - 0.9 * step / max(config.steps, 1))
    rng = np.random.default_rng(config.seed)
    started = time.perf_counter()
    losses = []
    for step in range(1, config.steps + 1):
        inputs, targets, _ = _padded([sequences[index] for index in rng.integers(len(sequences), size=config.batch_size)])
        logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % config.log_every == 0 or step == config.steps:
            log(f"[text rnn] step {step:5d}/{config.steps}  loss {np.mean(losses[-config.log_every:]):.4f}  "
                f"elapsed {time.perf_counter() - started:6.1f}s")  # fmt: skip
    seconds = time.perf_counter() - started
    numpy_model = to_text_rnn(model, tokenizer)
    numpy_model.metrics.update(train_seconds=round(seconds, 1), final_training_loss=round(float(np.mean(losses[-100:])), 4),
                               config=asdict(config), threads=threads)  # fmt: skip
    return numpy_model, seconds


def to_text_rnn(model: TorchTextRNN, tokenizer) -> TextRNN:
    """Copy the trained weights into the NumPy `TextRNN`, checking every name and shape."""
    state = {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}
    return TextRNN(tokenizer, state["embedding.weight"], RNN.from_state_dict(state, prefix="cell."),
                   state["decoder.bias"], {})  # fmt: skip


def evaluate(model) -> dict:
    """The held-out numbers of the card and the page, for a `TextRNN` or a word `LanguageModel`:
    pronoun agreement right after a change of subject, and after a quotation of each length."""
    return {
        "pronoun_agreement": pronoun_agreement_of(model, corpus.pronoun_prompts(1000, seed=PRONOUN_SEED)),
        "gap_accuracy": gap_accuracy(model, seed=GAP_SEED),
    }


def gradient_at_name(model: TextRNN, words) -> dict[str, float]:
    """On `PRONOUN_EXAMPLE`: the size of the gradient of the loss at its pronoun, at the subject's last
    mention, relative to its size at the last word, in the RNN and in the word model's LSTM."""
    comparison = compare_on_text(words, PRONOUN_EXAMPLE, rnn=model)
    name = len(comparison.step_labels) - 1 - comparison.step_labels[::-1].index("mary")
    distance = comparison.length - 1 - name
    return {"words_back": distance, **{kind: float(comparison.profiles[(kind, True)].relative_by_distance()[distance])
                                         for kind in ("rnn", "lstm")}}  # fmt: skip


def _card(model: TextRNN, lstm_metrics: dict, heldout: dict[str, float], reach: dict[str, float]) -> str:
    config = model.metrics["config"]
    gaps = model.metrics["gap_accuracy"]
    rows = [
        f"| {row['clauses']} | {row['gap']:.0f} | {row['accuracy']:.1%} | {lstm['accuracy']:.1%} |"
        for row, lstm in zip(gaps, lstm_metrics["gap_accuracy"], strict=True)
    ]
    return "\n".join([
        "# Story-world RNN: a plain tanh RNN language model beside the `story` LSTM",
        "",
        "embedding -> one-layer tanh RNN -> decoder tied to the embedding; the /gradients page sets it beside the "
        "`story` LSTM on a pronoun whose subject was named many words earlier.",
        "",
        f"Trained like `story` in everything but the cell: {config['train_stories']} stories of the story world "
        f"(seed {config['seed']}), cut at {config['max_length']} words; vocabulary of {len(model.vocab)} words; "
        f"embedding and {model.cell.hidden_size} units; Adam, learning rate {config['learning_rate']} decayed "
        f"linearly to a tenth, {config['steps']} steps of {config['batch_size']} stories, gradient norm clipped at "
        f"{config['grad_clip']}; PyTorch's default initialisation. {model.metrics['threads']} CPU thread, "
        f"{model.metrics['train_seconds'] / 60:.1f} min; final training loss {model.metrics['final_training_loss']}.",
        "Stored in half precision (`text_rnn.safetensors`); every number below is computed from the stored weights.",
        "",
        "Rebuild: `python -m lstm_core.training.text_rnn`.",
        "",
        "## Held-out accuracy",
        "",
        f"- perplexity per word on {heldout['stories']} held-out stories: RNN {heldout['rnn']:.3f}, "
        f"LSTM {heldout['lstm']:.3f}",
        f"- pronoun right after a change of subject (\"Mary is a nice person. Dan, on the other hand, is evil. ___\", "
        f"P(right pronoun) > P(other), 1000 prompts): RNN {model.metrics['pronoun_agreement']:.1%}, "
        f"LSTM {lstm_metrics['pronoun_agreement']:.1%}",
        "- pronoun after the subject is quoted at length (`lstm_core.data.tasks.pronoun_after_gap`: \"... Dan, on "
        "the other hand, is evil. Dan said: \"clause, clause, ...\". Later, ___\", clauses that say nothing of "
        f"gender; {gaps[0]['count']} prompts per length, seed {GAP_SEED}; chance is 50%; training quotations "
        "have one or two clauses):",
        "",
        "| clauses | words from the name to the pronoun (mean) | RNN | LSTM |",
        "|---|---|---|---|",
        *rows,
        "",
        "## How far back the gradient reaches",
        "",
        f"On the /gradients example (\"{PRONOUN_EXAMPLE}\"), the gradient of the loss at \"she\" with respect to "
        f"the input \"mary\", {reach['words_back']} words before the last word, is {reach['rnn']:.1e} of its size at "
        f"the last word in the RNN and {reach['lstm']:.1e} in the LSTM.",
        "",
        _reading(gaps[-1]["accuracy"]),
        "",
    ])  # fmt: skip


def _reading(rnn_accuracy_at_longest_gap: float) -> str:
    if rnn_accuracy_at_longest_gap >= 0.8:
        return ("The RNN holds the subject's gender across long quotations although its gradient from the pronoun "
                "barely reaches the name: in its training stories a pronoun mostly comes a few words after a name, "
                "where the gradient still arrives, and the hold it learned there lasts. The long-lag task "
                "(`model_card.md`) has no short cases, and there the RNN learns nothing.")  # fmt: skip
    return (
        "The RNN loses the subject's gender as the quotation grows, where the LSTM keeps it: its gradient from "
        "the pronoun barely reaches the name, so it gets little signal to learn a longer hold."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the story-world RNN that /gradients compares with the LSTM.")
    parser.add_argument("--out", type=Path, default=LONGLAG_DIR)
    parser.add_argument("--steps", type=int, default=None, help="fewer steps, to check the pipeline (not shipped)")
    args = parser.parse_args(argv)
    config = CONFIGS["story"]
    if args.steps is not None:
        config = TrainConfig(**(asdict(config) | {"steps": args.steps}))
    trained, _ = train_text_rnn(config)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / TEXT_RNN_FILE
    trained.save(path)
    model = TextRNN.load(path)  # the numbers of the stored (half-precision) weights
    model.metrics.update(evaluate(model))
    model.save(path)
    lstm = load_pretrained("story")
    lstm_metrics = evaluate(lstm)
    stories = corpus.generate_stories(600, seed=HELDOUT_STORY_SEED)
    heldout = {"stories": len(stories), "rnn": _perplexity(model, stories), "lstm": _perplexity(lstm, stories)}
    (args.out / CARD_FILE).write_text(_card(model, lstm_metrics, heldout, gradient_at_name(model, lstm)))
    print(f"wrote {path} and {args.out / CARD_FILE}")


def _perplexity(model, stories) -> float:
    total, count = 0.0, 0
    for story in stories:
        ids = model.tokenizer.encode(story.text)
        if len(ids) < 2:
            continue
        probabilities = model.next_token_probs(story.text) if isinstance(model, TextRNN) else \
            model.next_token_probs(model.trace(story.text))  # fmt: skip
        total -= float(np.log(probabilities[np.arange(len(ids) - 1), ids[1:]] + 1e-12).sum())
        count += len(ids) - 1
    return float(np.exp(total / count))


if __name__ == "__main__":
    main()
