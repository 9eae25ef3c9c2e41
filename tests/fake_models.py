"""Stand-ins for the shipped models while `assets/` is still being trained: same tokenizers and shapes,
random weights. Page tests use them only when `assets/<name>/model.safetensors` is missing."""

from __future__ import annotations

import numpy as np

from lstm_core import LSTM
from lstm_core.config import ASSETS_DIR
from lstm_core.data import corpus
from lstm_core.models.language_model import LanguageModel, UnitInfo, load_pretrained
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer


def real_assets_exist(names=("words", "chars")) -> bool:
    return all((ASSETS_DIR / name / "model.safetensors").exists() for name in names)


def shipped_or_fake(name: str) -> LanguageModel:
    """The shipped model `name` when its weights are in assets/, else a stand-in."""
    if real_assets_exist((name,)):
        return load_pretrained(name)
    return fake_language_model(name)


def fake_language_model(name: str, hidden_size: int = 24, seed: int = 0) -> LanguageModel:
    """A random-weight `LanguageModel` with the shipped model's tokenizer and a made-up gender unit."""
    tokenizer = WordTokenizer([UNKNOWN_TOKEN, *corpus.vocabulary()]) if name == "words" else CharTokenizer()
    rng = np.random.default_rng(seed)
    vocab_size = len(tokenizer.vocab)
    lstm = LSTM.random(input_size=16, hidden_size=hidden_size, seed=seed, scale=0.8)
    gender = UnitInfo(
        name="subject gender",
        layer=0,
        direction=0,
        unit=5,
        threshold=0.0,
        above="female",
        below="male",
        accuracy=0.9,
        chosen_accuracy=0.95,
    )
    return LanguageModel(
        name=name,
        tokenizer=tokenizer,
        embedding=rng.normal(size=(vocab_size, 16)),
        lstm=lstm,
        decoder_weight=rng.normal(size=(vocab_size, hidden_size)),
        decoder_bias=np.zeros(vocab_size),
        units={"subject gender": gender},
    )
