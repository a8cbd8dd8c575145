"""Argument types for the `ganzoo` flags: every number is checked where it is parsed.

Zero, negative, non-finite and out-of-range values are rejected (argparse reports them in one
line, exit status 2); nothing means "default" silently.
"""

import argparse
import math

TRUE_WORDS = ("true", "yes", "1", "on")
FALSE_WORDS = ("false", "no", "0", "off")


def integer(minimum=1, maximum=None):
    """An argparse type: an int in [minimum, maximum]."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"at least {minimum}" if maximum is None else f"in {minimum}..{maximum}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def positive_float(text):
    """An argparse type: a finite float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def boolean(text, name="value"):
    """true/false, yes/no, 1/0, on/off (any case) -> bool; ValueError for anything else."""
    if isinstance(text, bool):
        return text
    word = str(text).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be true/false, yes/no, 1/0 or on/off, got {text!r}.")
