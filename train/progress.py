"""How the long commands show progress: Keras's bar on a terminal, one line per step in a log.

`ganzoo train` shows `train.callbacks.TrainingProgress`; `ganzoo evaluate` a line per phase (`phase`) and a bar
over its longest loops (`progress_bar`). Everything goes to stdout, where Keras's own bar goes; errors stay one
line on stderr. No Keras at import time: `bar_verbosity` is read before a backend is chosen.
"""

import sys

AUTO = "auto"
VERBOSITIES = (0, 1, 2)  # Keras's: silent, a bar redrawn in place, one line when done


def bar_verbosity(verbose=AUTO, stream=None):
    """Keras's verbosity for `verbose`: "auto" is 1 (a bar redrawn in place) on a terminal, else 2 (one line per
    epoch or loop), because carriage returns make a log file unreadable.

    Args:
        verbose: "auto", True (same as "auto"), False, or one of `VERBOSITIES`.
        stream: the stream the bar is written to; default sys.stdout.
    """
    if verbose is True or verbose == AUTO:
        stream = sys.stdout if stream is None else stream
        isatty = getattr(stream, "isatty", None)
        return 1 if isatty is not None and isatty() else 2
    if verbose is False or verbose is None:
        return 0
    if verbose not in VERBOSITIES:
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}.")
    return int(verbose)


def phase(text, verbose=True):
    """Say that a phase of a long command starts, e.g. "Generating 10,000 images (noise seed 0)...".

    Flushed at once, so a log shows what the command is doing while the phase runs.

    Args:
        text: what the phase does, without the trailing "...".
        verbose: print only when true.
    """
    if verbose:
        print(f"{text}...", flush=True)


class _Silent:
    """A progress bar that shows nothing (`progress_bar` when not verbose)."""

    def add(self, n, values=None):
        pass

    def update(self, current, values=None, finalize=None):
        pass


def progress_bar(target, verbose=True, unit_name="step"):
    """A `keras.utils.Progbar` over `target` units (redrawn on a terminal, one line when done in a log), or one that
    shows nothing when `verbose` is false. Call its `add(n)` as the work advances.

    Args:
        target: the number of units in all.
        verbose: as `bar_verbosity`.
        unit_name: what a unit is, for the time per unit ("image", "point").
    """
    verbosity = bar_verbosity(verbose)
    if not verbosity:
        return _Silent()
    import keras

    return keras.utils.Progbar(target, verbose=verbosity, unit_name=unit_name)


def duration(seconds):
    """Seconds as Keras's bar shows a time left: "45s", "3:05" or "1:02:03".

    Args:
        seconds: a duration, rounded to whole seconds.
    """
    seconds = max(0, round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"
