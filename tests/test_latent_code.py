"""InfoGAN's categorical code (`latent_code`): read from z, uniform, learnt by both players, saved and exported."""

import keras
import numpy as np
import pytest

import zoo
from zoo.layers import latent_code_indices


def test_code_is_the_one_hot_argmax_of_the_first_k_entries():
    z = np.array([[0.1, 0.9, -0.3, 5.0], [0.7, -0.2, 0.4, -9.0]], np.float32)
    code = np.asarray(zoo.LatentCode(3)(z))
    np.testing.assert_array_equal(code, [[0, 1, 0], [1, 0, 0]])  # entry 4 is not part of the code
    np.testing.assert_array_equal(np.asarray(latent_code_indices(z, 3)), [1, 0])


@pytest.mark.parametrize("prior", ["uniform", "normal"])
def test_code_is_uniform_under_either_prior(prior):
    gan = zoo.create("vanilla", data_shape=(2,), latent_dim=8, latent_code=4, prior=prior, seed=0)
    counts = np.bincount(np.asarray(latent_code_indices(gan.sample_noise(20_000, seed=1), 4)), minlength=4)
    assert np.abs(counts / 20_000 - 0.25).max() < 0.015  # 4.7 standard deviations of a fair share


def test_code_term_is_the_cross_entropy_of_the_code_head():
    """G's loss is the adversarial loss plus lambda * CE(code head(G(z)), code(z)), worked out by hand."""
    gan = zoo.create("vanilla", data_shape=(2,), latent_dim=4, latent_code=3, code_weight=0.5, seed=0,
                     g_units=[8], d_units=[8], dropout=0.0)
    z = np.array([[0.9, 0.1, 0.2, 0.0], [-0.5, 0.3, 0.8, 0.1]], np.float32)
    fake = gan.generator(z)
    logits, code_logits = (keras.ops.convert_to_numpy(t).astype(np.float64) for t in gan.discriminator(fake, training=True))
    adversarial = np.mean(np.logaddexp(0.0, -logits))  # -log sigmoid(logit), the non-saturating loss
    log_softmax = code_logits - np.log(np.exp(code_logits).sum(axis=1, keepdims=True))
    cross_entropy = -np.mean(log_softmax[[0, 1], [0, 2]])  # the codes of the two rows: 0 and 2
    g_loss, _ = gan._generator_loss(None, fake, None, codes=z)  # the code is read from z
    np.testing.assert_allclose(float(g_loss), adversarial + 0.5 * cross_entropy, rtol=1e-5)


def test_both_players_learn_to_use_the_code():
    """On a 2-d mixture of 4 Gaussians, D's code head reads G's code back well above chance (25%)."""
    from train import datasets

    data = datasets.load_arrays("ring8", split="train").x[:4096]
    gan = zoo.create("vanilla", data_shape=(2,), latent_dim=4, latent_code=4, prior="normal", seed=0,
                     g_units=[64, 64], d_units=[64, 64], dropout=0.0)
    gan.compile(d_learning_rate=1e-3, g_learning_rate=1e-3)
    history = gan.fit(data, batch_size=128, epochs=6, verbose=0).history
    assert history["d_code_accuracy"][0] < history["d_code_accuracy"][-1]
    assert history["d_code_accuracy"][-1] > 0.9


def test_config_round_trip_and_save(tmp_path):
    import keras

    gan = zoo.create("dcgan_mbd_code_ema", data_shape=(8, 8, 1), filters=8, latent_code=10, code_weight=2.0, seed=0)
    again = zoo.GAN.from_config(gan.get_config())
    assert (again.latent_code, again.code_weight) == (10, 2.0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    z = gan.sample_noise(5, seed=3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded.generator(z)), keras.ops.convert_to_numpy(gan.generator(z)), atol=1e-6)
    assert "d_code_accuracy" in [metric.name for metric in loaded.metrics]


@pytest.mark.tensorflow_only
def test_exports_to_onnx_with_a_single_noise_input(tmp_path):
    from export import GeneratorSession, export_generator

    gan = zoo.create("dcgan_mbd_code_ema", data_shape=(8, 8, 1), filters=8, latent_code=10, seed=0)
    report = export_generator(gan, tmp_path / "info.onnx")  # parity checked inside, 1e-4
    session = GeneratorSession(report.path, providers="cpu")
    assert not session.conditional and session.latent_dim == 100


@pytest.mark.parametrize(
    "options",
    [dict(num_classes=10), dict(latent_code=101), dict(latent_code=1), dict(pack=2, backbone="mlp")],
)
def test_rejected_combinations(options):
    options = {"latent_code": 10, **options}
    with pytest.raises(ValueError, match="latent_code"):
        zoo.create("dcgan_mbd_code_ema" if options.get("backbone") != "mlp" else "vanilla", data_shape=(8, 8, 1), **options)


def test_the_tuned_dcgan_defaults_to_a_code_that_makes_way_for_labels_and_feature_matching():
    preset = "dcgan_mbd_code_ema"
    assert zoo.create(preset, data_shape=(8, 8, 1)).latent_code == 10
    assert zoo.create(preset, data_shape=(8, 8, 1), num_classes=10).latent_code is None
    assert zoo.create(preset, data_shape=(8, 8, 1), feature_matching=True).latent_code is None
    assert zoo.create(preset, data_shape=(8, 8, 1), latent_code=0).latent_code is None
    assert zoo.create(preset, data_shape=(8, 8, 1), latent_dim=8).latent_code is None  # no room for 10
    assert zoo.create(preset, backbone="mlp", data_shape=(8, 8, 1)).latent_code is None  # a DCGAN default only
    assert zoo.create("dcgan", data_shape=(8, 8, 1)).latent_code is None  # the paper's DCGAN has none


def test_infogans_code_loss_adds_the_continuous_codes_gaussian_term():
    gan = zoo.create("infogan", data_shape=(8, 8, 1), latent_dim=16, code_weight=1.0)
    z = np.random.default_rng(1).uniform(-1, 1, (3, 16)).astype(np.float32)
    head = np.random.default_rng(2).normal(size=(3, 12)).astype(np.float32)
    logits = head[:, :10].astype(np.float64)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    categorical = -np.mean(log_softmax[np.arange(3), z[:, :10].argmax(1)])
    continuous = np.mean(0.5 * ((z[:, 10:12] - head[:, 10:]) ** 2).sum(axis=1))
    np.testing.assert_allclose(float(gan._code_loss(z, head)), categorical + continuous, rtol=1e-5)
