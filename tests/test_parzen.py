"""`train.evaluation.parzen`: Goodfellow et al.'s Parzen-window log-likelihood, and `ganzoo evaluate --parzen`."""

import json
import math

import numpy as np
import pytest
from scipy.special import logsumexp

from train.evaluation import EvaluationError, parzen

LOG_2PI = math.log(2 * math.pi)


def _direct(samples, points, sigma):
    """The formula written out: every difference at once (no blocks, no ||x||^2 + ||mu||^2 - 2 x.mu expansion)."""
    mu = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    x = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    exponents = -0.5 * (((x[:, None, :] - mu[None, :, :]) / sigma) ** 2).sum(axis=2)
    return logsumexp(exponents, axis=1) - math.log(len(mu)) - mu.shape[1] * math.log(sigma * math.sqrt(2 * math.pi))


def test_hand_worked_cases():
    # 1-D, centres 0 and 2, sigma 1. At x = 1 both squared distances are 1:
    #   log((e^-1/2 + e^-1/2) / 2) - log(sqrt(2 pi)) = -1/2 - log(2 pi) / 2.
    # At x = 0 they are 0 and 4: log((1 + e^-2) / 2) - log(2 pi) / 2.
    ll = parzen.parzen_log_likelihood(np.array([[0.0], [2.0]]), np.array([[1.0], [0.0]]), 1.0)
    assert ll[0] == pytest.approx(-0.5 - 0.5 * LOG_2PI, abs=1e-9)
    assert ll[0] == pytest.approx(-1.4189385332046727, abs=1e-9)
    assert ll[1] == pytest.approx(math.log((1 + math.exp(-2)) / 2) - 0.5 * LOG_2PI, abs=1e-9)
    # 2-D, centres (0, 0) and (1, 0), sigma 1/2, x = (0, 1): squared distances 1 and 2, over sigma^2 4 and 8,
    # so the exponents are -2 and -4; the constant is 2 log(sigma sqrt(2 pi)) = 2 log(1/2) + log(2 pi).
    ll = parzen.parzen_log_likelihood(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0]]), 0.5)
    assert ll[0] == pytest.approx(math.log((math.exp(-2) + math.exp(-4)) / 2) - 2 * math.log(0.5) - LOG_2PI, abs=1e-9)
    assert ll.shape == (1,) and ll.dtype == np.float64


def test_far_points_stay_finite():
    # One centre at 0, x = 100, sigma 0.1: exp(-500000) underflows, its log does not.
    ll = parzen.parzen_log_likelihood(np.zeros((1, 1)), np.array([[100.0]]), 0.1)
    assert ll[0] == pytest.approx(-0.5 * 100.0**2 / 0.01 - math.log(0.1) - 0.5 * LOG_2PI, rel=1e-12)


def test_images_are_flattened_and_order_does_not_matter():
    rng = np.random.default_rng(0)
    samples, points = rng.uniform(size=(40, 4, 4, 1)), rng.uniform(size=(15, 4, 4, 1))
    ll = parzen.parzen_log_likelihood(samples, points, 0.3)
    np.testing.assert_allclose(ll, parzen.parzen_log_likelihood(samples.reshape(40, 16), points.reshape(15, 16), 0.3))
    shuffled = samples[rng.permutation(40)]
    np.testing.assert_allclose(parzen.parzen_log_likelihood(shuffled, points, 0.3), ll, rtol=1e-12)
    order = rng.permutation(15)
    np.testing.assert_allclose(parzen.parzen_log_likelihood(samples, points[order], 0.3), ll[order], rtol=1e-12)
    with pytest.raises(ValueError, match="16 values each, points 9"):
        parzen.parzen_log_likelihood(samples, np.zeros((2, 9)), 0.3)
    with pytest.raises(ValueError, match="positive"):
        parzen.parzen_log_likelihood(samples, points, 0.0)


@pytest.mark.parametrize("batch_size", [1, 7, 50, 1000])
def test_blocks_equal_the_direct_formula(batch_size):
    rng = np.random.default_rng(1)
    samples, points = rng.uniform(size=(300, 20)), rng.uniform(size=(123, 20))
    for sigma in (0.1, 0.2, 1.0):
        expected = _direct(samples, points, sigma)
        ll = parzen.parzen_log_likelihood(samples, points, sigma, batch_size=batch_size)
        np.testing.assert_allclose(ll, expected, rtol=1e-10, atol=1e-9)


def test_cross_validation_picks_the_best_sigma():
    # One centre at 0: the mean log-likelihood of points x is -mean(||x||^2) / (2 sigma^2) - D log sigma - D/2 log 2 pi,
    # largest at sigma^2 = mean(||x||^2) / D. Points at +-0.3 in 1-D: sigma = 0.3.
    validation = np.array([[-0.3], [0.3]])
    sigmas = [0.1, 0.2, 0.3, 0.5, 1.0]
    best, scores = parzen.cross_validate_sigma(np.zeros((1, 1)), validation, sigmas)
    assert best == 0.3 and list(scores) == sigmas
    for sigma, score in scores.items():
        assert score == pytest.approx(-0.09 / (2 * sigma**2) - math.log(sigma) - 0.5 * LOG_2PI, abs=1e-9)
    assert max(scores, key=scores.get) == best
    # 2-D: points (+-0.2, +-0.2) give mean ||x||^2 / D = 0.04, sigma 0.2; the default grid is logspace(-1, 0, 10)
    square = np.array([[0.2, 0.2], [-0.2, 0.2], [0.2, -0.2], [-0.2, -0.2]])
    assert parzen.cross_validate_sigma(np.zeros((1, 2)), square, [0.15, 0.2, 0.25])[0] == 0.2
    best, scores = parzen.cross_validate_sigma(np.zeros((1, 2)), square)
    np.testing.assert_array_equal(list(scores), np.logspace(-1, 0, 10))
    assert best == pytest.approx(0.21544346900318834)  # the grid's nearest to 0.2 in log-likelihood


def test_evaluation_reports_mean_and_standard_error():
    rng = np.random.default_rng(2)
    samples, validation, test = rng.uniform(size=(200, 10)), rng.uniform(size=(30, 10)), rng.uniform(size=(77, 10))
    result = parzen.parzen_evaluation(samples, validation, test)
    best, scores = parzen.cross_validate_sigma(samples, validation)
    values = _direct(samples, test, best)
    assert result["sigma"] == best and result["sigma_scores"] == scores
    assert result["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert result["std_error"] == pytest.approx(values.std() / math.sqrt(77), rel=1e-9)  # ddof=0, as parzen_ll.py
    assert result["num_samples"] == 200 and result["num_test"] == 77
    assert "30 validation points" in result["protocol"] and "\n" not in result["protocol"]
    assert parzen.standard_error([1.0, 3.0]) == pytest.approx(1 / math.sqrt(2), abs=1e-12)  # std 1, N 2
    json.dumps(result)  # float keys become strings


def test_to_unit_range():
    x = np.array([-1.0, 0.0, 1.0, 1.5])
    np.testing.assert_allclose(parzen.to_unit_range(x), [0.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(parzen.to_unit_range(x, (0.0, 1.0)), [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(parzen.to_unit_range(x, None), [0.0, 0.5, 1.0, 1.0])  # unbounded: the data's [-1, 1]


class _Sampler:
    latent_dim = 2

    def __init__(self, generate, data_shape, num_classes=None, value_range=None):
        self._generate, self.data_shape, self.num_classes = generate, data_shape, num_classes
        if value_range is not None:
            self.value_range = value_range
        self.requested = []

    @property
    def conditional(self):
        return self.num_classes is not None

    def generate(self, n, labels=None, seed=None):
        self.requested.append(labels)
        return self._generate(n, labels, seed)


def test_only_28x28_grey_images():
    grey = _Sampler(lambda n, l, s: np.zeros((n, 28, 28, 1)), (28, 28, 1))
    with pytest.raises(EvaluationError, match="toy set"):
        parzen.evaluate_parzen(grey, "ring8", verbose=False)
    with pytest.raises(EvaluationError, match=r"\(8, 8, 1\)"):
        parzen.evaluate_parzen(_Sampler(lambda n, l, s: np.zeros((n, 8, 8, 1)), (8, 8, 1)), "digits", verbose=False)
    with pytest.raises(EvaluationError, match="digits holds samples of shape"):
        parzen.evaluate_parzen(grey, "digits", verbose=False)
    with pytest.raises(EvaluationError, match="no dataset"):
        parzen.evaluate_parzen(grey, verbose=False)


def test_mnist_conditional_samples_are_balanced_and_mapped(shared_data):
    from train import datasets

    mnist = str(shared_data / "mnist")
    train, test = datasets.load_arrays(mnist, "train"), datasets.load_arrays(mnist, "test")
    pixels = (train.x[:500] + 1) / 2  # a "generator" of real train images, in [0, 1]
    sampler = _Sampler(lambda n, l, s: pixels[:n], (28, 28, 1), num_classes=10, value_range=(0.0, 1.0))
    report = parzen.evaluate_parzen(sampler, mnist, n=500, baseline=False, verbose=False)
    np.testing.assert_array_equal(np.bincount(sampler.requested[0]), [50] * 10)
    expected = parzen.parzen_evaluation(pixels, (train.x[50000:51000] + 1) / 2, (test.x + 1) / 2)
    assert report["generated"]["mean"] == pytest.approx(expected["mean"], rel=1e-9)
    assert report["generated"]["sigma"] == expected["sigma"] and report["generated"]["num_test"] == 10000
    assert "baseline" not in report and "balanced" in report["protocol"]


def test_cli_parzen(shared_data, tmp_path, capsys):
    import keras

    import zoo
    from train import cli

    keras.utils.set_random_seed(0)
    gan = zoo.create("vanilla", backbone="mlp", data_shape=(28, 28, 1), latent_dim=8, g_units=(16,), d_units=(16,))
    path = tmp_path / "gan.keras"
    gan.save(path)
    out = tmp_path / "parzen.json"
    mnist = str(shared_data / "mnist")
    assert cli.main(["evaluate", str(path), "--parzen", "--dataset", mnist, "--n", "200", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["kind"] == "parzen" and report["num_samples"] == 200 and report["generated"]["num_test"] == 10000
    assert report["generated"]["mean"] < report["baseline"]["mean"]  # an untrained generator against real data
    assert 200 < report["baseline"]["mean"] < 300 and report["baseline"]["num_samples"] == 10000
    printed = capsys.readouterr().out
    assert "real baseline" in printed and "log-likelihood" in printed and "sigma" in printed
    assert cli.main(["evaluate", str(path), "--parzen", "--inception", "--dataset", mnist]) == 2
    assert cli.main(["evaluate", str(path), "--parzen", "--dataset", "ring8"]) == 2
    assert "toy set" in capsys.readouterr().err
