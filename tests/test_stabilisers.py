"""The stabiliser options of `zoo.create`: losses, penalties, spectral norm, EMA, DiffAugment, TTUR, conditioning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

MLP = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "data_shape": (4, 4, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16,), "seed": 1}
DCGAN = {"backbone": "dcgan", "data_shape": (8, 8, 1), "latent_dim": 8, "filters": 4, "seed": 1}
# Every new option, in three combinations: an XLA compilation takes ~10 s on a busy 2-core CPU.
OPTIONS = {
    "hinge-r1-sn-ema-diffaugment-projection": {
        "loss": "hinge", "r1_weight": 10.0, "spectral_norm": True, "ema_decay": 0.9,
        "diffaugment": "color,translation,cutout", "num_classes": 3, "conditioning": "projection",
    },
    "wasserstein_gp-acgan": {"loss": "wasserstein_gp", "d_steps": 2, "num_classes": 3, "conditioning": "acgan"},
    "least_squares-fused": {"loss": "least_squares", "r1_weight": 1.0, "update": "fused"},
}


def data(gan, n=16):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, *gan.data_shape)).astype("float32")
    return (x, np.arange(n) % gan.num_classes) if gan.conditional else (x,)


def trained(options, epochs=1, batch_size=8, backbone=DCGAN, **compile_options):
    keras.utils.set_random_seed(0)
    gan = zoo.create("dcgan_mbd_code_ema", **{**backbone, **options})
    if options.get("spectral_norm") and keras.backend.backend() == "torch":
        with pytest.raises(ValueError, match="spectral_norm does not train on the torch backend"):
            gan.compile(**compile_options)
        pytest.skip("spectral normalisation trains on tensorflow and jax only (see GAN.compile)")
    gan.compile(**compile_options)
    history = gan.fit(*data(gan), batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0).history
    return gan, history


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_option_trains_under_xla_with_finite_losses_and_round_trips(name, tmp_path):
    # The MLP: XLA compiles its step several times faster than the DCGAN's on a CPU.
    gan, history = trained(OPTIONS[name], backbone={"backbone": "mlp", "activation": "relu", "dropout": 0.0, **MLP}, jit_compile=True)
    assert int(gan.g_optimizer.iterations) == 2
    assert all(np.isfinite(values).all() for values in history.values()), history
    restored = keras.models.load_model(_saved(gan, tmp_path))
    for key, value in OPTIONS[name].items():
        if key != "spectral_norm":
            assert restored.get_config()[key] == gan.get_config()[key] == value
    for a, b in zip(gan.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _saved(gan, tmp_path):
    path = tmp_path / "gan.keras"
    gan.save(path)
    return path


# ----------------------------------------------------------------------------- losses


def test_loss_option_and_the_older_generator_loss_name():
    assert zoo.create("vanilla", **MLP).loss == "non_saturating"
    old = zoo.create("vanilla", generator_loss="minimax", **MLP)
    assert old.loss == old.generator_loss == "minimax" and old.get_config()["loss"] == "minimax"
    # A config saved before `loss` existed carries generator_loss, and still loads.
    config = {**old.get_config(), "generator_loss": "minimax"}
    del config["loss"]
    assert zoo.GAN.from_config(config).loss == "minimax"
    with pytest.raises(ValueError, match="Unknown loss 'wgan'"):
        zoo.create("vanilla", loss="wgan", **MLP)
    with pytest.raises(ValueError, match="disagree"):
        zoo.create("vanilla", loss="hinge", generator_loss="minimax", **MLP)


def test_wasserstein_gp_defaults_to_five_critic_steps_and_a_critic_without_batchnorm():
    gan = zoo.create("dcgan_mbd_code_ema", loss="wasserstein_gp", **{k: v for k, v in DCGAN.items() if k != "backbone"})
    assert gan.d_steps == 5 and gan.get_config()["d_steps"] == 5 and gan.gp_weight == 10.0
    assert zoo.create("dcgan_mbd_code_ema", **{k: v for k, v in DCGAN.items() if k != "backbone"}).d_steps == 1
    kinds = {type(layer).__name__ for layer in gan.discriminator.layers}
    assert "LayerNormalization" in kinds and "BatchNormalization" not in kinds
    batchnorm_critic = zoo.create("dcgan_mbd_code_ema", **{k: v for k, v in DCGAN.items() if k != "backbone"}).discriminator
    with pytest.raises(ValueError, match="BatchNorm"):
        zoo.GAN(gan.generator, batchnorm_critic, loss="wasserstein_gp")
    mlp = zoo.create("vanilla", loss="wasserstein_gp", **MLP)
    mlp.compile()
    mlp.fit(*data(mlp), batch_size=8, epochs=1, verbose=0)
    assert int(mlp.d_optimizer.iterations) == 5 * int(mlp.g_optimizer.iterations) == 10


def test_wasserstein_gp_penalises_interpolates_with_alpha_uniform_per_sample():
    gan = zoo.create("vanilla", loss="wasserstein_gp", **MLP)
    calls = []
    original = gan._input_gradients

    def recording(samples, labels):
        calls.append(np.asarray(samples))
        return original(samples, labels)

    gan._input_gradients = recording
    real = np.ones((64, 4, 4, 1), "float32")
    fake = -np.ones((64, 4, 4, 1), "float32")
    gan._discriminator_loss(keras.ops.convert_to_tensor(real), keras.ops.convert_to_tensor(fake), None)
    (interpolates,) = calls
    alpha = (1.0 - interpolates) / 2.0  # x_hat = real + alpha (fake - real) = 1 - 2 alpha
    per_sample = alpha.reshape(64, -1)
    assert np.allclose(per_sample, per_sample[:, :1], atol=1e-6)  # one alpha per sample
    assert per_sample.min() >= 0.0 and per_sample.max() <= 1.0 and per_sample[:, 0].std() > 0.2  # U(0, 1): std 0.29


@pytest.mark.parametrize("option", [{"loss": "hinge"}, {"loss": "wasserstein_gp"}, {"loss": "least_squares"}])
def test_label_smoothing_needs_a_cross_entropy_loss(option):
    with pytest.raises(ValueError, match="label_smoothing"):
        zoo.create("vanilla", label_smoothing=0.1, **option, **MLP)


# ----------------------------------------------------------------------------- R1


def test_r1_penalty_of_a_linear_discriminator_is_gamma_over_two_times_the_squared_weight_norm():
    gan = zoo.create("vanilla", r1_weight=3.0, **MLP)
    w = np.random.default_rng(1).normal(size=(16, 1)).astype("float32")
    x = keras.Input((4, 4, 1))
    linear = keras.layers.Dense(1, use_bias=False)
    discriminator = keras.Model(x, linear(keras.layers.Flatten()(x)))
    linear.set_weights([w])
    with_r1 = zoo.GAN(gan.generator, discriminator, r1_weight=3.0)
    without = zoo.GAN(gan.generator, discriminator)
    rng = np.random.default_rng(2)
    real, fake = (keras.ops.convert_to_tensor(rng.normal(size=(8, 4, 4, 1)).astype("float32")) for _ in range(2))
    difference = float(with_r1._discriminator_loss(real, fake, None)[0] - without._discriminator_loss(real, fake, None)[0])
    assert difference == pytest.approx(3.0 / 2 * float(np.sum(w**2)), rel=1e-5)


# ----------------------------------------------------------------------------- spectral normalisation


def largest_singular_values(discriminator):
    wrapped = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    kernels = [np.asarray(layer.layer.kernel) for layer in wrapped]
    return [np.linalg.svd(k.reshape(-1, k.shape[-1]), compute_uv=False)[0] for k in kernels]


@pytest.mark.parametrize("backbone", ["mlp", "dcgan"])
def test_spectral_norm_keeps_each_wrapped_kernel_at_largest_singular_value_one(backbone):
    if backbone == "mlp":
        gan, _ = trained({"spectral_norm": True, "d_units": (16, 16)}, epochs=4, backbone={"backbone": "mlp", "activation": "relu", "dropout": 0.0, **MLP})
        assert len(largest_singular_values(gan.discriminator)) == 3  # two hidden layers and the logit layer
    else:
        # The DCGAN's convolution kernels (5 x 5 x in x out, reshaped to (-1, out)); training D alone (its logit
        # towards 1, with fit) keeps this fast (tracing the DCGAN's whole GAN step is not).
        gan = zoo.create("dcgan", spectral_norm=True, **{k: v for k, v in DCGAN.items() if k != "backbone"})
        x = np.random.default_rng(0).normal(size=(8, 8, 8, 1)).astype("float32")
        gan.discriminator.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        gan.discriminator.fit(x, np.ones((8, 1), "float32"), batch_size=8, epochs=12, verbose=0)
        gan.discriminator(x, training=True)
        assert len(largest_singular_values(gan.discriminator)) == 3  # two convolutions and the logit layer
    for sigma in largest_singular_values(gan.discriminator):
        assert sigma == pytest.approx(1.0, abs=0.1)
    # Without it the same kernels' largest singular values are not 1.
    plain = zoo.create("vanilla", d_units=(16, 16), **{k: v for k, v in MLP.items() if k != "d_units"})
    sigmas = [np.linalg.svd(np.asarray(layer.kernel), compute_uv=False)[0] for layer in plain.discriminator.layers
              if isinstance(layer, keras.layers.Dense)]
    assert all(abs(sigma - 1.0) > 0.1 for sigma in sigmas)


@pytest.mark.tensorflow_only
def test_spectral_norm_wraps_the_mlp_discriminator_and_leaves_the_generator_exportable(tmp_path):
    from export import export_generator

    gan = zoo.create("vanilla", spectral_norm=True, **MLP)
    assert isinstance(gan.discriminator.get_layer("features"), keras.layers.SpectralNormalization)
    assert isinstance(gan.discriminator.get_layer("logits"), keras.layers.SpectralNormalization)
    assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in gan.generator.layers)
    report = export_generator(gan, tmp_path / "g.onnx")
    assert report.max_abs_diff <= 1e-4


# ----------------------------------------------------------------------------- EMA


def test_ema_generator_averages_the_generator_and_is_what_samples_are_drawn_from():
    gan, _ = trained({"ema_decay": 0.5})
    assert gan.sampling_generator is gan.ema_generator is not gan.generator
    assert not gan.ema_generator.trainable_variables
    assert {id(v) for v in gan.trainable_variables}.isdisjoint(id(v) for v in gan.ema_generator.weights)
    z = gan.sample_noise(3, seed=0)
    np.testing.assert_array_equal(np.asarray(gan(z)), np.asarray(gan.ema_generator(z)))
    np.testing.assert_array_equal(gan.generate(3, seed=0), np.asarray(gan.ema_generator(z)))
    assert not np.allclose(keras.ops.convert_to_numpy(gan.generator(z)), keras.ops.convert_to_numpy(gan.ema_generator(z)))
    off = zoo.create("dcgan_mbd_code_ema", ema_decay=0, **{k: v for k, v in DCGAN.items() if k != "backbone"})
    assert off.sampling_generator is off.generator and off.ema_generator is None


def test_ema_update_rule_and_batchnorm_statistics():
    gan = zoo.create("dcgan_mbd_code_ema", ema_decay=0.75, **{k: v for k, v in DCGAN.items() if k != "backbone"})
    before = [np.asarray(v) for v in gan.ema_generator.weights]
    for v in gan.generator.weights:
        v.assign(v + 1.0)
    gan._update_ema()
    for old, averaged, live in zip(before, gan.ema_generator.weights, gan.generator.weights):
        expected = 0.75 * old + 0.25 * np.asarray(live) if live.trainable else np.asarray(live)
        np.testing.assert_allclose(np.asarray(averaged), expected, rtol=1e-6)
    assert any(not v.trainable for v in gan.generator.weights)  # BatchNorm's moving statistics were copied


def test_ema_state_is_saved_and_a_resumed_fit_matches_an_uninterrupted_one(tmp_path):
    def dataset(gan):
        return tf.data.Dataset.from_tensor_slices(data(gan, 16)[0]).batch(8)

    keras.utils.set_random_seed(0)
    straight = zoo.create("vanilla", ema_decay=0.9, **MLP)
    straight.compile()
    straight.fit(dataset(straight), epochs=4, verbose=0)

    keras.utils.set_random_seed(0)
    first = zoo.create("vanilla", ema_decay=0.9, **MLP)
    first.compile()
    first.fit(dataset(first), epochs=2, verbose=0)
    resumed = keras.models.load_model(_saved(first, tmp_path))
    np.testing.assert_array_equal(
        np.asarray(resumed.ema_generator.weights[0]), np.asarray(first.ema_generator.weights[0])
    )
    resumed.fit(dataset(resumed), epochs=2, verbose=0)
    for a, b in zip(straight.ema_generator.weights, resumed.ema_generator.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    assert not np.allclose(np.asarray(straight.ema_generator.weights[0]), np.asarray(straight.generator.weights[0]))


@pytest.mark.parametrize("decay", [1.0, -0.1])
def test_ema_decay_outside_zero_one_is_a_value_error(decay):
    with pytest.raises(ValueError, match="ema_decay"):
        zoo.create("vanilla", ema_decay=decay, **MLP)


# ----------------------------------------------------------------------------- TTUR


def test_separate_learning_rates_are_set_and_saved(tmp_path):
    gan = zoo.create("vanilla", **MLP)
    gan.compile(d_learning_rate=4e-4, g_learning_rate=1e-4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(gan.g_optimizer.beta_1) == pytest.approx(0.5)
    restored = keras.models.load_model(_saved(gan, tmp_path))
    assert float(restored.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(restored.g_optimizer.learning_rate) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="not both"):
        gan.compile(d_optimizer=keras.optimizers.SGD(), d_learning_rate=1e-3)


# ----------------------------------------------------------------------------- conditioning


@pytest.mark.parametrize("backbone", [MLP, DCGAN])
def test_projection_discriminator_adds_the_label_embeddings_inner_product_with_the_features(backbone):
    # No minibatch features (the conditional DCGAN preset's default): phi(x) is then the `features` layer.
    gan = zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="projection", minibatch_kernels=0, **backbone)
    discriminator = gan.discriminator
    x = np.random.default_rng(0).uniform(-1, 1, (4, *gan.data_shape)).astype("float32")
    labels = np.array([0, 1, 2, 1])
    features = keras.Model(discriminator.inputs, discriminator.get_layer("features").output)([x, labels])
    embeddings = keras.ops.convert_to_numpy(discriminator.get_layer("projection").embeddings)[labels]
    unconditional = keras.Model(discriminator.inputs, discriminator.get_layer("logits").output)([x, labels])
    expected = keras.ops.convert_to_numpy(unconditional)[:, 0] + np.sum(embeddings * keras.ops.convert_to_numpy(features), axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(discriminator([x, labels]))[:, 0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backbone", [MLP, DCGAN])
def test_acgan_discriminator_predicts_the_class_and_reports_its_accuracy(backbone):
    gan = zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="acgan", **backbone)
    assert len(gan.discriminator.inputs) == 1 and gan.discriminator.get_layer("classes").units == 3
    gan.compile()
    x, labels = data(gan)
    history = gan.fit(x, labels, batch_size=8, epochs=1, verbose=0).history
    assert 0.0 <= history["d_class_accuracy"][0] <= 1.0


@pytest.mark.parametrize("fake_class_weight", [1.0, 0.0, 0.25])
def test_acgan_losses_add_the_class_cross_entropy(fake_class_weight):
    gan = zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="acgan", fake_class_weight=fake_class_weight,
                     **MLP)
    assert zoo.GAN.from_config(gan.get_config()).fake_class_weight == fake_class_weight
    x = keras.ops.convert_to_tensor(data(gan, 8)[0])
    labels = keras.ops.convert_to_tensor(np.arange(8) % 3, "int32")
    fake = gan._generate(gan.sample_noise(8, seed=0), labels)
    d_loss, real_logits, (fake_logits, fake_classes) = gan._discriminator_loss(x, fake, labels)
    _, real_classes = gan._discriminate(x, labels)
    adversarial = zoo.minimax_discriminator_loss(real_logits, fake_logits)
    classes = (zoo.auxiliary_classifier_loss(labels, real_classes)
               + fake_class_weight * zoo.auxiliary_classifier_loss(labels, fake_classes))
    assert float(d_loss) == pytest.approx(float(adversarial + classes), rel=1e-5)
    g_loss, _ = gan._generator_loss(x, fake, labels, fake_judgement=(fake_logits, fake_classes))
    expected = zoo.non_saturating_generator_loss(fake_logits) + zoo.auxiliary_classifier_loss(labels, fake_classes)
    assert float(g_loss) == pytest.approx(float(expected), rel=1e-5)


def test_conditioning_combinations_that_cannot_work_are_value_errors():
    with pytest.raises(ValueError, match="fake_class_weight must be non-negative"):
        zoo.create("acgan", fake_class_weight=-1)
    with pytest.raises(ValueError, match="needs a conditional GAN"):
        zoo.create("vanilla", conditioning="projection", **MLP)
    with pytest.raises(ValueError, match="Unknown conditioning"):
        zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="film", **MLP)
    with pytest.raises(ValueError, match="feature_matching"):
        zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="acgan", feature_matching=True, **MLP)
    with pytest.raises(ValueError, match="unconditional MLP"):
        zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="projection", pack=2, **MLP)
    concat = zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="concat", **MLP)
    with pytest.raises(ValueError, match="'acgan' discriminator"):
        zoo.GAN(concat.generator, concat.discriminator, num_classes=3, conditioning="acgan")


def test_the_conditioning_defaults_and_old_configs_without_conditioning():
    # An MLP D ignores a concatenated label (10% accuracy on MNIST): the MLP backbone defaults to AC-GAN.
    assert zoo.create("conditional_dcgan_mbd", num_classes=3, **MLP).conditioning == "acgan"
    gan = zoo.create("conditional_dcgan_mbd", num_classes=3, backbone="dcgan", data_shape=(8, 8, 1), filters=4)
    assert gan.conditioning == "concat"  # the DCGAN's label plane, which it learns (98.5% on MNIST)
    config = gan.get_config()
    del config["conditioning"]
    assert zoo.GAN.from_config(config).conditioning == "concat"
