"""What the `ganzoo` command reports as a usage error: one line, exit status 2, no traceback.

Only input the user has to change is a usage error: a bad flag or value, a missing file, a dataset
or model that does not fit the command. Anything else (a Keras error, a failed parity check, a
bug) is a real failure and keeps its traceback (exit status 1).
"""

import contextlib


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""


@contextlib.contextmanager
def usage_errors(*types):
    """Re-raise the listed library errors (bad input that the library checked) as `UsageError`.

    Args:
        *types: exception classes that, inside the block, mean the user's input was wrong.
    """
    try:
        yield
    except types as error:
        raise UsageError(str(error)) from None
