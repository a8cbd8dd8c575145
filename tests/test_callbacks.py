"""Callbacks: fixed-noise sample grids ordered by class, latent walks, curves, toy figures, TensorBoard, divergence."""

import numpy as np
import pytest
from PIL import Image

import keras
import zoo
from export import sampling
from train import callbacks, datasets, files


def _tiny_gan(conditional=True, data_shape=(8, 8, 1)):
    gan = zoo.create(
        "dcgan", data_shape=data_shape, filters=8, latent_dim=8, num_classes=10 if conditional else None, seed=0
    )
    gan.compile()
    return gan


def _fit(gan, callback_list, labels=True, epochs=1):
    arrays = datasets.load_arrays("digits", "test")
    data = datasets.epoch_dataset(arrays, 60, 0, 0, epochs, labels=labels)
    gan.fit(data, epochs=epochs, steps_per_epoch=2, callbacks=callback_list, verbose=0)


def test_sample_grid_uses_fixed_noise_and_rows_ordered_by_class(tmp_path):
    gan = _tiny_gan()
    grid = callbacks.SampleGrid(tmp_path / "samples", rows=10, cols=4, seed=5)
    walk = callbacks.LatentWalk(tmp_path / "samples" / "walk.png", pairs=3, steps=5, seed=6)
    _fit(gan, [grid, walk], epochs=2)
    first, second = tmp_path / "samples" / "epoch_001.png", tmp_path / "samples" / "epoch_002.png"
    assert first.exists() and second.exists()
    assert not np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(second)))  # G trained on
    picture = np.asarray(Image.open(second))
    scale = callbacks.MIN_CELL // 8
    assert picture.shape == ((10 * 9 + 1) * scale, (4 * 9 + 1) * scale)
    # Row r is class r: redraw row 3 from the same noise with label 3 and compare pixel for pixel.
    z = keras.ops.convert_to_numpy(gan.sample_noise(40, seed=5))[12:16]
    row = gan.generator([z, np.full(4, 3, dtype="int32")], training=False)
    expected = sampling.image_grid(keras.ops.convert_to_numpy(row), nrow=4, padding=1, scale=1)[1:-1, :, 0]
    np.testing.assert_array_equal(picture[::scale, ::scale][1 + 3 * 9 : 1 + 3 * 9 + 8], expected)
    np.testing.assert_array_equal(callbacks.grid_labels(10, 3, 2), [0, 0, 1, 1, 2, 2])
    # Re-rendering is deterministic: same noise, same weights, same bytes.
    again = grid.render(tmp_path / "again.png")
    assert again.read_bytes() == second.read_bytes()
    walk_picture = np.asarray(Image.open(tmp_path / "samples" / "walk.png"))
    assert walk_picture.shape == ((2 * 3 * 9 + 1) * scale, (5 * 9 + 1) * scale)  # a linear and a spherical row per pair


def test_curves_toy_figures_and_tensorboard_scalars(tmp_path):
    import tensorflow as tf

    curves = callbacks.TrainingCurves(tmp_path / "curves.png", history={"d_loss": [1.0], "g_loss": [2.0]})
    (board,) = callbacks.tensorboard_callbacks(tmp_path / "logs")
    gan = zoo.create("vanilla", data_shape=(1,), latent_dim=1, g_units=(5, 5), d_units=(10, 10), activation="tanh")
    gan.compile()
    toy = datasets.load_arrays("gaussian1d")
    one_d = callbacks.ToyDistributionPlot(tmp_path / "g1", toy.x, *datasets.toy_modes("gaussian1d"), samples=500)
    data = datasets.epoch_dataset(toy, 100, 0, 0, 1)
    gan.fit(data, epochs=1, steps_per_epoch=3, callbacks=[curves, board, one_d], verbose=0)
    assert curves.history["d_loss"][0] == 1.0 and len(curves.history["d_loss"]) == 2
    assert Image.open(tmp_path / "curves.png").size[0] > 500
    assert (tmp_path / "g1" / "epoch_001.png").exists()
    tags = set()
    for event_file in (tmp_path / "logs" / "train").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {value.tag for value in event.summary.value}
    assert {"epoch_d_loss", "epoch_g_loss", "epoch_d_real", "epoch_d_fake"} <= tags

    ring = datasets.load_arrays("ring8")
    gan2 = zoo.create("vanilla", data_shape=(2,), latent_dim=2, g_units=(16,), d_units=(16,))
    gan2.compile()
    two_d = callbacks.ToyDistributionPlot(tmp_path / "r8", ring.x, *datasets.toy_modes("ring8"), samples=300)
    gan2.fit(datasets.epoch_dataset(ring, 100, 0, 0, 1), epochs=1, steps_per_epoch=2, callbacks=[two_d], verbose=0)
    assert (tmp_path / "r8" / "epoch_001.png").exists()


def test_nan_loss_stops_training_and_skips_pictures(tmp_path):
    gan = _tiny_gan(conditional=False)

    class Poison(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 1:
                weights = self.model.discriminator.get_weights()
                weights[0] = weights[0] * np.nan
                self.model.discriminator.set_weights(weights)

    stop = callbacks.StopOnDivergence()
    grid = callbacks.SampleGrid(tmp_path / "samples", seed=0)
    curves = callbacks.TrainingCurves(tmp_path / "curves.png")
    arrays = datasets.load_arrays("digits", "test")
    data = datasets.epoch_dataset(arrays, 30, 0, 0, 3)
    history = gan.fit(data, epochs=3, steps_per_epoch=4, callbacks=[Poison(), stop, grid, curves], verbose=0)
    assert stop.diverged_at is not None
    epoch, batch, logs = stop.diverged_at
    assert (epoch, batch) == (0, 1) and not np.isfinite(logs["d_loss"])
    assert len(history.epoch) == 1  # stopped in the first epoch
    assert not (tmp_path / "samples" / "epoch_001.png").exists() and not (tmp_path / "curves.png").exists()
    assert not callbacks.logs_are_finite({"d_loss": float("inf")}) and callbacks.logs_are_finite({"d_loss": 1.0})


def test_atomic_target_leaves_no_partial_file(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with files.atomic_target(target) as temporary:
            assert temporary.suffix == ".keras" and temporary.parent == tmp_path
            temporary.write_text("half-writ")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
