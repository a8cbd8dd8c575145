"""Writing files so that a process killed mid-write never leaves a truncated one.

Every writer goes through `atomic_target`: the file is written under a temporary name in the same
folder and renamed over the target (an atomic rename on POSIX and Windows).
"""

import contextlib
import json
import os
import pathlib

import numpy as np


@contextlib.contextmanager
def atomic_target(path):
    """Yield a temporary path beside `path` (same suffix, so format detection works); rename it over `path` on success.

    Args:
        path: the file to write; its folder is created.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def read_json(path):
    with open(path) as f:
        return json.load(f)


def save_json(data, path):
    with atomic_target(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


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
