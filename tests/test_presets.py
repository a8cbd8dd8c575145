"""Every preset is its paper's model: the paper's layers (parameter counts worked from the published
architecture), a few training steps, a .keras round trip, ONNX export with parity and `ganzoo train` on the digits.
Long training against the papers' numbers is benchmarks/papers.py."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

SMALL_MLP = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "latent_dim": 16, "g_units": (32, 32), "d_units": (32, 32)}
CASES = {
    "vanilla-mlp": ("vanilla", {"data_shape": (8, 8, 1), **SMALL_MLP}),
    "vanilla-maxout": ("vanilla", {"data_shape": (8, 8, 1), "g_units": (16, 16), "d_units": (8, 8), "latent_dim": 8}),
    "dcgan": ("dcgan", {"data_shape": (8, 8, 1), "latent_dim": 16, "filters": 8}),
    "conditional-maxout": ("conditional", {"data_shape": (8, 8, 1), "num_classes": 3, "g_units": (16,),
                                           "g_branch_units": (8, 8), "d_units": (8,), "d_pieces": (2,)}),
    "conditional-mlp": ("conditional", {"data_shape": (8, 8, 1), "num_classes": 3, **SMALL_MLP}),
    "conditional-dcgan": ("conditional_dcgan_mbd", {"data_shape": (8, 8, 1), "num_classes": 3, "filters": 8}),
    "minibatch": ("minibatch", {"data_shape": (8, 8, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16, 8),
                                "minibatch_kernels": 8}),
    "minibatch-mlp": ("minibatch", {"data_shape": (2,), "minibatch_kernels": 8, **SMALL_MLP}),
    "minibatch-feature-matching": ("minibatch", {"data_shape": (8, 8, 1), "latent_dim": 8, "g_units": (16,),
                                                 "d_units": (16,), "minibatch_kernels": 8, "feature_matching": True}),
    "acgan": ("acgan", {"data_shape": (20, 20, 1), "num_classes": 3, "latent_dim": 8}),
    "infogan": ("infogan", {"data_shape": (8, 8, 1), "latent_dim": 16}),
    # 2 critic steps, not the papers' 5 (test_wgan_clips_every_critic_weight_before_each_update and `ganzoo train`
    # run those): each is traced and compiled again, which was most of these cases' time.
    "wgan": ("wgan", {"data_shape": (8, 8, 1), "latent_dim": 8, "filters": 4, "d_steps": 2}),
    "wgan_gp": ("wgan_gp", {"data_shape": (8, 8, 1), "latent_dim": 8, "filters": 4, "d_steps": 2}),
    "lsgan": ("lsgan", {"data_shape": (8, 8, 1), "latent_dim": 16}),
    "lsgan-mlp": ("lsgan", {"data_shape": (2,), "latent_dim": 4, "g_units": (8,), "d_units": (8,)}),
    "dcgan_mbd_code_ema": ("dcgan_mbd_code_ema", {"data_shape": (8, 8, 1), "latent_dim": 16, "filters": 8}),
    # Options against collapse: LeakyReLU + dropout in D (Goodfellow et al. trained D with dropout), PacGAN packing.
    "vanilla-leaky-dropout": ("vanilla", {"data_shape": (8, 8, 1), **SMALL_MLP, "activation": "leaky_relu", "dropout": 0.3}),
    "vanilla-pack4": ("vanilla", {"data_shape": (2,), "pack": 4, **SMALL_MLP}),
    "conditional-dcgan-minibatch": (
        "conditional_dcgan_mbd",
        {"backbone": "dcgan", "data_shape": (8, 8, 1), "num_classes": 3, "filters": 8, "minibatch_kernels": 8},
    ),
}


def dataset_for(gan, n=32, batch=8):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, *gan.data_shape)).astype("float32")
    if gan.conditional:
        return tf.data.Dataset.from_tensor_slices((x, rng.integers(0, gan.num_classes, n))).batch(batch)
    return tf.data.Dataset.from_tensor_slices(x).batch(batch)


def noise_inputs(gan, n=4):
    z = gan.sample_noise(n, seed=5)
    return z if not gan.conditional else [z, keras.ops.arange(n, dtype="int32") % gan.num_classes]


def test_available_lists_every_paper_and_the_tuned_combinations():
    assert zoo.available() == [
        "acgan", "conditional", "conditional_dcgan_mbd", "dcgan", "dcgan_mbd_code_ema", "infogan", "lsgan",
        "minibatch", "vanilla", "wgan", "wgan_gp",
    ]
    for name in zoo.available():
        info = zoo.describe(name)
        assert info["paper"] and info["summary"] and info["builds"] and info["options"]["backbone"] in zoo.presets.BACKBONES


@pytest.mark.parametrize("case", sorted(CASES))
def test_preset_trains_and_round_trips(case, tmp_path):
    name, options = CASES[case]
    gan = zoo.create(name, **options)
    # Eager on TensorFlow: this test is about the files and the state they carry, and tracing the step twice was
    # most of its time there; every preset's compiled step runs in test_ganzoo_train_runs_every_preset_on_the_digits
    # (and here on JAX, which always compiles).
    gan.compile(run_eagerly=keras.backend.backend() == "tensorflow")
    history = gan.fit(dataset_for(gan), epochs=1, verbose=0).history
    assert all(np.isfinite(values[-1]) for values in history.values()), history
    assert gan.preset == name

    path = tmp_path / "gan.keras"
    gan.save(path)
    restored = keras.models.load_model(path)  # safe mode: no lambdas, everything registered
    assert isinstance(restored, zoo.GAN)
    assert (restored.latent_dim, restored.num_classes, restored.prior) == (gan.latent_dim, gan.num_classes, gan.prior)
    inputs = noise_inputs(gan)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(gan.generator(inputs, training=False)),
        keras.ops.convert_to_numpy(restored.generator(inputs, training=False)),
    )
    assert int(restored.d_optimizer.iterations) == int(gan.d_optimizer.iterations) == 4 * gan.d_steps
    assert int(restored.g_optimizer.iterations) == 4
    for a, b in zip(gan.g_optimizer.variables, restored.g_optimizer.variables):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    restored.run_eagerly = gan.run_eagerly
    restored.fit(dataset_for(restored), epochs=1, verbose=0)
    assert int(restored.g_optimizer.iterations) == 8


def test_vanilla_mlp_is_the_lecture_mnist_example_with_the_papers_dropout_in_d():
    gan = zoo.create("vanilla", backbone="mlp")
    dense = lambda model: [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense(gan.generator)] == [256, 512, 1024, 784]
    assert [layer.activation.__name__ for layer in dense(gan.generator)] == ["leaky_relu"] * 3 + ["tanh"]
    assert [layer.units for layer in dense(gan.discriminator)] == [1024, 512, 256, 1]
    assert [layer.rate for layer in gan.discriminator.layers if isinstance(layer, keras.layers.Dropout)] == [0.3] * 3
    assert gan.latent_dim == 100 and gan.prior == "uniform"
    literal = zoo.create("vanilla", backbone="mlp", activation="relu", dropout=0.0)  # the example2-mnist-mlp recipe's networks
    assert [layer.activation.__name__ for layer in dense(literal.generator)] == ["relu", "relu", "relu", "tanh"]
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in literal.discriminator.layers)


def test_example2_second_recipe_changes_only_ds_dropout_and_the_activation():
    from train import recipes

    literal, fixed = recipes.get_recipe("example2-mnist-mlp"), recipes.get_recipe("example2-mnist-mlp-dropout")
    assert {k: v for k, v in literal.items() if k not in ("options", "description")} == {
        k: v for k, v in fixed.items() if k not in ("options", "description")}
    assert {k for k in {*literal["options"], *fixed["options"]} if literal["options"].get(k) != fixed["options"].get(k)} == {
        "activation", "dropout"}
    defaults = zoo.presets.preset_defaults("vanilla", "mlp")  # the fix is the vanilla preset's own MLP
    assert (fixed["options"]["activation"], fixed["options"]["dropout"]) == (defaults["activation"], defaults["dropout"])


def test_vanilla_builds_the_lecture_one_dimensional_example():
    gan = zoo.create(
        "vanilla", data_shape=(1,), latent_dim=1, g_units=(5, 5), d_units=(10, 10), activation="tanh", dropout=0.0
    )
    widths = lambda model: [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert widths(gan.generator) == [5, 5, 1] and widths(gan.discriminator) == [10, 10, 1]
    assert gan.data_shape == (1,) and gan.prior == "uniform"
    assert gan.generator.layers[-2].activation.__name__ == "linear"  # N(1, 1) data is not in [-1, 1]


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3), (64, 64, 3)])
def test_dcgan_builds_each_supported_image_size(shape):
    gan = zoo.create("dcgan", data_shape=shape, filters=8, latent_dim=8)
    assert gan.data_shape == shape
    out = gan.generator(gan.sample_noise(2, seed=0), training=False)
    assert tuple(out.shape) == (2, *shape)
    assert tuple(gan.discriminator(out).shape) == (2, 1)


def test_dcgan_architecture_follows_radford_et_al():
    gan = zoo.create("dcgan", data_shape=(28, 28, 1))
    assert (gan.latent_code, gan.ema_decay, gan.default_optimizer) == (None, None, None)  # nothing the paper did not have
    g_types = {type(layer).__name__ for layer in gan.generator.layers}
    d_layers = gan.discriminator.layers
    assert "Conv2DTranspose" in g_types and "BatchNormalization" in g_types
    assert not any("Pool" in type(layer).__name__ for layer in gan.generator.layers + d_layers)
    assert not any(isinstance(layer, zoo.MinibatchDiscrimination) for layer in d_layers)
    assert gan.generator.layers[-1].activation.__name__ == "tanh"
    convs = [i for i, layer in enumerate(d_layers) if isinstance(layer, keras.layers.Conv2D)]
    assert all(d_layers[i].strides == (2, 2) for i in convs)
    # No BatchNorm right after the first convolution, BatchNorm after the others.
    assert not isinstance(d_layers[convs[0] + 1], keras.layers.BatchNormalization)
    assert all(isinstance(d_layers[i + 1], keras.layers.BatchNormalization) for i in convs[1:])
    assert sum(isinstance(layer, keras.layers.LeakyReLU) for layer in d_layers) == len(convs)
    assert all(layer.negative_slope == 0.2 for layer in d_layers if isinstance(layer, keras.layers.LeakyReLU))
    # The only dense layer in D is the output.
    assert [layer.units for layer in d_layers if isinstance(layer, keras.layers.Dense)] == [1]
    assert all(layer.kernel_initializer.stddev == 0.02 for layer in gan.generator.layers + d_layers
               if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)))
    optimizer = zoo.optimizers.make(gan.default_optimizer, "g")
    assert (float(optimizer.learning_rate), optimizer.beta_1) == (pytest.approx(2e-4), 0.5)
    # dcgan_code's BatchNorm (epsilon 1e-8) with gains from N(1, 0.02); the tuned presets keep Keras's.
    norms = [layer for layer in gan.generator.layers + d_layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert {layer.epsilon for layer in norms} == {1e-8} and 0 < float(np.std(norms[0].gamma.numpy())) < 0.05
    tuned = zoo.create("dcgan_mbd_code_ema", data_shape=(28, 28, 1)).generator.layers
    assert {layer.epsilon for layer in tuned if isinstance(layer, keras.layers.BatchNormalization)} == {1e-3}


def test_wgan_presets_are_gulrajani_et_als_code():
    gan = zoo.create("wgan")
    norms = [layer for net in (gan.generator, gan.discriminator) for layer in net.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 3 + 2 and {layer.epsilon for layer in norms} == {1e-5}  # tflib's, not Keras's 1e-3
    # tflib's he_init: uniform, std sqrt(4 / (fan_in + fan_out)), the strided side's fan divided by stride^2.
    kernels = {layer.name: layer.kernel.numpy() for net in (gan.generator, gan.discriminator) for layer in net.layers
               if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))}
    critic = [k for k in kernels.values() if k.shape == (5, 5, 64, 128)][0]  # Conv2D: (k, k, in, out)
    expected = math.sqrt(4 / (64 * 25 + 128 * 25 / 4))
    assert float(critic.std()) == pytest.approx(expected, rel=0.02) and np.abs(critic).max() <= math.sqrt(3) * expected
    upsampling = [k for k in kernels.values() if k.shape == (5, 5, 128, 256)][0]  # Conv2DTranspose: (k, k, out, in)
    assert float(upsampling.std()) == pytest.approx(math.sqrt(4 / (256 * 25 / 4 + 128 * 25)), rel=0.02)
    assert zoo.create("wgan_gp").default_optimizer["epsilon"] == 1e-8


def _maps(model, layer_type):
    return [tuple(layer.output.shape[1:]) for layer in model.layers if isinstance(layer, layer_type)]


def test_dcgan_at_64_pixels_has_the_papers_widths():
    # Radford et al., Figure 1: 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64x3; D mirrors it.
    gan = zoo.create("dcgan", data_shape=(64, 64, 3))
    assert _maps(gan.generator, keras.layers.Reshape) == [(4, 4, 1024)]
    assert _maps(gan.generator, keras.layers.Conv2DTranspose) == [(8, 8, 512), (16, 16, 256), (32, 32, 128), (64, 64, 3)]
    assert _maps(gan.discriminator, keras.layers.Conv2D) == [(32, 32, 128), (16, 16, 256), (8, 8, 512), (4, 4, 1024)]


def dense(inputs, outputs, bias=True):
    return inputs * outputs + (outputs if bias else 0)


def conv(kernel, inputs, outputs, bias=True):
    return kernel * kernel * inputs * outputs + (outputs if bias else 0)


def batchnorm(channels, scale=True):
    return channels * (4 if scale else 3)  # gamma, beta, moving mean and variance


# Parameter counts of G and D at 28x28x1, worked layer by layer from each paper's (or its reference code's)
# MNIST networks, with the options each preset builds by default.
PUBLISHED = {
    # Goodfellow et al.: G 100 -> 1200 -> 1200 -> 784; D maxout 784 -> 240x5 -> 240x5 -> 1.
    "vanilla": (dense(100, 1200) + dense(1200, 1200) + dense(1200, 784),
                dense(784, 240 * 5) + dense(240, 240 * 5) + dense(240, 1)),
    # Mirza & Osindero: G z -> 200, y -> 1000, [1200] -> 1200 -> 784; D x -> 240x5, y -> 50x5, [290] -> 240x4 -> 1.
    "conditional": (dense(100, 200) + dense(10, 1000) + dense(1200, 1200) + dense(1200, 784),
                    dense(784, 240 * 5) + dense(10, 50 * 5) + dense(290, 240 * 4) + dense(240, 1)),
    # Radford et al. at 28x28: z -> 7x7x256 -> 14x14x128 -> 28x28x1 (5x5); D 128 -> 256 -> 1.
    "dcgan": (dense(100, 7 * 7 * 256, bias=False) + batchnorm(256) + conv(5, 256, 128, bias=False) + batchnorm(128)
              + conv(5, 128, 1),
              conv(5, 1, 128) + conv(5, 128, 256) + batchnorm(256) + dense(7 * 7 * 256, 1)),
    # Salimans et al.: G 100 -> 500 -> 500 (BatchNorm without scale) -> 784; D 784 -> 1000-500-250-250-250,
    # minibatch discrimination T: 250 x (100 x 5), then (250 + 100) -> 1. Their layers are weight-normalised: a
    # scale per unit (G's output layer, each of D's dense layers), the minibatch layer's log scale per (kernel,
    # dimension) and bias per kernel, and each data-initialised layer's flag (6 dense, 1 minibatch).
    "minibatch": (dense(100, 500, bias=False) + batchnorm(500, False) + dense(500, 500, bias=False)
                  + batchnorm(500, False) + dense(500, 784) + 784,
                  dense(784, 1000) + dense(1000, 500) + dense(500, 250) + 2 * dense(250, 250) + 250 * 100 * 5
                  + dense(350, 1) + (1000 + 500 + 3 * 250 + 1) + (100 * 5 + 100) + 7),
    # The Keras AC-GAN example: G Embedding(10, 100), 100 -> 3x3x384, 5x5 192 (valid), 96, 1; D 3x3 32-64-128-256,
    # then 7x7x256 -> 1 and -> 10.
    "acgan": (10 * 100 + dense(100, 3 * 3 * 384) + conv(5, 384, 192) + batchnorm(192) + conv(5, 192, 96) + batchnorm(96)
              + conv(5, 96, 1),
              conv(3, 1, 32) + conv(3, 32, 64) + conv(3, 64, 128) + conv(3, 128, 256) + dense(7 * 7 * 256, 1)
              + dense(7 * 7 * 256, 10)),
    # Chen et al.: G 74 -> 1024 -> 7x7x128 -> 4x4 64 -> 1; D 4x4 64 -> 128 -> 1024 -> 1, Q 1024 -> 128 -> 10 + 2.
    "infogan": (dense(74, 1024, bias=False) + batchnorm(1024) + dense(1024, 7 * 7 * 128, bias=False) + batchnorm(6272)
                + conv(4, 128, 64, bias=False) + batchnorm(64) + conv(4, 64, 1),
                conv(4, 1, 64) + conv(4, 64, 128, bias=False) + batchnorm(128) + dense(6272, 1024, bias=False)
                + batchnorm(1024) + dense(1024, 1) + dense(1024, 128, bias=False) + batchnorm(128) + dense(128, 12)),
    # Gulrajani et al. (gan_mnist.py, DIM 64): G 128 -> 4x4x256 -> 5x5 128 -> 64 -> 1; D 5x5 64-128-256 -> 1.
    "wgan_gp": (dense(128, 4 * 4 * 256) + conv(5, 256, 128) + conv(5, 128, 64) + conv(5, 64, 1),
                conv(5, 1, 64) + conv(5, 64, 128) + conv(5, 128, 256) + dense(4 * 4 * 256, 1)),
    # The same in its WGAN mode: BatchNorm after G's hidden layers and D's last two convolutions.
    "wgan": (dense(128, 4 * 4 * 256) + batchnorm(4096) + conv(5, 256, 128) + batchnorm(128) + conv(5, 128, 64)
             + batchnorm(64) + conv(5, 64, 1),
             conv(5, 1, 64) + conv(5, 64, 128) + batchnorm(128) + conv(5, 128, 256) + batchnorm(256) + dense(4096, 1)),
    # Mao et al. (mcgan.py without the label): G 1024 -> 7x7x128 -> 5x5 128 -> 1; D 5x5 64 -> 128 -> 1024 -> 1.
    "lsgan": (dense(1024, 6272, bias=False) + batchnorm(6272) + conv(5, 128, 128, bias=False) + batchnorm(128)
              + conv(5, 128, 1),
              conv(5, 1, 64) + conv(5, 64, 128, bias=False) + batchnorm(128) + dense(6272, 1024, bias=False)
              + batchnorm(1024) + dense(1024, 1)),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_are_the_published_architectures(name):
    gan = zoo.create(name, data_shape=(28, 28, 1))
    assert (gan.generator.count_params(), gan.discriminator.count_params()) == PUBLISHED[name]
    assert gan.data_shape == (28, 28, 1) and gan.value_range == (-1.0, 1.0)


def test_vanilla_is_goodfellow_et_als_mnist_configuration():
    gan = zoo.create("vanilla")
    assert gan.latent_dim == 100 and gan.prior == "uniform" and gan.update == "fused" and gan.d_loss_scale == 0.5
    assert gan.loss == "non_saturating" and gan.d_steps == 1 and gan.output_bias_from_data
    maxouts = [layer for layer in gan.discriminator.layers if isinstance(layer, zoo.Maxout)]
    assert [(layer.units, layer.pieces) for layer in maxouts] == [(240, 5), (240, 5)]
    assert [layer.kernel_initializer.maxval for layer in maxouts] == [0.005, 0.005]
    # Dropout keep 0.8 on the pixels and 0.5 on each maxout layer's output.
    assert [layer.rate for layer in gan.discriminator.layers if isinstance(layer, keras.layers.Dropout)] == [0.2, 0.5, 0.5]
    relus = [layer for layer in gan.generator.layers if isinstance(layer, keras.layers.Dense)]
    assert [(layer.units, layer.activation.__name__) for layer in relus] == [(1200, "relu"), (1200, "relu"), (784, "sigmoid")]
    assert [layer.kernel_initializer.maxval for layer in relus] == [0.05] * 3
    # The zoo's U(-1, 1) z becomes the code's U(-sqrt 3, sqrt 3); the sigmoid's [0, 1] pixels the zoo's [-1, 1].
    noise = gan.generator.get_layer("paper_noise")
    assert (noise.scale, noise.offset) == (pytest.approx(math.sqrt(3)), 0.0)
    # pylearn2's SGD: 0.1 / 1.000004^t down to 1e-6; momentum 0.5 -> 0.7 between epochs 1 and 250 (500 updates each).
    spec = gan.default_optimizer
    assert (spec["name"], spec["learning_rate"], spec["decay_factor"], spec["min_learning_rate"]) == ("sgd", 0.1, 1.000004, 1e-6)
    assert (spec["momentum"], spec["final_momentum"], spec["momentum_start"], spec["momentum_saturate"]) == (0.5, 0.7, 500, 125_000)
    assert zoo.presets.PRESETS["vanilla"]["image_split"] == "train[0:50000]"


def test_conditional_is_mirza_and_osinderos_configuration():
    gan = zoo.create("conditional")
    assert gan.num_classes == 10 and gan.conditioning == "concat" and gan.update == "fused"
    one_hot = gan.generator.get_layer("label_one_hot")
    assert isinstance(one_hot, keras.layers.CategoryEncoding) and one_hot.num_tokens == 10
    maxouts = [(layer.units, layer.pieces) for layer in gan.discriminator.layers if isinstance(layer, zoo.Maxout)]
    assert sorted(maxouts) == [(50, 5), (240, 4), (240, 5)]
    assert [layer.rate for layer in gan.generator.layers if isinstance(layer, keras.layers.Dropout)] == [0.5] * 3
    noise = gan.generator.get_layer("paper_noise")  # z in the unit hypercube
    assert (noise.scale, noise.offset) == (0.5, 0.5)
    assert gan.default_optimizer["decay_factor"] == 1.00004


def test_the_tuned_presets_are_the_shipped_models_networks():
    # dcgan_mbd_code_ema is what `dcgan` built before every preset became its paper's model: the shipped
    # dcgan_mnist's generator has exactly its weights' shapes.
    import saved_models

    gan = zoo.create("dcgan_mbd_code_ema")
    assert (gan.latent_code, gan.ema_decay) == (10, 0.999)
    assert gan.discriminator.get_layer("minibatch").num_kernels == 32
    shipped = keras.models.load_model(saved_models.path("dcgan_mnist", "keras"), compile=False)
    shipped = shipped.generator if isinstance(shipped, zoo.GAN) else shipped
    assert [w.shape for w in shipped.weights] == [w.shape for w in gan.generator.weights]
    conditional = zoo.create("conditional_dcgan_mbd")
    assert conditional.num_classes == 10 and conditional.discriminator.get_layer("minibatch").num_kernels == 32



@pytest.mark.parametrize("shape", [(6, 6, 1), (7, 7, 1), (28, 32, 1), (28, 28)])
def test_dcgan_rejects_image_sizes_it_cannot_build(shape):
    with pytest.raises(ValueError, match="DCGAN"):
        zoo.create("dcgan", data_shape=shape)


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(ValueError, match="available presets: acgan, conditional, conditional_dcgan_mbd, dcgan"):
        zoo.create("stylegan")


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="latent_size"):
        zoo.create("dcgan", latent_size=10)


def test_minibatch_layer_sits_right_before_the_output():
    gan = zoo.create("minibatch", backbone="mlp", data_shape=(2,), minibatch_kernels=20, minibatch_dim=4)
    layer = gan.discriminator.get_layer("minibatch")
    assert isinstance(layer, zoo.MinibatchDiscrimination)
    assert gan.discriminator.layers[-1].input.shape[-1] == 256 + 20


def test_minibatch_initialises_its_weight_normalised_layers_from_data_once(tmp_path):
    """Their code's init pass, before the first update and never again: fit runs it on the first 500 samples, a
    saved model keeps its state; G's BatchNorm is their nn.py's (epsilon 1e-6, averages of decay 0.9)."""
    gan = zoo.create("minibatch", **CASES["minibatch"][1])
    assert [(layer.epsilon, layer.momentum) for layer in gan.generator.layers
            if isinstance(layer, keras.layers.BatchNormalization)] == [(1e-6, 0.9)]
    assert isinstance(gan.generator.get_layer("sigmoid_output"), zoo.WeightNormDense)
    logits = gan.discriminator.get_layer("logits")
    gan.compile()
    gan.fit(dataset_for(gan), epochs=1, verbose=0)
    assert float(np.asarray(logits.initialized)) == 1.0 and gan.initialize_from_data(np.zeros((4, 8, 8, 1))) == 0
    gan.save(tmp_path / "gan.keras")
    assert keras.models.load_model(tmp_path / "gan.keras").initialize_from_data(np.zeros((4, 8, 8, 1))) == 0
    fresh = zoo.create("minibatch", **CASES["minibatch"][1])
    assert fresh.initialize_from_data(np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1))) == 4  # 2 hidden layers, minibatch, logit
    with pytest.raises(ValueError, match="weight_norm"):
        zoo.create("dcgan", data_shape=(8, 8, 1), weight_norm=True)


def test_an_uncompiled_gan_saves_and_reloads_uncompiled(tmp_path):
    gan = zoo.create("dcgan", data_shape=(8, 8, 1), filters=8, update="fused")
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert not restored.compiled and restored.update == "fused"
    restored.compile()
    restored.fit(dataset_for(restored), epochs=1, verbose=0)
    assert int(restored.g_optimizer.iterations) == 4


def test_dropout_sits_after_every_hidden_layer_of_the_mlp_discriminator():
    gan = zoo.create("vanilla", backbone="mlp", d_units=(16, 8, 4), dropout=0.25)
    rates = [layer.rate for layer in gan.discriminator.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [0.25, 0.25, 0.25]
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in gan.generator.layers)


def test_packed_discriminator_gives_one_logit_per_pack():
    gan = zoo.create("vanilla", data_shape=(2,), pack=4, **SMALL_MLP)
    assert gan.discriminator.get_layer("pack").pack == 4
    assert tuple(gan.discriminator(np.zeros((12, 2), "float32")).shape) == (3, 1)


def test_pack_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="unconditional MLP"):
        zoo.create("conditional", pack=2)
    with pytest.raises(ValueError, match="unconditional MLP"):
        zoo.create("dcgan", pack=2)
    with pytest.raises(ValueError, match="positive"):
        zoo.create("vanilla", pack=0)


def test_pack_names_a_batch_that_is_not_a_multiple():
    gan = zoo.create("vanilla", data_shape=(2,), pack=4, **SMALL_MLP)
    gan.compile()
    x = np.random.default_rng(0).normal(size=(10, 2)).astype("float32")
    with pytest.raises(ValueError, match="multiple of pack=4"):
        gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(10), epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("name", "shape", "backbone"),
    [("vanilla", (28, 28, 1), "maxout"), ("vanilla", (8, 8, 1), "maxout"), ("vanilla", (28, 20, 1), "maxout"),
     ("vanilla", (2,), "mlp"), ("vanilla", (1,), "mlp"), ("lsgan", (28, 28, 1), "lsgan"), ("lsgan", (2,), "mlp"),
     ("dcgan", (2,), "dcgan")],
)
def test_auto_presets_build_the_papers_networks_for_images_and_the_mlp_for_vectors(name, shape, backbone):
    assert zoo.presets.preset_backbone(name, shape) == backbone


def test_lsgan_on_vectors_is_their_mixture_code():
    gan = zoo.create("lsgan", data_shape=(2,))
    assert (gan.prior, gan.update, gan.latent_dim, gan.loss) == ("normal", "fused", 256, "least_squares")
    kernels = [layer.kernel.numpy() for layer in gan.generator.layers + gan.discriminator.layers
               if isinstance(layer, keras.layers.Dense)]
    assert len(kernels) == 6
    hidden = kernels[1]  # 128 x 128: orthogonal with gain 1.4, so W^T W = 1.96 I
    np.testing.assert_allclose(hidden.T @ hidden, 1.96 * np.eye(128), atol=1e-4)


def test_lsgan_on_images_has_their_tensorflow_codes_numerics():
    gan = zoo.create("lsgan")  # ops.py's BatchNorm (epsilon 1e-5, decay 0.9), truncated N(0, 0.02) convolutions
    norms = [layer for net in (gan.generator, gan.discriminator) for layer in net.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert {(layer.epsilon, layer.momentum) for layer in norms} == {(1e-5, 0.9)}
    convolutions = [layer for layer in gan.discriminator.layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(isinstance(layer.kernel_initializer, keras.initializers.TruncatedNormal) for layer in convolutions)
    assert gan.default_optimizer["epsilon"] == 1e-8


def test_vanilla_on_vectors_keeps_the_zoos_mlp():
    gan = zoo.create("vanilla", data_shape=(2,))
    assert gan.default_optimizer is None and gan.update == "alternating"  # Adam, as the toy benchmarks measured
    assert [layer.rate for layer in gan.discriminator.layers if isinstance(layer, keras.layers.Dropout)] == [0.3] * 3


def test_output_bias_starts_at_the_pixel_marginals():
    gan = zoo.create("vanilla", data_shape=(2, 2, 1), g_units=(4,), d_units=(4,), d_pieces=(2,), latent_dim=3)
    pixels = np.array([0.5, 0.25, 1.0, 0.0])  # mean pixels in [0, 1]; the last two clipped to 1 -/+ 1e-7
    images = np.stack([(2 * pixels - 1).reshape(2, 2, 1)] * 3).astype("float32")
    gan.compile()
    calls = []
    set_bias = gan.set_output_bias_from
    gan.set_output_bias_from = lambda data: calls.append(np.array(data)) or set_bias(data)
    gan.fit(images, batch_size=3, epochs=1, verbose=0)  # the first fit sets it, then trains one step
    gan.fit(images, batch_size=3, epochs=1, verbose=0)  # later ones do not
    assert len(calls) == 1 and np.allclose(calls[0], images) and gan.output_bias_initialized
    assert zoo.GAN.from_config(gan.get_config()).output_bias_initialized  # a reloaded model keeps its trained bias
    fresh = zoo.create("vanilla", data_shape=(2, 2, 1), g_units=(4,), d_units=(4,), d_pieces=(2,), latent_dim=3)
    fresh.set_output_bias_from(images)
    clipped = np.clip(pixels, 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(fresh.generator.get_layer("sigmoid_output").bias.numpy(),
                               np.log(clipped / (1 - clipped)), rtol=1e-5)


def test_output_bias_from_a_generator_asks_for_the_samples_first():
    """A Python generator (what fit reads on JAX and torch without tf.data) cannot be read twice: the
    message says what to call, and after it fit trains on the generator."""
    gan = zoo.create("vanilla", data_shape=(2, 2, 1), g_units=(4,), d_units=(4,), d_pieces=(2,), latent_dim=3)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 2, 2, 1)).astype("float32")

    def batches():
        while True:
            yield (images,)

    gan.compile()
    with pytest.raises(ValueError, match=r"call set_output_bias_from\(samples\) before fitting on a generator"):
        gan.fit(batches(), steps_per_epoch=1, epochs=1, verbose=0)
    gan.set_output_bias_from(images)
    gan.fit(batches(), steps_per_epoch=1, epochs=1, verbose=0)
    assert int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations)) == 1


def test_wgan_clips_every_critic_weight_before_each_update():
    gan = zoo.create("wgan", data_shape=(8, 8, 1), latent_dim=8, filters=4)
    assert (gan.loss, gan.d_steps, gan.clip_value, gan.default_optimizer["name"]) == ("wasserstein", 5, 0.01, "rmsprop")
    gan.compile(d_learning_rate=1e-12, run_eagerly=True)  # the critic's own steps move nothing: what is left is the clipping
    for variable in gan.discriminator.trainable_variables:
        variable.assign(np.full(variable.shape, 0.5, "float32"))  # BatchNorm's gamma, the kernels: all far out
    gan.fit(dataset_for(gan), epochs=1, verbose=0)
    assert max(float(np.abs(v.numpy()).max()) for v in gan.discriminator.trainable_variables) <= 0.01 + 1e-6


def test_infogan_reads_its_codes_from_the_noise():
    gan = zoo.create("infogan", data_shape=(8, 8, 1))
    assert (gan.latent_dim, gan.latent_code, gan.continuous_codes, gan.code_weight) == (74, 10, 2, 1.0)
    z = np.random.default_rng(0).uniform(-1, 1, (4, 74)).astype("float32")
    seen = keras.ops.convert_to_numpy(gan.generator.get_layer("latent_code")(z))
    np.testing.assert_array_equal(seen[:, :10], np.eye(10)[z[:, :10].argmax(1)])  # the one-hot categorical code
    np.testing.assert_array_equal(seen[:, 10:], z[:, 10:])  # then the two continuous codes and 62 noise entries
    assert gan.discriminator.get_layer("code").units == 12  # Q: 10 logits, then the 2 continuous means
    optimizer = gan.default_optimizer
    assert (optimizer["d_learning_rate"], optimizer["g_learning_rate"], optimizer["epsilon"]) == (2e-4, 1e-3, 1e-8)
    gan.compile()
    assert (gan.d_optimizer.epsilon, gan.g_optimizer.epsilon) == (1e-8, 1e-8)
    # openai/InfoGAN's BatchNorm: epsilon 1e-5, decay 0.9, gamma from N(1, 0.02), in G, D and Q alike.
    norms = [layer for net in (gan.generator, gan.discriminator) for layer in net.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 3 + 3 and {(layer.epsilon, layer.momentum) for layer in norms} == {(1e-5, 0.9)}
    assert 0.0 < float(np.std(norms[0].gamma.numpy())) < 0.05
    # Their code's rows of an MNIST-sized training split; a smaller set trains on all of its own.
    from train.datasets import DatasetArrays
    from train.runner import papers_rows

    mnist_sized = DatasetArrays(np.zeros((60_000, 1, 1, 1), "float32"), np.arange(60_000), None, "mnist")
    split, rows = papers_rows("infogan", mnist_sized)
    assert split == "train[5000:60000]" and rows.y[0] == 5000 and len(rows) == 55_000
    assert papers_rows("infogan", mnist_sized.take(slice(0, 1797)))[0] == "train"


def test_acgan_needs_labels_and_gives_class_logits():
    with pytest.raises(ValueError, match="conditional"):
        zoo.create("acgan", num_classes=None)
    gan = zoo.create("acgan")
    assert gan.conditioning == "acgan" and [o.shape[-1] for o in gan.discriminator.outputs] == [1, 10]


@pytest.mark.parametrize("name", ["vanilla", "conditional", "minibatch", "infogan", "wgan_gp", "lsgan", "acgan"])
@pytest.mark.tensorflow_only
def test_papers_networks_export_to_onnx_with_parity(name, tmp_path):
    from export.exporter import export_generator

    _, options = {"vanilla": CASES["vanilla-maxout"], "conditional": CASES["conditional-maxout"],
                  "minibatch": CASES["minibatch"], "infogan": CASES["infogan"], "wgan_gp": CASES["wgan_gp"],
                  "lsgan": CASES["lsgan"], "acgan": CASES["acgan"]}[name]
    gan = zoo.create(name, **options)
    report = export_generator(gan, tmp_path / f"{name}.onnx")  # raises ParityError past its tolerance
    assert (tmp_path / f"{name}.onnx").exists() and report


@pytest.mark.parametrize("name", sorted(zoo.available()))
def test_ganzoo_train_runs_every_preset_on_the_digits(name, tmp_path):
    from train import cli

    size = ["--image-size", "20"] if name == "acgan" else []  # its 5x5 valid convolution needs 20 px or more
    argv = ["train", name, "--dataset", "digits", "--epochs", "1", "--batch-size", "50", "--seed", "0", "--quiet",
            "--out", str(tmp_path / "run"), "--sample-every", "1", *size]
    assert cli.main(argv) == 0
    config = __import__("json").loads((tmp_path / "run" / "config.json").read_text())
    assert config["preset"] == name and config["presets_version"] == 2
    assert (tmp_path / "run" / "samples" / "epoch_001.png").exists()


def test_conditional_samples_with_its_generators_dropout_on_seeded_by_the_noise_seed():
    # Mirza & Osindero's G trains with dropout 0.5 and draws its variety from the masks: with them off, one image a
    # class (MNIST: Parzen -52 at epoch 28 with the masks off, 120 with them on; benchmarks/papers.md).
    gan = zoo.create("conditional", **CASES["conditional-maxout"][1])
    assert gan.sampling_dropout and zoo.GAN.from_config(gan.get_config()).sampling_dropout
    same = [gan.generate(8, labels=1, seed=3) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    assert np.abs(gan.generate(8, labels=1, seed=4) - same[0]).max() > 0
    deterministic = gan.generate(8, labels=1, seed=3, dropout=False)
    assert deterministic.std(axis=0).mean() < same[0].std(axis=0).mean()
    with pytest.raises(ValueError, match="sampling_dropout"):
        zoo.create("dcgan", data_shape=(8, 8, 1), filters=4, sampling_dropout=True)  # BatchNorm, no dropout
