"""The run's file formats (JSON, PNG, figures, .keras), each written through `export.files.atomic_target`.

`export.files` is the one home of atomic writes and locks (the lowest layer that writes files);
this module adds the writers that need numpy, matplotlib or Keras, and re-exports the rest.
"""

import json
import pathlib

import numpy as np

from export.files import (  # noqa: F401  re-exported: train's modules write through train.files
    LockedError,
    WriteError,
    atomic_target,
    check_writable,
    ensure_folder,
    exclusive,
    is_temporary,
    write_text,
)


def read_json(path):
    """The JSON in `path`; a ValueError naming the file if it is not valid JSON (OSError if unreadable)."""
    with open(path) as f:
        try:
            return json.load(f)
        except ValueError as error:
            raise ValueError(f"{path} is corrupt: not valid JSON ({error}).") from None


def save_json(data, path):
    return write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", path)


def save_image(grid, path):
    """Save a uint8 (H, W, C) grid (see `export.sampling.image_grid`) as PNG; returns the path."""
    from export.sampling import to_pil

    with atomic_target(path) as temporary:
        to_pil(np.asarray(grid)).save(temporary, format="PNG")
    return pathlib.Path(path)


def save_figure(figure, path):
    """Save a matplotlib figure as PNG; returns the path."""
    figure.tight_layout()
    with atomic_target(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    return pathlib.Path(path)


def save_model(model, path):
    """`model.save` (a .keras file) to `path`."""
    with atomic_target(path) as temporary:
        model.save(temporary)
    return pathlib.Path(path)
