"""Models built around the cell: the word and character language models (`language_model`), their
tokenizers (`tokenize`), and the long-lag task models (`task_model`)."""
