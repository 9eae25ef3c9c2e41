"""What a trained model learned.

- `units`: which unit tracks the subject's gender or a quotation, gate saturation, held-out metrics
  (its names are also importable from `lstm_core.analysis` itself);
- `explore`: units that switch on together over a selected range of tokens (as in LSTMVis);
- `gradients`: how far back the gradient of a late loss reaches in a plain RNN and in an LSTM;
  `gradient_comparison`: the four cells the /gradients page compares.
"""

from lstm_core.analysis.units import (
    GateSaturation,
    TokenTable,
    UnitScore,
    find_quotation_unit,
    find_subject_gender_unit,
    gate_saturation,
    perplexity,
    perplexity_of_texts,
    pronoun_agreement,
    rank_units,
    recall_accuracy,
    switch_flip_rate,
    token_table,
)

__all__ = [
    "UnitScore", "rank_units", "TokenTable", "token_table", "find_subject_gender_unit", "find_quotation_unit",
    "switch_flip_rate", "GateSaturation", "gate_saturation", "perplexity", "perplexity_of_texts", "pronoun_agreement", "recall_accuracy",
]  # fmt: skip
