"""Every preset builds, trains a few steps with finite losses, and survives a .keras round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

SMALL_MLP = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "latent_dim": 16, "g_units": (32, 32), "d_units": (32, 32)}
CASES = {
    "vanilla": ("vanilla", {"data_shape": (8, 8, 1), **SMALL_MLP}),
    "dcgan": ("dcgan", {"data_shape": (8, 8, 1), "latent_dim": 16, "filters": 8}),
    "conditional-mlp": ("conditional", {"data_shape": (8, 8, 1), "num_classes": 3, **SMALL_MLP}),
    "conditional-dcgan": ("conditional", {"backbone": "dcgan", "data_shape": (8, 8, 1), "num_classes": 3, "filters": 8}),
    "minibatch-mlp": ("minibatch", {"data_shape": (2,), "minibatch_kernels": 8, **SMALL_MLP}),
    "minibatch-dcgan-feature-matching": (
        "minibatch",
        {"backbone": "dcgan", "data_shape": (8, 8, 1), "filters": 8, "minibatch_kernels": 8, "feature_matching": True},
    ),
    # Options against collapse: LeakyReLU + dropout in D (Goodfellow et al. trained D with dropout), PacGAN packing.
    "vanilla-leaky-dropout": ("vanilla", {"data_shape": (8, 8, 1), "activation": "leaky_relu", "dropout": 0.3, **SMALL_MLP}),
    "vanilla-pack4": ("vanilla", {"data_shape": (2,), "pack": 4, **SMALL_MLP}),
    "conditional-dcgan-minibatch": (
        "conditional",
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
    return z if not gan.conditional else [z, tf.range(n) % gan.num_classes]


def test_available_lists_the_four_variants():
    assert zoo.available() == ["conditional", "dcgan", "minibatch", "vanilla"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_preset_trains_and_round_trips(case, tmp_path):
    name, options = CASES[case]
    gan = zoo.create(name, **options)
    gan.compile()
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
    assert int(restored.d_optimizer.iterations) == int(gan.d_optimizer.iterations) == 4
    assert int(restored.g_optimizer.iterations) == 4
    for a, b in zip(gan.g_optimizer.variables, restored.g_optimizer.variables):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    restored.fit(dataset_for(restored), epochs=1, verbose=0)
    assert int(restored.g_optimizer.iterations) == 8


def test_vanilla_on_images_is_the_dcgan_presets_model():
    # The paper's MLP cannot reach good MNIST samples in a CPU budget (README), so on images the
    # DCGAN can build, vanilla trains the dcgan preset's networks and additions.
    def config(preset):
        keras.backend.clear_session()  # the same automatic layer names for both
        return {k: v for k, v in zoo.create(preset, seed=0).get_config().items() if k not in ("name", "preset")}

    assert config("vanilla") == config("dcgan")
    assert zoo.presets.preset_defaults("vanilla") == zoo.presets.preset_defaults("dcgan")


@pytest.mark.parametrize(
    "shape, backbone",
    [((28, 28, 1), "dcgan"), ((8, 8, 1), "dcgan"), ((32, 32, 3), "dcgan"), ((2,), "mlp"), ((1,), "mlp"),
     ((4, 4, 1), "mlp"), ((28, 20, 1), "mlp"), ((7, 7, 3), "mlp")],
)
def test_vanilla_takes_the_dcgan_where_it_can_build_the_images_and_the_mlp_elsewhere(shape, backbone):
    assert zoo.presets.preset_backbone("vanilla", shape) == backbone
    assert zoo.presets.preset_backbone("dcgan", shape) == "dcgan"  # only "auto" presets choose
    gan = zoo.create("vanilla", data_shape=shape, latent_dim=16, filters=4, g_units=(8,), d_units=(8,))
    assert gan.generator(gan.sample_noise(2)).shape[1:] == shape
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in gan.discriminator.layers) == (backbone == "dcgan")


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
    gan = zoo.create("dcgan", data_shape=(28, 28, 1), latent_code=0, minibatch_kernels=0, ema_decay=0)  # the plain DCGAN
    g_types = {type(layer).__name__ for layer in gan.generator.layers}
    d_layers = gan.discriminator.layers
    assert "Conv2DTranspose" in g_types and "BatchNormalization" in g_types
    assert not any("Pool" in type(layer).__name__ for layer in gan.generator.layers + d_layers)
    assert gan.generator.layers[-1].activation.__name__ == "tanh"
    convs = [i for i, layer in enumerate(d_layers) if isinstance(layer, keras.layers.Conv2D)]
    assert all(d_layers[i].strides == (2, 2) for i in convs)
    # No BatchNorm right after the first convolution, BatchNorm after the others.
    assert not isinstance(d_layers[convs[0] + 1], keras.layers.BatchNormalization)
    assert all(isinstance(d_layers[i + 1], keras.layers.BatchNormalization) for i in convs[1:])
    assert sum(isinstance(layer, keras.layers.LeakyReLU) for layer in d_layers) == len(convs)
    # The only dense layer in D is the output.
    assert [layer.units for layer in d_layers if isinstance(layer, keras.layers.Dense)] == [1]


@pytest.mark.parametrize("shape", [(6, 6, 1), (7, 7, 1), (28, 32, 1), (28, 28)])
def test_dcgan_rejects_image_sizes_it_cannot_build(shape):
    with pytest.raises(ValueError, match="DCGAN"):
        zoo.create("dcgan", data_shape=shape)


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(ValueError, match="available presets: conditional, dcgan, minibatch, vanilla"):
        zoo.create("stylegan")


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="latent_size"):
        zoo.create("dcgan", latent_size=10)


def test_minibatch_layer_sits_right_before_the_output():
    gan = zoo.create("minibatch", backbone="mlp", data_shape=(2,), minibatch_kernels=20, minibatch_dim=4)
    layer = gan.discriminator.get_layer("minibatch")
    assert isinstance(layer, zoo.MinibatchDiscrimination)
    assert gan.discriminator.layers[-1].input.shape[-1] == 256 + 20


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
