"""Training with torch, the only part of `lstm_core` that imports it.

    python -m lstm_core.training.language words     # the shipped word model (also: chars)
    python -m lstm_core.training.tasks              # the long-lag RNN and LSTM

`text` trains a small character model on a user's text for the /train page.
"""
