"""MinibatchDiscrimination, PacGAN's Pack, Maxout, InfoGAN's CodeAndNoise and the Conv2D and Conv2DTranspose that
train fast on JAX: shapes, behaviour, values by hand, serialisation."""

import keras
import numpy as np
import pytest

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


TRANSPOSED_CONVOLUTIONS = [  # (input shape, layer arguments): the zoo's generators' kinds and the awkward cases
    ((3, 7, 7, 8), dict(filters=4, kernel_size=5, strides=2, padding="same", use_bias=False)),
    ((3, 7, 7, 8), dict(filters=4, kernel_size=4, strides=2, padding="same", activation="sigmoid")),
    ((3, 4, 4, 8), dict(filters=4, kernel_size=5, strides=2, padding="same")),  # kernel larger than the input map
    ((3, 3, 3, 8), dict(filters=4, kernel_size=5, padding="valid", activation="relu")),  # AC-GAN's 3x3 -> 7x7
    ((3, 2, 30, 8), dict(filters=4, kernel_size=5, strides=2, padding="same")),  # thin but long: Keras's form
    ((3, 3, 2, 8), dict(filters=4, kernel_size=(4, 3), strides=(2, 1), padding="valid", activation="tanh")),
    ((3, 7, 7, 8), dict(filters=4, kernel_size=3, strides=2, padding="valid", output_padding=1)),
    ((3, 1, 1, 8), dict(filters=4, kernel_size=7, padding="valid", activation="relu")),
    ((3, 8, 7, 7), dict(filters=4, kernel_size=5, strides=2, padding="same", data_format="channels_first")),
]


STRIDED_CONVOLUTIONS = [  # (input shape, layer arguments): the zoo's critics' kinds and the awkward cases
    ((3, 7, 7, 8), dict(filters=4, kernel_size=5, strides=2, padding="same")),  # kernel larger than the output (4x4)
    ((3, 8, 8, 8), dict(filters=4, kernel_size=5, strides=2, padding="same", use_bias=False)),
    ((3, 14, 14, 8), dict(filters=4, kernel_size=4, strides=2, padding="same", activation="relu")),
    ((3, 6, 5, 8), dict(filters=4, kernel_size=(4, 5), strides=(2, 3), padding="same")),
    ((3, 4, 4, 8), dict(filters=4, kernel_size=4, strides=2, padding="valid")),  # pix2pix's 4x4 -> 1x1 bottleneck
    ((3, 4, 60, 8), dict(filters=4, kernel_size=5, strides=2, padding="same")),  # a 2x30 output: Keras's form
    ((3, 7, 7, 8), dict(filters=4, kernel_size=3, strides=1, padding="same")),
    ((3, 8, 7, 7), dict(filters=4, kernel_size=5, strides=2, padding="same", data_format="channels_first")),
]


def _keras_and_zoo(zoo_layer, keras_layer, input_shape, arguments):
    ours = zoo_layer(**arguments, bias_initializer="random_normal")
    ours.build(input_shape)
    theirs = keras_layer(**arguments)
    theirs.build(input_shape)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize(
    "zoo_layer, keras_layer, input_shape, arguments",
    [(zoo.Conv2DTranspose, keras.layers.Conv2DTranspose, *case) for case in TRANSPOSED_CONVOLUTIONS]
    + [(zoo.Conv2D, keras.layers.Conv2D, *case) for case in STRIDED_CONVOLUTIONS],
)
def test_convolutions_are_keras_layers_on_every_backend(zoo_layer, keras_layer, input_shape, arguments):
    ours, theirs = _keras_and_zoo(zoo_layer, keras_layer, input_shape, arguments)
    x = np.random.default_rng(0).normal(size=input_shape).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), keras.ops.convert_to_numpy(theirs(x)), atol=1e-5)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ours))
    assert type(clone) is zoo_layer and clone.get_config() == ours.get_config()


def _conv_dilations(jaxpr, found):
    """(lhs_dilation, rhs_dilation) of every convolution in a jaxpr, its sub-jaxprs (custom_vjp, pjit) included."""
    for equation in jaxpr.eqns:
        if equation.primitive.name == "conv_general_dilated":
            found.append((tuple(equation.params["lhs_dilation"]), tuple(equation.params["rhs_dilation"])))
        for value in equation.params.values():
            inner = getattr(value, "jaxpr", None)
            if inner is not None:
                _conv_dilations(getattr(inner, "jaxpr", inner), found)
    return found


def _jax_gradients(layer, x, order):
    """The gradients in (weights, x) of sum(sin(layer(x))) (order 1), or of the squared norm of its gradient in x,
    as a gradient penalty takes it (order 2); and the jaxpr of that computation."""
    import jax
    import jax.numpy as jnp

    def loss(weights, x):
        return jnp.sum(jnp.sin(layer.stateless_call(weights, [], x)[0]))

    def penalty(weights, x):
        return jnp.sum(jax.grad(loss, 1)(weights, x) ** 2)

    gradients = jax.grad(loss if order == 1 else penalty, (0, 1))
    weights = [v.value for v in layer.trainable_variables]
    return jax.jit(gradients)(weights, x), jax.make_jaxpr(gradients)(weights, x).jaxpr


def _same_gradients_on_jax(zoo_layer, keras_layer, input_shape, arguments):
    """Asserts that the zoo's layer and Keras's have the same gradients of both orders on JAX, and returns how many
    lhs-dilated convolutions the first-order computation of each has (ours, theirs)."""
    import jax

    ours, theirs = _keras_and_zoo(zoo_layer, keras_layer, input_shape, arguments)
    x = np.random.default_rng(0).normal(size=input_shape).astype("float32")
    (ours_first, ours_jaxpr), (theirs_first, theirs_jaxpr) = (_jax_gradients(layer, x, 1) for layer in (ours, theirs))
    ours_second, theirs_second = (_jax_gradients(layer, x, 2)[0] for layer in (ours, theirs))
    for a, b in zip(jax.tree_util.tree_leaves((ours_first, ours_second)),
                    jax.tree_util.tree_leaves((theirs_first, theirs_second)), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5 * float(np.abs(b).max()))
    return _lhs_dilated(ours_jaxpr), _lhs_dilated(theirs_jaxpr)


def _lhs_dilated(jaxpr):
    """How many of a jaxpr's convolutions are lhs-dilated (transposed convolutions: XLA:CPU's slow ones)."""
    return sum(1 for lhs, _ in _conv_dilations(jaxpr, []) if lhs != (1, 1))


def _kernel_larger_than_small_map(kernel_size, side_shape):
    """A kernel larger than the map in either axis, on a map of no more positions than the kernel has taps: where the
    zoo writes a transposed convolution out tap by tap."""
    rows, cols = (kernel_size,) * 2 if isinstance(kernel_size, int) else kernel_size
    larger = rows > side_shape[0] or cols > side_shape[1]
    return larger and side_shape[0] * side_shape[1] <= rows * cols


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the fast gradients are JAX's (make test's JAX list)")
@pytest.mark.parametrize("input_shape, arguments", TRANSPOSED_CONVOLUTIONS)
def test_conv2d_transpose_gradients_on_jax_are_keras_layers_without_its_slow_convolution(input_shape, arguments):
    ours_dilated, theirs_dilated = _same_gradients_on_jax(
        zoo.Conv2DTranspose, keras.layers.Conv2DTranspose, input_shape, arguments
    )
    # Keras's kernel gradient is a second lhs-dilated convolution (XLA:CPU's naive loop); ours has only the forward
    # one, and none where the kernel is larger than the input map (channels_last): written out tap by tap.
    strided = 1 if arguments.get("strides", 1) != 1 else 0
    by_taps = "data_format" not in arguments and "output_padding" not in arguments and _kernel_larger_than_small_map(
        arguments["kernel_size"], input_shape[1:3]
    )
    assert theirs_dilated == 2 * strided
    assert ours_dilated == (0 if by_taps else strided)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the fast gradients are JAX's (make test's JAX list)")
@pytest.mark.parametrize("input_shape, arguments", STRIDED_CONVOLUTIONS)
def test_conv2d_gradients_on_jax_are_keras_layers_without_its_slow_convolution(input_shape, arguments):
    """A strided convolution's input gradient is a transposed one; where the kernel is larger than the output map
    (a critic's 7x7 -> 4x4 under 5x5), the zoo writes it out tap by tap. A gradient penalty's second
    derivatives go through it: both orders equal Keras's."""
    ours_dilated, theirs_dilated = _same_gradients_on_jax(zoo.Conv2D, keras.layers.Conv2D, input_shape, arguments)
    strided = 1 if arguments.get("strides", 1) != 1 else 0
    output_side = keras.layers.Conv2D(**arguments).compute_output_shape(input_shape)[1:3]
    by_taps = strided and "data_format" not in arguments and _kernel_larger_than_small_map(
        arguments["kernel_size"], output_side
    )
    assert theirs_dilated == strided
    assert ours_dilated == (0 if by_taps else strided)


def test_weight_norm_dense_starts_each_unit_at_mean_0_std_1_on_the_data():
    """improved-gan's nn.DenseLayer: W = scale * theta / ||theta||, and its init pass sets scale and bias from a
    batch (their 500 training images) so that each unit's pre-activation is standardised on it."""
    x = np.random.default_rng(0).normal(2.0, 3.0, (64, 6)).astype("float32")
    layer = zoo.WeightNormDense(4, train_scale=False)
    layer(x)
    np.testing.assert_allclose(np.linalg.norm(keras.ops.convert_to_numpy(layer.kernel), axis=0), 1.0, rtol=1e-5)
    assert not layer.scale.trainable and float(keras.ops.convert_to_numpy(layer.initialized)) == 0.0
    layer.initialize(x)
    a = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(a.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(a.std(axis=0), 1.0, rtol=1e-4)
    assert float(keras.ops.convert_to_numpy(layer.initialized)) == 1.0
    assert zoo.WeightNormDense.from_config(layer.get_config()).get_config() == layer.get_config()


def test_weight_normalised_minibatch_features_start_centred_at_a_unit_nearest_distance():
    """improved-gan's MinibatchLayer init: each kernel's scale so that half the mean nearest L1 distance is 1, then
    its bias (from -1) so that the features average 0 over the batch."""
    x = np.random.default_rng(1).normal(size=(40, 8)).astype("float32")
    layer = zoo.MinibatchDiscrimination(num_kernels=3, kernel_dim=2, weight_norm=True)
    before = keras.ops.convert_to_numpy(layer(x))[:, 8:]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.bias), -1.0)
    layer.initialize(x)
    m = keras.ops.convert_to_numpy(layer.projection(x))
    l1 = np.abs(m[:, None] - m[None]).sum(axis=-1) + np.eye(len(x))[:, :, None] * 1e9
    np.testing.assert_allclose(0.5 * l1.min(axis=1).mean(axis=0), 1.0, rtol=1e-4)
    after = keras.ops.convert_to_numpy(layer(x))[:, 8:]
    np.testing.assert_allclose(after.mean(axis=0), 0.0, atol=1e-4)
    assert np.abs(after - before).max() > 0.1
    assert zoo.MinibatchDiscrimination.from_config(layer.get_config()).weight_norm
