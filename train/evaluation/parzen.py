"""Gaussian Parzen-window log-likelihood, as Goodfellow et al. (2014) measured their GANs on MNIST.

The estimate follows their code (goodfeli/adversarial, parzen_ll.py) step by step:

- the generated samples mu (N x D, flattened, values in [0, 1]) are the centres of a mixture of N
  isotropic Gaussians of standard deviation sigma, so a point x has the log-likelihood

      log_mean_exp_i(-0.5 * ||(x - mu_i) / sigma||^2) - D * log(sigma * sqrt(2 pi));

- sigma is the one of ``numpy.logspace(-1, 0, 10)`` with the highest mean log-likelihood on a
  validation set (MNIST: the first 1,000 images of train[50000:60000]);
- the figure is the mean log-likelihood of the test set (MNIST: all 10,000 test images), reported
  with its standard error std / sqrt(N_test) (numpy's std, ddof=0, as theirs).

Defaults: 10,000 generated samples (conditional generators: balanced over the classes, 1,000 per
class for MNIST, pooled as Mirza & Osindero did). The real data's own value beside it takes the
first 10,000 train images as the "samples".

Numerically: float64 throughout; squared distances as ||x||^2 + ||mu||^2 - 2 x.mu^T, one block of
points at a time (memory stays at a block of `batch_size` x N); during cross-validation each
block's distances are computed once and reused for every sigma; log-mean-exp subtracts the row
maximum (which is -min distance / 2 sigma^2) before exponentiating.

    from train.evaluation import parzen
    result = parzen.parzen_evaluation(samples, validation, test)   # arrays in [0, 1]
    report = parzen.evaluate_parzen("saved_models/run", dataset="/path/to/mnist")
"""

import math
import time

import numpy as np

from train import progress
from train.evaluation.evaluator import EvaluationError, resolve_source

DEFAULT_SAMPLES = 10_000
DEFAULT_BATCH_SIZE = 500
VALIDATION_START, VALIDATION_STOP, VALIDATION_SIZE = 50_000, 60_000, 1_000
BASELINE_SAMPLES = 10_000
IMAGE_SHAPE = (28, 28, 1)


def default_sigmas():
    """The bandwidths Goodfellow et al. cross-validate: numpy.logspace(-1, 0, 10), 0.1 .. 1."""
    return np.logspace(-1, 0, 10)


# ------------------------------------------------------------------------------------------ estimation


def parzen_log_likelihood(samples, points, sigma, batch_size=DEFAULT_BATCH_SIZE, bar=None):
    """The Parzen-window log-likelihood of each of `points` under Gaussians of width `sigma` at `samples`.

    Args:
        samples: the kernel centres mu, (N, ...) flattened to (N, D).
        points: the points x to score, (M, ...) flattened to (M, D).
        sigma: the kernels' standard deviation (> 0).
        batch_size: points per block of squared distances (memory: batch_size x N float64).
        bar: None, or a progress bar (`train.progress.progress_bar`) whose `add(n)` counts the points done.

    Returns float64 (M,): log mean_i exp(-||x - mu_i||^2 / (2 sigma^2)) - D log(sigma sqrt(2 pi)).
    """
    return _log_likelihoods(samples, points, [sigma], batch_size, bar)[0]


def cross_validate_sigma(samples, validation, sigmas=None, batch_size=DEFAULT_BATCH_SIZE, bar=None):
    """(best sigma, {sigma: mean validation log-likelihood}): the bandwidth that fits `validation` best.

    Args:
        samples: the kernel centres, (N, ...).
        validation: the points that choose sigma, (M, ...).
        sigmas: the candidates (default `default_sigmas()`); the first of equal best scores wins
            (numpy.argmax, as parzen_ll.py).
        batch_size, bar: as `parzen_log_likelihood`.
    """
    sigmas = _sigmas(sigmas)
    scores = _log_likelihoods(samples, validation, sigmas, batch_size, bar).mean(axis=1)
    best = float(sigmas[int(np.argmax(scores))])
    return best, {float(s): float(score) for s, score in zip(sigmas, scores)}


def standard_error(log_likelihoods):
    """std / sqrt(N) of per-point log-likelihoods (numpy's std, ddof=0, as parzen_ll.py)."""
    values = np.asarray(log_likelihoods, dtype=np.float64)
    return float(values.std() / math.sqrt(len(values)))


def parzen_evaluation(samples, validation, test, sigmas=None, batch_size=DEFAULT_BATCH_SIZE, verbose=False):
    """Cross-validate sigma on `validation`, then the mean test log-likelihood and its standard error.

    Args:
        samples: the kernel centres (generated samples, values in [0, 1]), (N, ...).
        validation: the points that choose sigma.
        test: the points whose mean log-likelihood is reported.
        sigmas: the candidate bandwidths (default `default_sigmas()`).
        batch_size: as `parzen_log_likelihood`.
        verbose: show a progress bar over the validation and test points (`train.progress.progress_bar`).

    Returns a dict: mean, std_error, sigma, sigma_scores ({sigma: mean validation log-likelihood}),
    num_samples, num_test, protocol (one line).
    """
    sigmas = _sigmas(sigmas)
    bar = progress.progress_bar(len(validation) + len(test), verbose, unit_name="point") if verbose else None
    sigma, scores = cross_validate_sigma(samples, validation, sigmas, batch_size, bar)
    values = parzen_log_likelihood(samples, test, sigma, batch_size, bar)
    return {
        "mean": float(values.mean()),
        "std_error": standard_error(values),
        "sigma": sigma,
        "sigma_scores": scores,
        "num_samples": int(len(samples)),
        "num_test": int(len(values)),
        "protocol": (
            f"Gaussian Parzen window (Goodfellow et al. 2014, parzen_ll.py) centred on {len(samples)} samples; "
            f"sigma from {len(sigmas)} values {sigmas[0]:g}..{sigmas[-1]:g} (logspace) by the mean log-likelihood "
            f"of {len(validation)} validation points; mean log-likelihood of {len(values)} test points "
            "+- std/sqrt(N)"
        ),
    }


def _sigmas(sigmas):
    sigmas = default_sigmas() if sigmas is None else np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    if sigmas.ndim != 1 or not len(sigmas) or not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ValueError(f"sigmas must be positive finite numbers, got {sigmas!r}.")
    return sigmas


def _flat(name, values):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 1 or len(values) == 0:
        raise ValueError(f"{name} is empty.")
    return values.reshape(len(values), -1)


def _log_likelihoods(samples, points, sigmas, batch_size, bar=None):
    """float64 (len(sigmas), M): every point's log-likelihood under each sigma, distances computed once per block."""
    mu, x = _flat("samples", samples), _flat("points", points)
    if mu.shape[1] != x.shape[1]:
        raise ValueError(f"samples have {mu.shape[1]} values each, points {x.shape[1]}.")
    sigmas = _sigmas(sigmas)
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    n, dim = mu.shape
    # log of the normalising constant and of the mean's 1/N, per sigma
    offsets = -dim * np.log(sigmas * math.sqrt(2 * math.pi)) - math.log(n)
    mu_sq = np.einsum("ij,ij->i", mu, mu)
    result = np.empty((len(sigmas), len(x)))
    work = None
    for start in range(0, len(x), batch_size):
        block = x[start : start + batch_size]
        distances = block @ mu.T  # (b, N)
        distances *= -2.0
        distances += np.einsum("ij,ij->i", block, block)[:, None]
        distances += mu_sq[None, :]
        np.maximum(distances, 0.0, out=distances)
        nearest = distances.min(axis=1)
        distances -= nearest[:, None]  # >= 0; the row maximum of the exponent becomes 0
        if work is None or work.shape != distances.shape:
            work = np.empty_like(distances)
        for k, sigma in enumerate(sigmas):
            scale = -0.5 / (sigma * sigma)
            np.multiply(distances, scale, out=work)
            np.exp(work, out=work)
            result[k, start : start + len(block)] = nearest * scale + np.log(work.sum(axis=1)) + offsets[k]
        if bar is not None:
            bar.add(len(block))
    return result


# ------------------------------------------------------------------------------------------ a generator


def to_unit_range(samples, value_range=(-1.0, 1.0)):
    """float64 samples mapped from `value_range` to [0, 1] and clipped there.

    Args:
        samples: the generator's output.
        value_range: (low, high) the samples span: (-1, 1) maps by (x + 1) / 2, (0, 1) stays;
            None (an unbounded output) is taken as the data's [-1, 1].
    """
    low, high = value_range if value_range is not None else (-1.0, 1.0)
    samples = np.asarray(samples, dtype=np.float64)
    return np.clip((samples - low) / (high - low), 0.0, 1.0)


def sampler_value_range(sampler):
    """(low, high) of a sampler's outputs: its `value_range`, else its Keras generator's output activation.

    None when neither says (an unbounded output); `to_unit_range` then assumes the data's [-1, 1].
    """
    if hasattr(sampler, "value_range"):
        value = sampler.value_range
        return None if value is None else (float(value[0]), float(value[1]))
    generator = getattr(sampler, "generator", None)
    if generator is not None and hasattr(generator, "layers"):
        from zoo.checks import output_range

        return output_range(generator)
    return None


def evaluate_parzen(
    source, dataset=None, n=DEFAULT_SAMPLES, seed=0, baseline=True, verbose=True, data_dir=None, description=None,
):
    """Goodfellow et al.'s Parzen-window figure for a generator of 28x28 grey images (MNIST), as a report dict.

    Args:
        source: a sampler (anything with `generate(n, labels=None, seed=...)` and `data_shape`), a
            `sources.Source`, or a path `sources.load_source` reads (run folder, .keras, .onnx).
        dataset: the dataset (a name or MNIST IDX folder); default the source's own.
        n: generated samples (None: 10,000); a conditional generator's are balanced over the classes.
        seed: the noise seed.
        baseline: also measure real data: the first 10,000 train images as the samples.
        verbose: print each phase, a progress bar over the Parzen window's points, and the report.
        data_dir: tensorflow-datasets data directory; default the run's.
        description: how the report names the source.

    Returns a dict: source, dataset, kind ("parzen"), protocol, num_samples, seed, generated
    (`parzen_evaluation`'s dict), baseline (the same for real data, with a description), seconds.

    Raises EvaluationError for a dataset or generator that is not 28x28x1 images, or a train split
    too short for the validation images (train[50000:51000]).
    """
    source, dataset, data_dir = resolve_source(source, dataset, data_dir, description)
    sampler = source.sampler
    n = DEFAULT_SAMPLES if n is None else int(n)
    if n < 1:
        raise EvaluationError(f"the Parzen window needs at least one generated sample, got n={n}.")
    from train import datasets

    start = time.time()
    if datasets.is_toy(dataset):
        raise EvaluationError(
            f"the Parzen-window log-likelihood is MNIST's protocol (28x28 grey images); {dataset} is a toy set."
        )
    if tuple(sampler.data_shape) != IMAGE_SHAPE:
        raise EvaluationError(
            "the Parzen-window log-likelihood is MNIST's protocol (28x28 grey images); the generator makes "
            f"samples of shape {tuple(sampler.data_shape)}."
        )
    progress.phase(f"Loading {dataset} (train and test splits)", verbose)
    train = datasets.load_arrays(dataset, split="train", data_dir=data_dir)
    if train.x.shape[1:] != IMAGE_SHAPE:
        raise EvaluationError(
            f"the Parzen-window log-likelihood is MNIST's protocol (28x28 grey images); {dataset} holds "
            f"samples of shape {train.x.shape[1:]}."
        )
    if len(train.x) < VALIDATION_START + VALIDATION_SIZE:
        raise EvaluationError(
            f"the Parzen protocol takes its validation images from train[{VALIDATION_START}:{VALIDATION_STOP}]; "
            f"{dataset}'s train split holds only {len(train.x):,} images."
        )
    test = datasets.load_arrays(dataset, split="test", data_dir=data_dir)
    # datasets give [-1, 1]; the protocol works on pixels in [0, 1] (pylearn2's MNIST, x / 255)
    validation = to_unit_range(train.x[VALIDATION_START:VALIDATION_STOP][:VALIDATION_SIZE])
    test_x = to_unit_range(test.x)

    labels = None
    if sampler.conditional:
        num_classes = train.num_classes
        if num_classes is not None and sampler.num_classes != num_classes:
            raise EvaluationError(f"the generator has {sampler.num_classes} classes, {dataset} has {num_classes}.")
        labels = (np.arange(n) % sampler.num_classes).astype("int32")  # balanced requests, pooled
    value_range = sampler_value_range(sampler)
    progress.phase(f"Generating {n:,} images (noise seed {seed})", verbose)
    generated = to_unit_range(sampler.generate(n, labels=labels, seed=seed), value_range)
    range_text = "[-1, 1] (unbounded output: assumed)" if value_range is None else "[{:g}, {:g}]".format(*value_range)
    report = {
        "source": description or source.description,
        "dataset": str(dataset),
        "kind": "parzen",
        "protocol": (
            f"Gaussian Parzen window (Goodfellow et al. 2014, parzen_ll.py): {n} generated images (noise seed "
            f"{seed}{', labels balanced over classes and pooled' if labels is not None else ''}), mapped from "
            f"{range_text} to [0, 1] and clipped; sigma from numpy.logspace(-1, 0, 10) by the mean log-likelihood "
            f"of train[{VALIDATION_START}:{VALIDATION_STOP}][:{VALIDATION_SIZE}]; mean log-likelihood of all "
            f"{len(test_x)} test images +- std/sqrt(N)"
        ),
        "num_samples": n,
        "seed": int(seed),
        "generated": None,
    }
    steps = f"sigma on {len(validation):,} validation images, then the {len(test_x):,} test images"
    progress.phase(f"Parzen window on the {n:,} generated images: {steps}", verbose)
    report["generated"] = parzen_evaluation(generated, validation, test_x, verbose=verbose)
    if baseline:
        real_x = to_unit_range(train.x[:BASELINE_SAMPLES])
        progress.phase(f"Parzen window on {len(real_x):,} real train images (the baseline): {steps}", verbose)
        real = parzen_evaluation(real_x, validation, test_x, verbose=verbose)
        real["description"] = f"the first {min(BASELINE_SAMPLES, len(train.x))} real train images as the samples"
        report["baseline"] = real
    report["seconds"] = round(time.time() - start, 1)
    if verbose:
        print(format_parzen_report(report), flush=True)
    return report


def format_parzen_report(report):
    """Plain text: the generated figure beside the real-data baseline, with each sigma."""
    lines = [f"{report['source']} on {report['dataset']}", f"protocol: {report['protocol']}"]
    lines.append(f"{'':<24}{'log-likelihood':>16}{'std error':>12}{'sigma':>10}")
    rows = [("generated", report["generated"])]
    if "baseline" in report:
        rows.append(("real baseline", report["baseline"]))
    for name, result in rows:
        lines.append(f"{name:<24}{result['mean']:>16.2f}{result['std_error']:>12.2f}{result['sigma']:>10.4f}")
    if "baseline" in report:
        lines.append(f"(real baseline: {report['baseline']['description']})")
    return "\n".join(lines)
