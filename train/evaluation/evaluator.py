"""`evaluate(source, dataset)`: how well a generator covers a dataset, as a JSON-able report.

The dataset decides the metrics:

- ``ring8`` / ``grid25``: PacGAN's protocol (`train.evaluation.metrics.mode_coverage`) on 2,500 samples;
- ``gaussian1d``: mean, std and Kolmogorov-Smirnov statistic against N(1, 1);
- image datasets: the cached evaluation classifier (`train.evaluation.classifier`) gives the
  classifier score, Frechet distance to the real test split, the predicted-class histogram's KL to
  the test labels', classes covered and, for conditional generators, the accuracy of the requested
  labels. Optionally (`inception=True`) FID / KID with InceptionV3 ImageNet features where they
  can be loaded.

Every report holds a `baseline`: the same metrics for real data (a train-split sample of the same
size), so each generated number has its real-data reference beside it.
"""

import os
import time

import numpy as np

from train import progress
from train.evaluation import inception as inception_lib
from train.evaluation import metrics, report as report_lib, sources

DEFAULT_TOY_SAMPLES = metrics.PACGAN_NUM_SAMPLES
DEFAULT_IMAGE_SAMPLES = 10_000


class EvaluationError(ValueError):
    """The generator and the dataset do not fit together (bad input): one line from the CLI."""


# ------------------------------------------------------------------------------------------- evaluation


def resolve_source(source, dataset=None, data_dir=None, description=None):
    """(`sources.Source`, dataset, data_dir) for what an evaluation was given: a path is loaded, a sampler
    wrapped; the dataset and data_dir default to the source's own (its run or metadata).

    Raises EvaluationError when neither the caller nor the source names a dataset.
    """
    if isinstance(source, (str, os.PathLike)):
        source = sources.load_source(source)
    elif not isinstance(source, sources.Source):
        source = sources.Source(source, description or type(source).__name__)
    dataset = dataset or source.config.get("dataset")
    if not dataset:
        raise EvaluationError("no dataset given and the source does not name one; pass --dataset.")
    return source, dataset, data_dir or source.config.get("data_dir")


def evaluate(
    source,
    dataset=None,
    n=None,
    seed=0,
    data_dir=None,
    baseline=True,
    inception=False,
    classifier_epochs=3,
    verbose=True,
    description=None,
):
    """Evaluate a generator on `dataset`; returns a report dict (see `report.to_json`, `report.format_report`).

    Args:
        source: a sampler (`zoo.GAN`, `export.GeneratorSession`, or anything with the
            `export.sampling.Sampler` protocol), or a path that `sources.load_source` reads: a run
            folder, a .keras file or an .onnx file.
        dataset: the dataset to compare with; default the source's own (its run or metadata).
        n: generated samples (default 2,500 for toy sets as PacGAN, 10,000 for images).
        seed: the noise seed of the generated samples.
        data_dir: tensorflow-datasets data directory; default the run's.
        baseline: also measure real data the same way.
        inception: also compute FID / KID with InceptionV3 (needs ImageNet weights).
        classifier_epochs: the evaluation classifier's training budget when it is not cached yet.
        verbose: print each phase of an image evaluation, the classifier's provenance and the report.
        description: how the report names the source; default from the source.
    """
    source, dataset, data_dir = resolve_source(source, dataset, data_dir, description)
    sampler = source.sampler
    from train import datasets

    start = time.time()
    if datasets.is_toy(dataset):
        report = _evaluate_toy(sampler, str(dataset), n or DEFAULT_TOY_SAMPLES, seed, baseline)
    else:
        report = _evaluate_images(
            sampler, dataset, n or DEFAULT_IMAGE_SAMPLES, seed, data_dir, baseline, inception, classifier_epochs,
            verbose,
        )
    report = {"source": description or source.description, "dataset": str(dataset), **report}
    report["seconds"] = round(time.time() - start, 1)
    if verbose:
        print(report_lib.format_report(report), flush=True)
    return report


def _evaluate_toy(sampler, dataset, n, seed, baseline):
    from train import datasets

    if sampler.conditional:
        raise EvaluationError(f"{dataset} has no classes; the generator is conditional.")
    modes, std = datasets.toy_modes(dataset)
    if tuple(sampler.data_shape) != modes.shape[1:]:
        raise EvaluationError(
            f"the generator makes samples of shape {tuple(sampler.data_shape)}, {dataset} has {modes.shape[1:]}."
        )
    samples = sampler.generate(n, seed=seed)
    real = datasets.load_arrays(dataset, split="test").x[:n]
    if dataset == "gaussian1d":
        target_mean, target_std = float(modes[0, 0]), float(std)
        measure = lambda x: metrics.gaussian_fit(x, target_mean, target_std)  # noqa: E731
        protocol = f"{n} samples (noise seed {seed}) against N({target_mean:g}, {target_std:g}^2); KS = scipy.stats.kstest"
        kind = "gaussian1d"
    else:
        measure = lambda x: metrics.mode_coverage(x, modes, std)  # noqa: E731
        protocol = (
            f"PacGAN (Lin et al. 2018): {n} samples (noise seed {seed}); high quality = within "
            f"{metrics.PACGAN_STD_THRESHOLD:g} std ({metrics.PACGAN_STD_THRESHOLD * std:g}) of the nearest mode; "
            "a mode is captured with >= 1 high-quality sample; mode_kl = KL(histogram of high-quality samples "
            "over modes || uniform)"
        )
        kind = "modes"
    report = {"kind": kind, "protocol": protocol, "num_samples": int(n), "seed": int(seed), "generated": measure(samples)}
    if baseline:
        report["baseline"] = {"description": f"{len(real)} points of the real test split", **measure(real)}
    return report


def _evaluate_images(sampler, dataset, n, seed, data_dir, baseline, inception, classifier_epochs, verbose):
    from train import datasets
    from train.evaluation import classifier as classifiers

    if len(sampler.data_shape) != 3:
        raise EvaluationError(f"{dataset} holds images; the generator makes samples of shape {sampler.data_shape}.")
    height, width = sampler.data_shape[:2]
    image_size = height if height == width else None  # the data is resized to square generators' size
    progress.phase(f"Loading {dataset} (train and test splits)", verbose)
    train = datasets.load_arrays(dataset, split="train", image_size=image_size, data_dir=data_dir)
    test = datasets.load_arrays(dataset, split="test", image_size=image_size, data_dir=data_dir)
    if train.x.shape[1:] != tuple(sampler.data_shape):
        raise EvaluationError(f"the generator makes {sampler.data_shape} images, {dataset} has {train.x.shape[1:]}.")
    classifier = classifiers.load_or_train(
        dataset, image_size=image_size, data_dir=data_dir, epochs=classifier_epochs, verbose=verbose,
        train=train, test=test,
    )
    num_classes = classifier.num_classes
    progress.phase(f"Classifying the {len(test.x):,} real test images (the Frechet distance's reference)", verbose)
    test_features, _ = classifier.outputs(test.x)
    test_stats = metrics.statistics(test_features)
    reference = metrics.class_histogram(test.y, num_classes)

    def measure(images, requested=None):
        features, probabilities = classifier.outputs(images)
        predicted = probabilities.argmax(axis=1)
        result = {
            "classifier_score": metrics.classifier_score(probabilities),
            "frechet_distance": metrics.frechet_distance(*metrics.statistics(features), *test_stats),
            "class_kl": metrics.class_histogram_kl(predicted, reference),
            "classes_covered": metrics.classes_covered(predicted, reference),
            "class_histogram": metrics.class_histogram(predicted, num_classes).round(4).tolist(),
        }
        if requested is not None:
            result["conditional_accuracy"] = metrics.conditional_accuracy(predicted, requested)
        return result

    labels = None
    if sampler.conditional:
        if sampler.num_classes != num_classes:
            raise EvaluationError(f"the generator has {sampler.num_classes} classes, {dataset} has {num_classes}.")
        labels = (np.arange(n) % num_classes).astype("int32")  # balanced requests
    progress.phase(f"Generating {n:,} images (noise seed {seed})", verbose)
    generated_images = sampler.generate(n, labels=labels, seed=seed)
    progress.phase(f"Classifying the {n:,} generated images", verbose)
    report = {
        "kind": "images",
        "protocol": (
            f"{n} generated images (noise seed {seed}{', labels balanced over classes' if labels is not None else ''}); "
            f"features and predictions of the evaluation classifier (test accuracy "
            f"{100 * classifier.test_accuracy:.2f}%); Frechet distance against all {len(test.x)} real test images "
            "(128-d features, float64); class_kl = KL(predicted-class histogram || test label histogram); "
            "a class is covered with >= 10% of its test frequency"
        ),
        "num_samples": int(n),
        "seed": int(seed),
        "classifier": {k: v for k, v in classifier.info.items() if k != "class_names"},
        "generated": measure(generated_images, labels),
    }
    if baseline:
        rng = np.random.default_rng(seed)
        subset = rng.choice(len(train.x), size=min(n, len(train.x)), replace=False)
        progress.phase(f"Classifying {len(subset):,} real train images (the real-data baseline)", verbose)
        real = measure(train.x[subset], train.y[subset])
        real["description"] = f"{len(subset)} real train images against the test split"
        real["conditional_accuracy_description"] = "classifier accuracy on these train images"
        report["baseline"] = real
    progress.phase("FID and KID with InceptionV3", verbose and inception)
    report["inception"] = (
        inception_lib.inception_metrics(train.x[: min(n, len(train.x))], generated_images, test.x)
        if inception
        else {"status": "not requested (pass inception=True / --inception for FID and KID)"}
    )
    report["generated_images"] = generated_images  # dropped by to_json; for sample grids
    return report
