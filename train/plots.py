"""Figures of a training run (matplotlib, Agg backend): training curves and the toy-data plots.

Each `plot_*` draws one figure and hands it to `train.files.save_figure`, which writes it atomically.
"""

import numpy as np

from train import files

CURVES = (("d_loss", "g_loss"), ("d_real", "d_fake"))


def _figure(ncols=1, width=5.0, height=4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * ncols, height))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols)
    return figure, np.atleast_1d(axes)


def plot_curves(history, path):
    """Training curves per epoch: the two losses, and the discriminator's mean outputs D(x) and D(G(z)); for a
    model without those (CycleGAN) its other terms (adversarial, cycle, identity) in the second panel."""
    figure, axes = _figure(ncols=2)
    labels = {"d_real": "D(x)", "d_fake": "D(G(z))"}
    others = [name for name in history if name not in (*CURVES[0], *CURVES[1], "seconds")]
    outputs = any(len(history.get(name, [])) for name in CURVES[1])
    for axis, names in zip(axes, (CURVES[0], CURVES[1] if outputs else others)):
        for name in names:
            values = history.get(name, [])
            if len(values):
                axis.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=labels.get(name, name))
        axis.set_xlabel("epoch")
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
        axis.grid(alpha=0.3)
    axes[0].set_title("losses")
    if outputs:
        axes[1].set_title("discriminator outputs")
        axes[1].axhline(0.5, color="gray", linestyle=":", linewidth=1)
        axes[1].set_ylim(0.0, 1.0)
    else:
        axes[1].set_title("loss terms")
    return files.save_figure(figure, path)


def plot_gaussian1d(data, samples, grid, discriminator, path, title=""):
    """The lecture example's 1-D figure: histograms of data and of G(z), with D(x) drawn over them."""
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
    return files.save_figure(figure, path)


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
    return files.save_figure(figure, path)
