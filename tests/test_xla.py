"""jit_compile=True: the train step compiles with XLA, trains, and matches the plain graph step."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import zoo

MLP = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "data_shape": (4, 4, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16,), "seed": 1}


def images(n=32):
    return np.random.default_rng(0).uniform(-1, 1, (n, 4, 4, 1)).astype("float32")


def trained(jit_compile, update="alternating", fixed_noise=True, preset="conditional"):
    keras.utils.set_random_seed(0)
    gan = zoo.create(preset, **({"num_classes": 3} if preset == "conditional" else {}), **MLP)
    if update != "alternating":
        weights = gan.get_weights()
        gan = zoo.GAN.from_config({**gan.get_config(), "update": update})
        gan.set_weights(weights)
    if fixed_noise:
        # XLA has its own random-number kernels, so the same seed gives other noise under XLA;
        # a deterministic stand-in makes the two steps comparable.
        def sample_noise(n, seed=None):
            return ops.sin(0.7 * ops.reshape(ops.arange(n * gan.latent_dim, dtype="float32"), (n, gan.latent_dim)))

        gan.sample_noise = sample_noise
    gan.compile(jit_compile=jit_compile)
    inputs = (images(), np.arange(32) % 3) if gan.conditional else (images(),)
    history = gan.fit(*inputs, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    return gan, history


@pytest.mark.parametrize("update", ["fused"])
def test_xla_step_matches_the_graph_step(update):
    # "fused" runs every part of the step (both losses, both updates) in one compiled graph.
    plain, plain_history = trained(False, update)
    xla, xla_history = trained(True, update)
    assert xla.jit_compile and not plain.jit_compile
    for a, b in zip(plain.get_weights(), xla.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for name, values in plain_history.items():
        assert xla_history[name][-1] == pytest.approx(values[-1], abs=1e-5)


def test_xla_really_compiles_the_step():
    # With the model's own noise the two runs differ, because XLA's random kernels, not TensorFlow's, ran.
    plain, _ = trained(False, fixed_noise=False, preset="vanilla")
    xla, history = trained(True, fixed_noise=False, preset="vanilla")
    assert all(np.isfinite(v).all() for v in history.values())
    assert max(np.abs(a - b).max() for a, b in zip(plain.generator.get_weights(), xla.generator.get_weights())) > 1e-6


def test_out_of_range_labels_are_still_a_value_error_under_xla():
    gan = zoo.create("conditional_dcgan_mbd", num_classes=3, **MLP)
    gan.compile(jit_compile=True)  # XLA drops asserts in the step; fit checks labels in the input pipeline
    dataset = tf.data.Dataset.from_tensor_slices((images(8), np.array([0, 1, 2, 3, 0, 1, 2, 0]))).batch(8)
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        gan.fit(dataset, verbose=0)
