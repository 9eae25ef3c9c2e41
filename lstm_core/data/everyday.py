"""Everyday sentences of the kind a class types, to measure how much of them a word model knows.

None of them comes from the training text or the story world's templates. The model cards report the
share of their tokens outside the vocabulary (`lstm_core.training.language.everyday_reading`).
"""

from __future__ import annotations

__all__ = ["EVERYDAY_SENTENCES"]

EVERYDAY_SENTENCES: tuple[str, ...] = (
    "My sister Anna moved to Berlin last year. She loves her new job.",
    "Priya is a doctor. She works at the hospital near the river.",
    "We watched a movie on my phone after dinner.",
    "The bus was late again this morning, so I walked to school.",
    "Can you send me the photos from the party?",
    "Our teacher gave us a lot of homework for the weekend.",
    "He plays football with his friends every Saturday.",
    "I think the new computer is faster than the old one.",
    "The kids are playing in the garden while their parents cook.",
    "She bought a red jacket and a pair of shoes at the mall.",
    "Omar has two brothers and a little sister.",
    "My grandmother makes the best soup in the world.",
    "It rained all day, so we stayed inside and played cards.",
    "Tom forgot his keys at the office again.",
    "The museum is closed on Mondays, but the park is open.",
    "Maria wants to become a nurse when she grows up.",
    "I drink a cup of coffee before work every morning.",
    "The dog barked at the mailman and then ran away.",
    "We are going to visit our cousins in Madrid next summer.",
    "Ahmed fixed the broken chair with some glue and a hammer.",
    "Please turn off the lights when you leave the room.",
    "The train to London leaves at half past nine.",
    "Lucy and her friends went swimming in the lake.",
    "My brother is learning to play the guitar.",
    "The shop on the corner sells fresh bread and cheese.",
    "Yuki wrote a long letter to her best friend.",
    "Dad cooked pasta for dinner and we ate it in the garden.",
    "The new student in our class is very friendly.",
    "I lost my umbrella on the way home.",
    "Carlos is a good runner, but he does not like to lose.",
    "The baby fell asleep in the car.",
    "We need milk, eggs and apples from the supermarket.",
    "She is reading a book about the history of Japan.",
    "Grace called her mother to say she would be late.",
    "The concert was so loud that my ears hurt.",
    "Ben painted his bedroom blue last weekend.",
    "Our neighbours have a big black cat.",
    "The doctor told him to rest for a few days.",
    "Fatima won the chess game in twenty minutes.",
    "I can't find my glasses anywhere.",
)
