"""Files a training run writes: image grids, figures (matplotlib, Agg backend) and atomic saves.

Every writer goes through `atomic_target`: the file is written under a temporary name in the same
folder and renamed over the target, so a run killed mid-write never leaves a truncated file.
"""

import contextlib
import json
import os
import pathlib

import numpy as np

CURVES = (("d_loss", "g_loss"), ("d_real", "d_fake"))


@contextlib.contextmanager
def atomic_target(path):
    """Yield a temporary path beside `path` (same suffix, so format detection works); rename it over `path` on success."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def save_json(data, path):
    with atomic_target(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def to_uint8(images):
    """Images in [-1, 1] -> uint8 in [0, 255]."""
    return np.round((np.clip(np.asarray(images, dtype="float32"), -1.0, 1.0) + 1.0) * 127.5).astype("uint8")


def image_grid(images, rows, cols, pad=1):
    """A (rows x cols) mosaic of NHWC images in [-1, 1] as uint8 (H, W) or (H, W, 3), with `pad` pixel gaps."""
    images = to_uint8(images)
    n, height, width, channels = images.shape
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit a {rows} x {cols} grid.")
    grid = np.zeros((rows * (height + pad) + pad, cols * (width + pad) + pad, channels), dtype="uint8")
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        grid[top : top + height, left : left + width] = image
    return grid[..., 0] if channels == 1 else grid


def save_image(array, path, min_cell=None, cell=None):
    """Save a uint8 grid as PNG, enlarged by an integer factor (nearest) so that small images stay visible."""
    from PIL import Image

    array = np.asarray(array)
    scale = 1
    if min_cell and cell and cell < min_cell:
        scale = int(np.ceil(min_cell / cell))
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    with atomic_target(path) as temporary:
        image.save(temporary, format="PNG")
    return pathlib.Path(path)


def _figure(ncols=1, width=5.0, height=4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * ncols, height))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols)
    return figure, np.atleast_1d(axes)


def _save_figure(figure, path):
    figure.tight_layout()
    with atomic_target(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    return pathlib.Path(path)


def plot_curves(history, path):
    """Training curves per epoch: the two losses, and the discriminator's mean outputs D(x) and D(G(z))."""
    figure, axes = _figure(ncols=2)
    labels = {"d_loss": "d_loss", "g_loss": "g_loss", "d_real": "D(x)", "d_fake": "D(G(z))"}
    for axis, names in zip(axes, CURVES):
        for name in names:
            values = history.get(name, [])
            if len(values):
                axis.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=labels[name])
        axis.set_xlabel("epoch")
        axis.legend()
        axis.grid(alpha=0.3)
    axes[0].set_title("losses")
    axes[1].set_title("discriminator outputs")
    axes[1].axhline(0.5, color="gray", linestyle=":", linewidth=1)
    axes[1].set_ylim(0.0, 1.0)
    return _save_figure(figure, path)


def plot_gaussian1d(data, samples, grid, discriminator, path, title=""):
    """The seeds' 1-D figure: histograms of data and of G(z), with D(x) drawn over them."""
    figure, (axis,) = _figure()
    bins = np.linspace(grid.min(), grid.max(), 60)
    axis.hist(np.ravel(data), bins=bins, density=True, alpha=0.5, color="black", label="data p(x)")
    axis.hist(np.ravel(samples), bins=bins, density=True, alpha=0.5, color="green", label="generated p_g(x)")
    axis.set_xlabel("x")
    axis.set_ylabel("density")
    twin = axis.twinx()
    twin.plot(grid, discriminator, color="blue", linestyle="--", label="D(x)")
    twin.set_ylim(0.0, 1.0)
    twin.set_ylabel("D(x)")
    handles = axis.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    axis.legend(handles=handles, loc="upper left")
    axis.set_title(title)
    return _save_figure(figure, path)


def plot_toy2d(modes, std, samples, path, title=""):
    """Generated 2-D samples over the data's modes, each mode drawn with its 3-std circle."""
    from matplotlib.patches import Circle

    figure, (axis,) = _figure(width=5.0, height=5.0)
    samples = np.asarray(samples)
    axis.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="green", label="generated")
    axis.scatter(modes[:, 0], modes[:, 1], s=20, marker="x", color="red", label="modes")
    for centre in modes:
        axis.add_patch(Circle(centre, 3 * std, fill=False, color="red", linewidth=0.5))
    margin = 1.0 + 6 * std
    axis.set_xlim(modes[:, 0].min() - margin, modes[:, 0].max() + margin)
    axis.set_ylim(modes[:, 1].min() - margin, modes[:, 1].max() + margin)
    axis.set_aspect("equal")
    axis.legend(loc="upper right")
    axis.set_title(title)
    return _save_figure(figure, path)
