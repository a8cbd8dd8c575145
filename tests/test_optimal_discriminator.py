"""Goodfellow et al. 2014, Proposition 1: for a fixed G, the optimal D is p_data / (p_data + p_g)."""

import keras
import numpy as np

from zoo import GAN
from zoo.networks import mlp_discriminator


def test_discriminator_alone_converges_to_the_optimal_discriminator():
    # G(z) = z with z ~ N(0, 1) and data ~ N(1, 1): D*(x) = sigmoid(x - 1/2).
    z = keras.Input((1,), name="z")
    identity = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    generator = keras.Model(z, identity(z), name="generator")
    discriminator = mlp_discriminator((1,), units=(16,), activation="tanh")
    gan = GAN(generator, discriminator, prior="normal", seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.SGD(0.0))

    data = np.random.default_rng(0).normal(1.0, 1.0, (32768, 1)).astype("float32")
    gan.fit(data, batch_size=512, epochs=12, verbose=0)

    x = np.linspace(-1.0, 2.0, 61, dtype="float32")[:, None]
    d = keras.ops.convert_to_numpy(keras.ops.sigmoid(discriminator(x)))[:, 0]
    optimal = 1.0 / (1.0 + np.exp(-(x[:, 0] - 0.5)))
    assert np.abs(d - optimal).max() < 0.05, np.abs(d - optimal).max()
    np.testing.assert_array_equal(generator.get_weights()[0], [[1.0]])  # G stayed fixed
