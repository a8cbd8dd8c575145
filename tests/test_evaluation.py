"""`train.evaluation.evaluate`, the evaluation classifier's cache, and `ganzoo evaluate`, on small sources."""

import json

import numpy as np
import pytest

from train import datasets, evaluation


class _Sampler:
    """A stand-in generator with the sampler protocol: `generate` draws from a hand-written function."""

    latent_dim = 2

    def __init__(self, generate, data_shape, num_classes=None):
        self._generate, self.data_shape, self.num_classes = generate, data_shape, num_classes

    @property
    def conditional(self):
        return self.num_classes is not None

    def generate(self, n, labels=None, seed=None):
        return self._generate(n, labels, seed)


_sampler = _Sampler


def test_toy_evaluation_tells_coverage_from_collapse():
    modes, std = datasets.toy_modes("ring8")

    def covering(n, labels, seed):
        rng = np.random.default_rng(seed)
        return modes[np.arange(n) % 8] + std * rng.standard_normal((n, 2))

    def collapsed(n, labels, seed):
        return np.repeat(modes[:2], [n - n // 2, n // 2], axis=0)

    good = evaluation.evaluate(_sampler(covering, (2,)), "ring8", verbose=False)
    assert good["kind"] == "modes" and good["num_samples"] == 2500
    assert good["generated"]["modes_captured"] == 8 and good["generated"]["high_quality"] > 98
    assert good["baseline"]["modes_captured"] == 8  # real test points through the same metric
    bad = evaluation.evaluate(_sampler(collapsed, (2,)), "ring8", verbose=False)
    assert bad["generated"]["modes_captured"] == 2
    assert bad["generated"]["mode_kl"] == pytest.approx(np.log(4))
    assert "2 " in evaluation.format_report(bad).split("modes_captured")[1].split("\n")[0]


def test_gaussian1d_evaluation():
    def normal(n, labels, seed):
        return np.random.default_rng(seed).normal(1.0, 1.0, (n, 1))

    report = evaluation.evaluate(_sampler(normal, (1,)), "gaussian1d", n=4000, verbose=False)
    assert report["kind"] == "gaussian1d"
    assert report["generated"]["mean"] == pytest.approx(1.0, abs=0.06)
    assert report["generated"]["ks"] < 0.03
    shifted = evaluation.evaluate(_sampler(lambda n, l, s: normal(n, l, s) + 1.0, (1,)), "gaussian1d", verbose=False)
    assert shifted["generated"]["ks"] > 0.3


def test_toy_evaluation_rejects_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        evaluation.evaluate(_sampler(lambda n, l, s: np.zeros((n, 1)), (1,)), "ring8", verbose=False)


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    """The digits classifier, trained once into a temporary cache (500 steps, the default minimum, on 1,437 8x8 images)."""
    import os

    from train.evaluation import classifier

    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("GANZOO_CACHE")
    os.environ["GANZOO_CACHE"] = str(cache)
    try:
        model = classifier.load_or_train("digits", verbose=False)
        yield model
    finally:
        if old is None:
            os.environ.pop("GANZOO_CACHE")
        else:
            os.environ["GANZOO_CACHE"] = old


def test_classifier_is_accurate_and_cached(digits_classifier, monkeypatch):
    from train.evaluation import classifier

    assert digits_classifier.test_accuracy > 0.9
    path = digits_classifier.info["cache_path"]
    assert path.startswith(str(classifier.cache_dir()))
    test = datasets.load_arrays("digits", split="test")
    features = digits_classifier.features(test.x[:50])
    assert features.shape == (50, 128) and features.dtype == np.float64
    probabilities = digits_classifier.predict_proba(test.x[:50])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier should have been reused")

    monkeypatch.setattr(classifier, "train_classifier", no_training)
    again = classifier.load_or_train("digits", verbose=False)
    assert again.info["cache_path"] == path
    np.testing.assert_allclose(again.predict_proba(test.x[:50]), probabilities, rtol=1e-5, atol=1e-6)

    # Another training budget is another classifier: it must be trained, not served from this entry.
    with pytest.raises(AssertionError, match="should have been reused"):
        classifier.load_or_train("digits", epochs=1, verbose=False)


def test_image_metrics_separate_real_from_collapsed(digits_classifier):
    test = datasets.load_arrays("digits", split="test")

    def real(n, labels, seed):
        if labels is None:
            return test.x[np.random.default_rng(seed).integers(len(test.x), size=n)]
        return np.stack([test.x[test.y == label][i % 10] for i, label in enumerate(labels)])

    def one_digit(n, labels, seed):
        return np.repeat(test.x[test.y == 3][:1], n, axis=0)

    good = evaluation.evaluate(_sampler(real, (8, 8, 1), num_classes=10), "digits", n=1000, verbose=False)
    bad = evaluation.evaluate(_sampler(one_digit, (8, 8, 1)), "digits", n=1000, verbose=False)
    g, b = good["generated"], bad["generated"]
    assert g["conditional_accuracy"] > 0.9  # requested labels 0..9, cycling
    assert g["classes_covered"] == 10 and g["class_kl"] < 0.05
    assert g["classifier_score"] > 0.8 * good["baseline"]["classifier_score"]
    assert b["classes_covered"] == 1 and b["class_kl"] > 2.0 and b["classifier_score"] < 1.1
    assert b["frechet_distance"] > 10 * g["frechet_distance"]
    assert "conditional_accuracy" not in b
    assert good["baseline"]["conditional_accuracy"] > 0.9
    assert good["inception"]["status"].startswith("not requested")
    json.dumps(evaluation.to_json(good))  # the report is JSON-able


def test_inception_unavailable_is_reported_not_raised(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    result = evaluation.inception_metrics(np.zeros((4, 8, 8, 1)), np.zeros((4, 8, 8, 1)), np.zeros((4, 8, 8, 1)))
    assert result["status"] == "unavailable"
    assert "InceptionV3 ImageNet weights could not be loaded" in result["reason"]
    assert "Name or service not known" in result["reason"]


@pytest.fixture(scope="module")
def small_gan(tmp_path_factory):
    """An untrained conditional MLP GAN on 8x8 images, saved as gan.keras in a run-like folder."""
    import keras

    import zoo

    keras.utils.set_random_seed(0)
    gan = zoo.create("conditional_dcgan_mbd", backbone="mlp", data_shape=(8, 8, 1), latent_dim=8, g_units=(16,), d_units=(16,))
    gan.compile()
    folder = tmp_path_factory.mktemp("run")
    gan.save(folder / "gan.keras")
    gan.generator.save(folder / "generator.keras")
    config = {"preset": "conditional", "dataset": "digits", "options": {"num_classes": 10, "latent_dim": 8}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_sources_load_from_run_folder_gan_and_generator(small_gan):
    import zoo

    source = evaluation.load_source(small_gan)
    from_folder, from_generator = source.sampler, evaluation.load_source(small_gan / "generator.keras").sampler
    assert source.config["dataset"] == "digits" and isinstance(from_folder, zoo.GAN)
    assert source.config["backbone"] == "mlp" and source.config["conditional"]  # derived for an older config
    assert from_folder.num_classes == from_generator.num_classes == 10
    assert from_folder.data_shape == from_generator.data_shape == (8, 8, 1)
    labels = np.arange(6) % 10
    a, b = from_generator.generate(6, labels=labels, seed=1), from_generator.generate(6, labels=labels, seed=1)
    np.testing.assert_array_equal(a, b)  # the seed fixes the noise
    assert a.shape == (6, 8, 8, 1) and np.abs(a).max() <= 1.0
    with pytest.raises(FileNotFoundError):
        evaluation.load_source(small_gan / "missing.keras")
    with pytest.raises(ValueError):
        evaluation.load_source(small_gan / "config.json")


def test_onnx_source_matches_the_keras_generator(small_gan, tmp_path):
    pytest.importorskip("onnxruntime")
    exporter = pytest.importorskip("export.exporter")
    path = tmp_path / "g.onnx"
    exporter.export_generator(str(small_gan / "generator.keras"), str(path), metadata={"dataset": "digits"})
    onnx_sampler = evaluation.load_source(path).sampler
    keras_sampler = evaluation.load_source(small_gan / "generator.keras").sampler
    assert onnx_sampler.num_classes == 10 and onnx_sampler.data_shape == (8, 8, 1)
    labels = np.arange(20) % 10
    # Both draw U(-1, 1) noise from numpy's default_rng(seed): the same z, so the same images.
    np.testing.assert_allclose(onnx_sampler.generate(20, labels, 3), keras_sampler.generate(20, labels, 3), atol=1e-5)


def test_cli_evaluate_writes_json(small_gan, digits_classifier, tmp_path, monkeypatch, capsys):
    from train import cli

    monkeypatch.setenv("GANZOO_CACHE", str(digits_classifier.info["cache_path"]).rsplit("/classifiers/", 1)[0])
    out = tmp_path / "report.json"
    assert cli.main(["evaluate", str(small_gan), "--n", "200", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["dataset"] == "digits" and report["num_samples"] == 200
    assert 0.0 <= report["generated"]["conditional_accuracy"] <= 1.0
    printed = capsys.readouterr().out
    assert "classifier_score" in printed and "real baseline" in printed and "cached at" in printed
    assert cli.main(["evaluate", str(small_gan), "--dataset", "ring8"]) == 2  # conditional image GAN on toy data
    assert cli.main(["evaluate", str(tmp_path / "nowhere")]) == 2
