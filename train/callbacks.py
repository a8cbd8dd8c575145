"""Keras callbacks that show a GAN learning: sample grids, latent walks, curves, toy-data figures, divergence.

Every callback skips an epoch whose logs hold a NaN or Inf (see `StopOnDivergence`), so a diverged
run never overwrites its last good pictures.
"""

import importlib.util
import math
import pathlib
import time

import keras
import numpy as np

from export import sampling
from train import files, latent, plots, progress, run_folder

MIN_CELL = 32  # pixels: grids of small images (digits are 8x8) are enlarged to at least this per image


def logs_are_finite(logs):
    return all(math.isfinite(float(v)) for v in (logs or {}).values() if np.ndim(v) == 0)


def _generate(model, z, labels=None, seed=0):
    """Samples for fixed noise as the model samples (the averaged generator under EMA; G's dropout on, with
    masks fixed by `seed`, where the model samples with it)."""
    if hasattr(model, "generate_from"):
        return model.generate_from(z, labels, seed=seed)
    inputs = z if labels is None else [z, labels]
    return keras.ops.convert_to_numpy(model.sampling_generator(inputs, training=False)).astype("float32")


def _due(epoch, every, last_epoch=None):
    """Whether 0-based `epoch` is one to draw: every `every`-th, and always the run's last."""
    return (epoch + 1) % every == 0 or (last_epoch is not None and epoch + 1 == int(last_epoch))


def grid_labels(num_classes, rows, cols):
    """Labels for a rows x cols grid ordered by class: row r shows class r mod num_classes."""
    return np.repeat(np.arange(rows) % num_classes, cols).astype("int32")


class SampleGrid(keras.callbacks.Callback):
    """Every `every` epochs and after `last_epoch`, G(z) for the same fixed noise z as a PNG grid: `directory/epoch_NNN.png`.

    For a conditional GAN, row r is class r (mod the number of classes), so rows read as classes.
    The noise comes from `seed` alone, so two runs with the same seed draw identical grids.
    """

    def __init__(self, directory, rows=10, cols=10, seed=0, every=1, last_epoch=None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.rows, self.cols, self.seed, self.every = int(rows), int(cols), int(seed), int(every)
        self.last_epoch = last_epoch
        self.last_path = None

    def on_train_begin(self, logs=None):
        n = self.rows * self.cols
        if self.model.conditional:
            self.rows = max(self.rows, self.model.num_classes) if self.model.num_classes <= 20 else self.rows
            n = self.rows * self.cols
        self.z = keras.ops.convert_to_numpy(self.model.sample_noise(n, seed=self.seed))
        self.labels = grid_labels(self.model.num_classes, self.rows, self.cols) if self.model.conditional else None

    def on_epoch_end(self, epoch, logs=None):
        if logs_are_finite(logs) and _due(epoch, self.every, self.last_epoch):
            self.last_path = self.render(self.directory / f"epoch_{epoch + 1:03d}.png")

    def render(self, path):
        images = _generate(self.model, self.z, self.labels)
        return files.save_image(sampling.image_grid(images, nrow=self.cols, padding=1, min_cell=MIN_CELL), path)


class LatentWalk(keras.callbacks.Callback):
    """"Walking on the manifold" (Radford et al. 2015): G along paths between fixed latent points.

    Each of `pairs` endpoint pairs gives two rows of `steps` images: linear interpolation, then
    spherical. Conditional models hold the label fixed along a pair (pair i shows class i).
    Overwritten every epoch at `path`.
    """

    def __init__(self, path, pairs=4, steps=10, seed=1):
        super().__init__()
        self.path = pathlib.Path(path)
        self.pairs, self.steps, self.seed = int(pairs), int(steps), int(seed)

    def on_train_begin(self, logs=None):
        ends = keras.ops.convert_to_numpy(self.model.sample_noise(2 * self.pairs, seed=self.seed))
        rows = []
        for i in range(self.pairs):
            for method in ("linear", "spherical"):
                rows.append(latent.interpolate(ends[2 * i], ends[2 * i + 1], self.steps, method))
        self.z = np.concatenate(rows)
        self.labels = None
        if self.model.conditional:
            classes = np.arange(self.pairs) % self.model.num_classes
            self.labels = np.repeat(classes, 2 * self.steps).astype("int32")

    def on_epoch_end(self, epoch, logs=None):
        if logs_are_finite(logs):
            images = _generate(self.model, self.z, self.labels)
            files.save_image(sampling.image_grid(images, nrow=self.steps, padding=1, min_cell=MIN_CELL), self.path)


class TrainingCurves(keras.callbacks.Callback):
    """d_loss, g_loss, D(x) and D(G(z)) per epoch, drawn to `path` every `every` epochs, after `last_epoch` and at the end.

    `history` (name -> list per epoch) carries the earlier epochs of a resumed run.
    """

    def __init__(self, path, history=None, every=1, last_epoch=None):
        super().__init__()
        self.path = pathlib.Path(path)
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.every = int(every)
        self.last_epoch = last_epoch
        self._drawn = None

    def on_epoch_end(self, epoch, logs=None):
        if not logs_are_finite(logs):
            return
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        if _due(epoch, self.every, self.last_epoch):
            self.draw()

    def on_train_end(self, logs=None):
        if self.history and self._drawn != len(next(iter(self.history.values()))):
            self.draw()

    def draw(self):
        self._drawn = len(next(iter(self.history.values())))
        return plots.plot_curves(self.history, self.path)


class ToyDistributionPlot(keras.callbacks.Callback):
    """Toy data figures per epoch, `directory/epoch_NNN.png`.

    1-D data (`gaussian1d`): the lecture example's figure, histograms of data and G(z) with D(x) drawn over them.
    2-D data (`ring8`, `grid25`): a scatter of G(z) over the modes, each with its 3-std circle.
    """

    def __init__(self, directory, data, modes=None, std=None, samples=2000, seed=0, every=1, name="", last_epoch=None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.last_epoch = last_epoch
        self.data = np.asarray(data)[:samples]
        self.modes, self.std = modes, std
        self.samples, self.seed, self.every, self.name = int(samples), int(seed), int(every), name
        self.last_path = None

    def on_epoch_end(self, epoch, logs=None):
        if not logs_are_finite(logs) or not _due(epoch, self.every, self.last_epoch):
            return
        z = keras.ops.convert_to_numpy(self.model.sample_noise(self.samples, seed=self.seed))
        fake = _generate(self.model, z)
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        title = f"{self.name} epoch {epoch + 1}"
        if fake.shape[-1] == 1:
            low = min(self.data.min(), fake.min()) - 0.5
            high = max(self.data.max(), fake.max()) + 0.5
            grid = np.linspace(low, high, 200, dtype="float32")[:, None]
            logits = keras.ops.convert_to_numpy(self.model.discriminator(grid, training=False))
            d_of_x = 1.0 / (1.0 + np.exp(-logits.ravel()))
            self.last_path = plots.plot_gaussian1d(self.data, fake, grid.ravel(), d_of_x, path, title)
        elif fake.shape[-1] == 2:
            modes = self.modes if self.modes is not None else np.zeros((0, 2))
            self.last_path = plots.plot_toy2d(modes, self.std or 0.0, fake, path, title)


class StopOnDivergence(keras.callbacks.Callback):
    """Stop training at the first batch whose loss or metric is NaN or Inf.

    Unlike `keras.callbacks.TerminateOnNaN` it records where it happened (`diverged_at`: epoch,
    batch, logs), so the run can say which checkpoint is the last good one.
    """

    def __init__(self):
        super().__init__()
        self.diverged_at = None

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged_at is None and not logs_are_finite(logs):
            self.diverged_at = (self._epoch, batch, {k: float(v) for k, v in (logs or {}).items()})
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is None and not logs_are_finite(logs):
            self.diverged_at = (epoch, None, {k: float(v) for k, v in (logs or {}).items()})
            self.model.stop_training = True


class RunCheckpoint(keras.callbacks.Callback):
    """After each good epoch: generator.keras, the GAN, then state.json (see `train.run_folder.commit_epoch`).

    Put it after the callbacks that draw the epoch's pictures: an epoch is committed only once
    everything it promises is on disk. Epochs flagged by `divergence` (a `StopOnDivergence`) are not saved.
    """

    def __init__(self, run_dir, history, divergence=None):
        super().__init__()
        self.run_dir, self.history, self.divergence = pathlib.Path(run_dir), history, divergence
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if (self.divergence is not None and self.divergence.diverged_at is not None) or not logs_are_finite(logs):
            return
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self.history.setdefault("seconds", []).append(round(time.perf_counter() - self._started, 3))
        run_folder.commit_epoch(self.run_dir, self.model, epoch + 1, self.history)


class TrainingProgress(keras.callbacks.Callback):
    """What `ganzoo train` shows while it trains: the epoch, the losses, D(x) and D(G(z)), and the time left.

    verbose=1: Keras's progress bar (`keras.utils.Progbar`, the time left in the epoch), redrawn after every batch
    under an "Epoch 3/25" line that says the time left in the run; verbose=2: one line per epoch when it ends,
    which a log file reads well (no carriage returns). Run `fit` with verbose=0 beside it. The metrics come in the
    order d_loss, g_loss, d_real, d_fake, then the model's others (Keras's own bar sorts them by name).

    Args:
        verbose: 1 (a bar) or 2 (a line per epoch); "auto" for `train.progress.bar_verbosity`'s choice.
    """

    FIRST = ("d_loss", "g_loss", "d_real", "d_fake")
    MEANINGS = (("d_real", "D(x)"), ("d_fake", "D(G(z))"))

    def __init__(self, verbose=progress.AUTO):
        super().__init__()
        self.verbose = progress.bar_verbosity(verbose)
        if not self.verbose:
            raise ValueError("TrainingProgress shows progress: verbose must be 1, 2 or 'auto'; leave it out for 0.")
        self.epoch_seconds = []
        self._bar = None

    def on_train_begin(self, logs=None):
        names = {metric.name for metric in self.model.metrics}
        meanings = [f"{name} = {meaning}" for name, meaning in self.MEANINGS if name in names]
        if meanings:  # the bar's names are history's and TensorBoard's; say once what they measure
            print(f"({', '.join(meanings)}: the discriminator's mean output, 0 to 1, on real and generated batches)",
                  flush=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._started, self._batches = time.perf_counter(), 0
        if self.verbose == 1:
            left = self.time_left(self.params["epochs"] - epoch)
            print(f"Epoch {epoch + 1}/{self.params['epochs']}" + (f" - {left} left in the run" if left else ""),
                  flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._batches = batch + 1
        if self.verbose == 1:
            self.bar(logs).update(self._batches, self.ordered(logs), finalize=False)

    def bar(self, logs):
        """This epoch's Keras progress bar. Every log is already a running mean (the `Mean` trackers), so all are
        "stateful" to the bar: shown as they are instead of averaged again (the keyword every Keras 3 has)."""
        if self._bar is None:
            names = [name for name, _ in self.ordered(logs)]
            self._bar = keras.utils.Progbar(self.params.get("steps"), verbose=1, stateful_metrics=names)
        return self._bar

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._started)
        if self.verbose == 1:
            self.bar(logs).update(self.params.get("steps") or self._batches, self.ordered(logs), finalize=True)
            self._bar = None
            return
        epochs = self.params["epochs"]
        left = self.time_left(epochs - epoch - 1)
        metrics = "".join(f" - {name}: {value:.4f}" for name, value in self.ordered(logs))
        seconds = self.epoch_seconds[-1]
        took = f"{seconds:.1f}s" if seconds < 60 else progress.duration(seconds)
        print(f"Epoch {epoch + 1}/{epochs} - {took}{metrics}"
              + (f" - {left} left" if left else ""), flush=True)

    def ordered(self, logs):
        """[(name, value)] of the scalar logs, `FIRST` first."""
        logs = {name: float(value) for name, value in (logs or {}).items() if np.ndim(value) == 0}
        names = [name for name in self.FIRST if name in logs] + [name for name in logs if name not in self.FIRST]
        return [(name, logs[name]) for name in names]

    def time_left(self, epochs):
        """The time `epochs` more epochs take at this run's pace ("" before an epoch has ended, or with none left).

        The first epoch also traces and compiles the train step: later epochs are the pace once there are any.
        """
        if not self.epoch_seconds or epochs <= 0:
            return ""
        timed = self.epoch_seconds[1:] or self.epoch_seconds
        return progress.duration(epochs * sum(timed) / len(timed))


def progress_callbacks(verbose=progress.AUTO):
    """[TrainingProgress] for a run that shows progress (`verbose` 1, 2 or "auto"), [] for verbose=0.

    Args:
        verbose: "auto" (a bar on a terminal, else a line per epoch), 0, 1 or 2, as `fit`'s.
    """
    verbosity = progress.bar_verbosity(verbose)
    return [TrainingProgress(verbosity)] if verbosity else []


def tensorboard_callbacks(log_dir):
    """[a callback writing epoch-level TensorBoard scalars (d_loss, g_loss, d_real, d_fake)], with no graph, which
    GANs clutter; [] where TensorFlow is not installed (a JAX or PyTorch machine), since Keras writes the event
    files with `tf.summary`: state.json and curves.png hold the same figures."""
    if importlib.util.find_spec("tensorflow") is None:
        return []
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False, update_freq="epoch")]


class TranslationGrid(keras.callbacks.Callback):
    """Every `every` epochs and after `last_epoch`, an image-to-image model on fixed test images as a PNG grid,
    one example per row: input | output | target for pairs; input | G_AB(a) | G_BA(G_AB(a)) (the cycle) and,
    where the task knows it, the right answer, for unpaired domains. `directory/epoch_NNN.png`.

    Args:
        directory: where the grids go.
        data: a `train.translation_data.TranslationData`; its first `examples` test images are drawn.
        examples: rows.
        every: epochs between grids.
        last_epoch: the run's last epoch, always drawn.
    """

    def __init__(self, directory, data, examples=8, every=1, last_epoch=None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.inputs = np.asarray(data.test_a[:examples], "float32")
        self.paired = bool(data.paired)
        known = data.test_b if data.paired else getattr(data, "answers", None)
        self.known = None if known is None else np.asarray(known[:examples], "float32")
        self.every, self.last_epoch = int(every), last_epoch
        self.last_path = None

    def on_epoch_end(self, epoch, logs=None):
        if logs_are_finite(logs) and _due(epoch, self.every, self.last_epoch):
            self.last_path = self.render(self.directory / f"epoch_{epoch + 1:03d}.png")

    def render(self, path):
        columns = [self.inputs, self.model.translate(self.inputs)]
        if not self.paired:
            columns.append(self.model.translate_back(columns[1]))
        if self.known is not None:
            columns.append(self.known)
        channels = max(column.shape[-1] for column in columns)
        columns = [np.repeat(c, channels, axis=-1) if c.shape[-1] != channels else c for c in columns]
        rows = np.stack(columns, axis=1).reshape(-1, *columns[0].shape[1:])  # example by example
        grid = sampling.image_grid(rows, nrow=len(columns), padding=1, min_cell=MIN_CELL)
        return files.save_image(grid, path)
