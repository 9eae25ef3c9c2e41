"""Data the models learn from: the generated story world (`corpus`) and the long-lag tasks (`tasks`)."""
