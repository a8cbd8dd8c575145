"""The GAN's training step (Algorithm 1), sampling, and its input checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo


def tiny(preset="vanilla", **options):
    options = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "data_shape": (4, 4, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16,), **options}
    return zoo.create(preset, **options)


def images(n=32, shape=(4, 4, 1)):
    return np.random.default_rng(0).uniform(-1, 1, (n, *shape)).astype("float32")


def snapshot(model):
    return [np.array(v) for v in model.trainable_variables]


def changed(before, model):
    return any(not np.array_equal(b, np.array(v)) for b, v in zip(before, model.trainable_variables))


def test_discriminator_update_changes_only_discriminator_weights():
    gan = tiny()
    # A zero learning rate makes the generator update a no-op, leaving the D update alone.
    gan.compile(g_optimizer=keras.optimizers.Adam(0.0))
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.fit(images(), batch_size=32, epochs=1, verbose=0)
    assert changed(d_before, gan.discriminator)
    assert not changed(g_before, gan.generator)


def test_generator_update_changes_only_generator_weights():
    gan = tiny()
    gan.compile(d_optimizer=keras.optimizers.Adam(0.0))
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.fit(images(), batch_size=32, epochs=1, verbose=0)
    assert changed(g_before, gan.generator)
    assert not changed(d_before, gan.discriminator)


@pytest.mark.parametrize("k", [1, 3])
def test_d_steps_k_gives_k_discriminator_updates_per_generator_update(k):
    gan = tiny(d_steps=k)
    gan.compile()
    gan.fit(images(32), batch_size=8, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 4
    assert int(gan.d_optimizer.iterations) == 4 * k


def test_optimizers_default_to_dcgan_adam_and_cover_their_own_network():
    gan = tiny()
    gan.compile()
    for optimizer, network in ((gan.d_optimizer, gan.discriminator), (gan.g_optimizer, gan.generator)):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert float(optimizer.beta_1) == pytest.approx(0.5)
        assert {id(v) for v in optimizer._trainable_variables} == {id(v) for v in network.trainable_variables}


def test_metrics_are_the_four_trackers_and_plausible():
    gan = tiny()
    gan.compile()
    history = gan.fit(images(), batch_size=16, epochs=1, verbose=0).history
    assert sorted(history) == ["d_fake", "d_loss", "d_real", "g_loss"]
    assert 0.0 < history["d_real"][0] < 1.0 and 0.0 < history["d_fake"][0] < 1.0
    # Near the start D is uncertain: -V is close to 2 ln 2.
    assert history["d_loss"][0] == pytest.approx(2 * np.log(2), abs=0.3)


@pytest.mark.parametrize("prior", ["uniform", "normal"])
def test_noise_prior(prior):
    z = np.asarray(tiny(prior=prior).sample_noise(4000, seed=0))
    assert z.shape == (4000, 8)
    if prior == "uniform":
        assert z.min() >= -1.0 and z.max() <= 1.0 and abs(z.std() - 1 / np.sqrt(3)) < 0.02
    else:
        assert abs(z.std() - 1.0) < 0.03 and z.min() < -3.0


def test_generate_returns_float32_samples_in_range_and_repeats_with_a_seed():
    gan = tiny()
    out = gan.generate(5, seed=3)
    assert out.shape == (5, 4, 4, 1) and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    np.testing.assert_array_equal(out, gan.generate(5, seed=3))
    assert not np.array_equal(gan.generate(5), gan.generate(5))  # the model's own seed stream advances


def test_conditional_generate_honours_labels():
    gan = tiny("conditional", num_classes=3)
    z_seed = 7
    a = gan.generate(3, labels=[0, 1, 2], seed=z_seed)
    b = gan.generate(3, labels=2, seed=z_seed)
    assert a.shape == (3, 4, 4, 1)
    np.testing.assert_array_equal(a[2], b[2])
    assert not np.array_equal(a[0], b[0])


def test_fit_is_reproducible_under_set_random_seed():
    def run():
        keras.utils.set_random_seed(42)
        gan = tiny()
        gan.compile()
        gan.fit(images(), batch_size=8, epochs=2, verbose=0)
        return snapshot(gan.generator)

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_fit_accepts_image_and_image_label_datasets():
    plain = tiny()
    plain.compile()
    plain.fit(tf.data.Dataset.from_tensor_slices(images()).batch(8), verbose=0)
    conditional = tiny("conditional", num_classes=4)
    conditional.compile()
    labels = np.arange(32) % 4
    conditional.fit(tf.data.Dataset.from_tensor_slices((images(), labels)).batch(8), verbose=0)
    conditional.fit(images(), labels, batch_size=8, verbose=0)
    assert int(conditional.g_optimizer.iterations) == 8


# ----------------------------------------------------------------------------- bad input


def test_wrong_image_shape_is_a_value_error():
    gan = tiny()
    gan.compile()
    with pytest.raises(ValueError, match=r"shape \(8, 8, 1\).*generates \(4, 4, 1\)"):
        gan.fit(images(shape=(8, 8, 1)), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="shape"):
        gan.fit(tf.data.Dataset.from_tensor_slices(images(shape=(4, 4, 3))).batch(8), verbose=0)


def test_conditional_model_without_labels_is_a_value_error():
    gan = tiny("conditional", num_classes=4)
    gan.compile()
    with pytest.raises(ValueError, match="needs .*labels"):
        gan.fit(tf.data.Dataset.from_tensor_slices(images()).batch(8), verbose=0)
    with pytest.raises(ValueError, match="needs labels"):
        gan.generate(2)


def test_labels_for_an_unconditional_model_are_a_value_error():
    gan = tiny()
    gan.compile()
    with pytest.raises(ValueError, match="unconditional"):
        gan.fit(tf.data.Dataset.from_tensor_slices((images(), np.zeros(32, "int64"))).batch(8), verbose=0)
    with pytest.raises(ValueError, match="unconditional"):
        gan.generate(2, labels=[0, 1])


def test_label_outside_range_is_a_value_error():
    gan = tiny("conditional", num_classes=4)
    gan.compile()
    bad = np.arange(32) % 5  # contains 4
    with pytest.raises(ValueError, match=r"outside \[0, 4\)"):
        gan.fit(images(), bad, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match=r"outside \[0, 4\)"):
        gan.fit(tf.data.Dataset.from_tensor_slices((images(), bad)).batch(8), verbose=0)
    with pytest.raises(ValueError, match=r"label 7 is outside \[0, 4\)"):
        gan.generate(2, labels=[1, 7])


def test_non_positive_n_is_a_value_error():
    with pytest.raises(ValueError, match="positive"):
        tiny().generate(0)


def test_bad_constructor_options_are_value_errors():
    with pytest.raises(ValueError, match="prior"):
        tiny(prior="cauchy")
    with pytest.raises(ValueError, match="generator_loss"):
        tiny(generator_loss="wasserstein")
    with pytest.raises(ValueError, match="d_steps"):
        tiny(d_steps=0)
