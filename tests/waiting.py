"""Waiting for a condition, with a deadline, instead of sleeping for a fixed time: a test then takes
as long as the thing it waits for, and fails with a message when that never comes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.01,
               message: str = "the condition never came true") -> T:  # fmt: skip
    """Call `predicate` every `interval` seconds until it returns something true, and return that.

    Raises AssertionError(`message`) once `timeout` seconds have passed without it.

    >>> wait_until(lambda: 42)
    42
    """
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise AssertionError(message)
        time.sleep(interval)
    return result
