"""MinibatchDiscrimination, PacGAN's Pack, Maxout and InfoGAN's CodeAndNoise: shapes, behaviour, values by hand,
serialisation."""

import keras
import numpy as np

import zoo


def test_output_width_is_input_width_plus_kernels():
    layer = zoo.MinibatchDiscrimination(num_kernels=7, kernel_dim=3)
    out = layer(np.zeros((5, 11), dtype="float32"))
    assert tuple(out.shape) == (5, 11 + 7)
    assert layer.compute_output_shape((None, 11)) == (None, 18)


def test_identical_rows_and_diverse_rows_give_different_features():
    layer = zoo.MinibatchDiscrimination(num_kernels=16, kernel_dim=4)
    identical = np.tile(np.random.default_rng(0).normal(size=(1, 32)), (8, 1)).astype("float32")
    diverse = np.random.default_rng(1).normal(size=(8, 32)).astype("float32") * 3
    collapsed_features = keras.ops.convert_to_numpy(layer(identical))[:, 32:]
    diverse_features = keras.ops.convert_to_numpy(layer(diverse))[:, 32:]
    # Identical rows: every L1 distance is 0, so each kernel sums exp(0) over the 7 other samples.
    np.testing.assert_allclose(collapsed_features, 7.0, rtol=1e-6)
    assert diverse_features.mean() < 3.0
    # The input features pass through unchanged.
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(diverse))[:, :32], diverse)


def test_a_single_sample_has_no_neighbours():
    layer = zoo.MinibatchDiscrimination(num_kernels=4, kernel_dim=2)
    out = keras.ops.convert_to_numpy(layer(np.ones((1, 3), dtype="float32")))
    np.testing.assert_allclose(out[:, 3:], 0.0, atol=1e-6)


def test_config_round_trip():
    layer = zoo.MinibatchDiscrimination(num_kernels=9, kernel_dim=2, name="mbd")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert (clone.num_kernels, clone.kernel_dim, clone.name) == (9, 2, "mbd")


def test_pack_joins_consecutive_rows():
    x = np.arange(24, dtype="float32").reshape(6, 4)
    packed = keras.ops.convert_to_numpy(zoo.Pack(3)(x))
    assert packed.shape == (2, 12)
    # Each packed row holds exactly the three consecutive samples it groups (the order inside is the layer's).
    for i in range(2):
        np.testing.assert_array_equal(np.sort(packed[i]), np.sort(x[3 * i : 3 * i + 3].reshape(-1)))
    assert zoo.Pack(3).compute_output_shape((None, 4)) == (None, 12)


def test_pack_stacks_images_along_channels():
    x = np.random.default_rng(0).normal(size=(4, 5, 5, 2)).astype("float32")
    packed = keras.ops.convert_to_numpy(zoo.Pack(2)(x))
    assert packed.shape == (2, 5, 5, 4)
    np.testing.assert_array_equal(np.sort(packed[1].reshape(-1)), np.sort(x[2:4].reshape(-1)))


def test_pack_config_round_trip():
    layer = zoo.Pack(4, name="pack")
    clone = zoo.Pack.from_config(layer.get_config())
    assert clone.pack == 4 and clone.name == "pack"


def test_maxout_takes_the_max_of_each_units_pieces_by_hand():
    layer = zoo.Maxout(2, 3, kernel_initializer="zeros")
    layer.build((None, 1))
    # Unit u's piece p is column u * 3 + p: unit 0 has pieces x, -x, 2; unit 1 has 3x, 0, -1.
    layer.kernel.assign(np.array([[1.0, -1.0, 0.0, 3.0, 0.0, 0.0]], "float32"))
    layer.bias.assign(np.array([0.0, 0.0, 2.0, 0.0, 0.0, -1.0], "float32"))
    x = np.array([[1.0], [-3.0], [5.0]], "float32")
    expected = [[max(1, -1, 2), max(3, 0, -1)], [max(-3, 3, 2), max(-9, 0, -1)], [max(5, -5, 2), max(15, 0, -1)]]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), np.array(expected, "float32"))
    restored = zoo.Maxout.from_config(layer.get_config())
    assert (restored.units, restored.pieces) == (2, 3)


def test_code_and_noise_replaces_the_first_entries_by_their_one_hot_argmax():
    z = np.array([[0.1, 0.9, -0.5, 0.3, 0.7], [0.8, -0.2, 0.0, -0.4, 0.2]], "float32")
    out = keras.ops.convert_to_numpy(zoo.CodeAndNoise(3)(z))
    np.testing.assert_array_equal(out, np.array([[0, 1, 0, 0.3, 0.7], [1, 0, 0, -0.4, 0.2]], "float32"))
