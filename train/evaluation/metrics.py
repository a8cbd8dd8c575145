"""Sample-quality metrics: plain numpy / scipy functions of samples, class probabilities and features.

Nothing here touches TensorFlow or a model, so every number can be checked against a hand-worked or
closed-form case (tests/test_metrics.py). `train.evaluation.evaluator` wires them to generators and datasets.

- Toy sets (PacGAN, Lin et al. 2018, Table 1): `mode_coverage`.
- `gaussian1d` (the lecture example's Example 1): `gaussian_fit`.
- Images, given a classifier's outputs: `classifier_score`, `frechet_distance`, `class_histogram_kl`,
  `classes_covered`, `conditional_accuracy`; and with InceptionV3 features `kernel_inception_distance`.
"""

import warnings

import numpy as np
from scipy import linalg, stats

# PacGAN's evaluation protocol: this many generated samples, "high quality" = within this many
# standard deviations of the nearest mode.
PACGAN_NUM_SAMPLES = 2500
PACGAN_STD_THRESHOLD = 3.0

# PacGAN Table 1 (Lin et al. 2018): published means over their runs, for the benchmark table.
PACGAN_PUBLISHED = {
    "ring8": {"GAN": {"modes": 6.3, "high_quality": 98.2}, "PacGAN4": {"modes": 7.8, "high_quality": 98.1}},
    "grid25": {"GAN": {"modes": 17.3, "high_quality": 94.8}, "PacGAN4": {"modes": 24.8, "high_quality": 94.2}},
}


def _kl(p, q):
    """KL(p || q) in nats for two histograms on the same bins (0 log 0 = 0)."""
    p = np.asarray(p, dtype="float64")
    q = np.asarray(q, dtype="float64")
    p = p / p.sum()
    q = q / q.sum()
    support = p > 0
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


# --------------------------------------------------------------------------- toy sets


def mode_coverage(samples, modes, std, threshold=PACGAN_STD_THRESHOLD):
    """PacGAN's mode metrics for a mixture of isotropic Gaussians with centres `modes` and one `std`.

    A sample is high-quality if its Euclidean distance to the nearest mode is at most
    `threshold * std`; a mode is captured if at least one high-quality sample is nearest to it.
    `mode_kl` is KL(p || uniform), p being the histogram of the high-quality samples over their
    nearest modes (PacGAN's "reverse KL": generated mode distribution against the true, uniform one).
    It is 0 for perfect balance and log(K) when everything lands on one mode; `inf` when no sample is
    high-quality.
    """
    samples = np.asarray(samples, dtype="float64").reshape(len(samples), -1)
    modes = np.asarray(modes, dtype="float64").reshape(len(modes), -1)
    distances = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    high_quality = distances.min(axis=1) <= threshold * std
    counts = np.bincount(nearest[high_quality], minlength=len(modes))
    return {
        "modes_captured": int(np.count_nonzero(counts)),
        "num_modes": int(len(modes)),
        "high_quality": float(100.0 * high_quality.mean()),
        "mode_kl": _kl(counts, np.ones(len(modes))) if counts.sum() else float("inf"),
        "mode_counts": counts.tolist(),
        "num_samples": int(len(samples)),
    }


def gaussian_fit(samples, mean=1.0, std=1.0):
    """Generated mean and std, and the Kolmogorov-Smirnov statistic against N(mean, std^2)."""
    samples = np.asarray(samples, dtype="float64").reshape(-1)
    ks = stats.kstest(samples, stats.norm(loc=mean, scale=std).cdf)
    return {
        "mean": float(samples.mean()),
        "std": float(samples.std(ddof=1)),
        "ks": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "target_mean": float(mean),
        "target_std": float(std),
        "num_samples": int(samples.size),
    }


# --------------------------------------------------------------------------- images (classifier outputs)


def classifier_score(probabilities, eps=1e-12):
    """exp(E_x KL(p(y|x) || p(y))), p(y) the batch's mean prediction: TF-GAN's `classifier_score`.

    With the Inception network this is the Inception score; with a dataset's own classifier it is
    TF-GAN's `mnist_score`. Ranges from 1 (one class, or uninformative predictions) to the class count.
    """
    p_yx = np.asarray(probabilities, dtype="float64")
    p_y = p_yx.mean(axis=0, keepdims=True)
    kl = np.sum(p_yx * (np.log(p_yx + eps) - np.log(p_y + eps)), axis=1)
    return float(np.exp(kl.mean()))


def statistics(features):
    """Mean and covariance (float64) of a feature matrix, the Gaussian that Frechet distance compares."""
    features = np.asarray(features, dtype="float64")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), the Frechet distance of two Gaussians.

    Computed in float64 with scipy's matrix square root. As in the reference FID code, a singular
    product gets `eps` added to both diagonals, and the numerical imaginary part is dropped.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, "float64")), np.atleast_1d(np.asarray(mu2, "float64"))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, "float64")), np.atleast_2d(np.asarray(sigma2, "float64"))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"mismatched statistics: {mu1.shape}/{sigma1.shape} vs {mu2.shape}/{sigma2.shape}.")
    diff = mu1 - mu2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
    singular = any(issubclass(w.category, linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        offset = np.eye(len(sigma1)) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance_of(features1, features2):
    """Frechet distance between the Gaussians fitted to two feature matrices."""
    return frechet_distance(*statistics(features1), *statistics(features2))


def class_histogram(predicted, num_classes):
    """Fraction of samples per class index."""
    counts = np.bincount(np.asarray(predicted, dtype="int64").reshape(-1), minlength=num_classes)
    return counts / max(counts.sum(), 1)


def class_histogram_kl(predicted, reference_histogram, eps=1e-10):
    """KL(generated class histogram || reference histogram), in nats.

    A generator dropping classes is penalised through the classes it over-produces; one that puts
    everything on one of ten balanced classes scores log(10) = 2.30. `eps` keeps a reference class
    of zero mass finite.
    """
    reference = np.asarray(reference_histogram, dtype="float64")
    generated = class_histogram(predicted, len(reference))
    return _kl(generated, reference + eps)


def classes_covered(predicted, reference_histogram, min_share=0.1):
    """How many classes the generator produces at least `min_share` of their reference frequency.

    With min_share=0.1 on balanced 10-class data, a class counts when >= 1% of the samples are
    predicted as it, so a handful of misclassified samples does not make a missing class "covered".
    """
    reference = np.asarray(reference_histogram, dtype="float64")
    generated = class_histogram(predicted, len(reference))
    return int(np.count_nonzero((reference > 0) & (generated >= min_share * reference)))


def conditional_accuracy(predicted, requested):
    """Fraction of samples the classifier assigns to the class they were generated for."""
    predicted = np.asarray(predicted).reshape(-1)
    requested = np.asarray(requested).reshape(-1)
    if predicted.shape != requested.shape:
        raise ValueError(f"{predicted.size} predictions for {requested.size} requested labels.")
    return float(np.mean(predicted == requested))


def kernel_inception_distance(features1, features2, num_subsets=10, subset_size=1000, seed=0):
    """KID (Binkowski et al. 2018): unbiased MMD^2 with the kernel (x.y / d + 1)^3, mean and std over subsets."""
    f1 = np.asarray(features1, dtype="float64")
    f2 = np.asarray(features2, dtype="float64")
    m = min(subset_size, len(f1), len(f2))
    dim = f1.shape[1]
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(num_subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        k_xx = (x @ x.T / dim + 1) ** 3
        k_yy = (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        mmd = (
            (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
            + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
            - 2 * k_xy.mean()
        )
        estimates.append(mmd)
    return float(np.mean(estimates)), float(np.std(estimates))


def matched_code_error(codes, labels):
    """InfoGAN's measure of a categorical code (Chen et al. 2016, section 7.2): the error of the code as a
    classifier once each code value is matched to one class, the one-to-one matching that agrees most
    (Hungarian algorithm on the code x class counts).

    Args:
        codes: the code value given to (or read from) each image, ints in [0, K).
        labels: the class of each image, ints in [0, C).

    Returns:
        (error in [0, 1], {code value: matched class}); codes left without a class (K > C) count as errors.
    """
    from scipy.optimize import linear_sum_assignment

    counts = code_class_counts(codes, labels)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return 1.0 - counts[rows, cols].sum() / counts.sum(), {int(r): int(c) for r, c in zip(rows, cols)}


def majority_code_error(codes, labels):
    """The looser reading of InfoGAN's measure: each code value stands for the class most of its images have
    (two values may stand for one class, and a class may get none), so a digit split over two code values costs
    nothing. At most `matched_code_error`.

    Args:
        codes: the code value of each image, ints in [0, K).
        labels: the class of each image, ints in [0, C).

    Returns:
        the error in [0, 1].
    """
    counts = code_class_counts(codes, labels)
    return 1.0 - counts.max(axis=1).sum() / counts.sum()


def code_class_counts(codes, labels, shape=None):
    """The code value x class table of counts that both code errors read.

    Args:
        codes: the code value of each image, ints in [0, K).
        labels: the class of each image, ints in [0, C).
        shape: (K, C) of the table; None: (largest code + 1, largest class + 1).
    """
    codes, labels = np.asarray(codes, dtype=int), np.asarray(labels, dtype=int)
    if codes.shape != labels.shape or not codes.size:
        raise ValueError(f"codes and labels must be non-empty and of one shape, got {codes.shape} and {labels.shape}.")
    counts = np.zeros(shape or (codes.max() + 1, labels.max() + 1), dtype=int)
    np.add.at(counts, (codes, labels), 1)
    return counts
