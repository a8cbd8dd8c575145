"""`evaluate(source, dataset)`: how well a trained generator covers a dataset, as a JSON-able report.

SOURCE is a run folder (config.json + gan.keras / generator.keras), a `.keras` file (a whole GAN or a
generator alone) or an exported `.onnx` generator. The dataset decides the metrics:

- ``ring8`` / ``grid25``: PacGAN's protocol (`train.metrics.mode_coverage`) on 2,500 samples;
- ``gaussian1d``: mean, std and Kolmogorov-Smirnov statistic against N(1, 1);
- image datasets: the cached evaluation classifier (`train.classifier`) gives the classifier score,
  Frechet distance to the real test split, the predicted-class histogram's KL to the test labels',
  classes covered and, for conditional generators, the accuracy of the requested labels.
  Optionally (`inception=True`) FID / KID with InceptionV3 ImageNet features where they can be loaded.

Every report holds a `baseline`: the same metrics for real data (a train-split sample of the same
size), so each generated number has its real-data reference beside it.
"""

import json
import pathlib
import socket
import time

import numpy as np

from train import metrics

DEFAULT_TOY_SAMPLES = metrics.PACGAN_NUM_SAMPLES
DEFAULT_IMAGE_SAMPLES = 10_000


# ------------------------------------------------------------------------------------------- sources


class Sampler:
    """A generator behind one interface: `sampler(n, labels=None, seed=0)` -> float32 numpy samples."""

    def __init__(self, generate, latent_dim, num_classes, data_shape, description, config=None):
        self._generate = generate
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.data_shape = tuple(data_shape)
        self.description = description
        self.config = config or {}

    @property
    def conditional(self):
        return self.num_classes is not None

    def __call__(self, n, labels=None, seed=0):
        return np.asarray(self._generate(int(n), labels, seed), dtype="float32")


def _noise(n, latent_dim, prior, seed):
    rng = np.random.default_rng(seed)
    if prior == "normal":
        return rng.standard_normal((n, latent_dim)).astype("float32")
    return rng.uniform(-1.0, 1.0, (n, latent_dim)).astype("float32")


def _keras_sampler(path, config):
    import keras
    from keras import ops

    import zoo  # noqa: F401 - registers the GAN and its layers for deserialisation

    model = keras.models.load_model(path, compile=False)
    if isinstance(model, zoo.GAN):
        gan = model
        return Sampler(
            lambda n, labels, seed: gan.generate(n, labels=labels, seed=seed),
            gan.latent_dim, gan.num_classes, gan.data_shape, f"GAN {path}", config,
        )
    generator = model
    conditional = len(generator.inputs) == 2
    num_classes = config.get("options", {}).get("num_classes") if conditional else None
    if conditional and num_classes is None:
        num_classes = len(config.get("class_names") or []) or None
    if conditional and num_classes is None:
        raise ValueError(f"{path} is a conditional generator but its class count is unknown (no config.json).")
    prior = config.get("options", {}).get("prior", "uniform")
    latent_dim = int(generator.inputs[0].shape[-1])

    def generate(n, labels, seed):
        z = _noise(n, latent_dim, prior, seed)
        chunks = []
        for start in range(0, n, 1024):
            inputs = z[start : start + 1024]
            if conditional:
                inputs = [ops.convert_to_tensor(inputs), ops.convert_to_tensor(labels[start : start + 1024])]
            chunks.append(ops.convert_to_numpy(generator(inputs, training=False)))
        return np.concatenate(chunks)

    shape = tuple(int(d) for d in generator.outputs[0].shape[1:])
    return Sampler(generate, latent_dim, num_classes, shape, f"generator {path} ({prior} prior)", config)


def _onnx_sampler(path):
    from export.runtime import GeneratorSession

    session = GeneratorSession(str(path))

    def generate(n, labels, seed):
        z = session.sample_noise(n, seed)
        chunks = []
        for start in range(0, n, 1024):
            chunk_labels = None if labels is None else np.asarray(labels[start : start + 1024], dtype="int32")
            chunks.append(session(z[start : start + 1024], chunk_labels))
        return np.concatenate(chunks)

    config = {"dataset": session.metadata.get("dataset"), **dict(session.metadata)}
    return Sampler(generate, session.latent_dim, session.num_classes, session.image_shape, f"ONNX {path}", config)


def load_source(source):
    """A `Sampler` for a run folder, a .keras file (GAN or generator) or an .onnx file."""
    path = pathlib.Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{source} does not exist (expected a run folder, .keras or .onnx file).")
    if path.is_dir():
        config = _read_config(path)
        for name in ("gan.keras", "generator.keras"):
            if (path / name).exists():
                return _keras_sampler(path / name, config)
        raise FileNotFoundError(f"{source} holds neither gan.keras nor generator.keras.")
    if path.suffix == ".keras":
        return _keras_sampler(path, _read_config(path.parent))
    if path.suffix == ".onnx":
        return _onnx_sampler(path)
    raise ValueError(f"cannot evaluate {source}: expected a run folder, a .keras file or an .onnx file.")


def _read_config(folder):
    config_path = pathlib.Path(folder) / "config.json"
    return json.loads(config_path.read_text()) if config_path.exists() else {}


# ------------------------------------------------------------------------------------------- evaluation


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
):
    """Evaluate a generator (a `Sampler` or a path, see `load_source`) on `dataset`; returns a report dict.

    `dataset` defaults to the run folder's own. `n` generated samples (default 2,500 for toy sets as
    PacGAN, 10,000 for images), drawn with noise `seed`.
    """
    sampler = source if isinstance(source, Sampler) else load_source(source)
    dataset = dataset or sampler.config.get("dataset")
    if not dataset:
        raise ValueError("no dataset given and the source does not name one; pass --dataset.")
    data_dir = data_dir or sampler.config.get("data_dir")
    from train import datasets

    start = time.time()
    if datasets.is_toy(dataset):
        report = _evaluate_toy(sampler, str(dataset), n or DEFAULT_TOY_SAMPLES, seed, baseline)
    else:
        report = _evaluate_images(
            sampler, dataset, n or DEFAULT_IMAGE_SAMPLES, seed, data_dir, baseline, inception, classifier_epochs,
            verbose,
        )
    report = {"source": sampler.description, "dataset": str(dataset), **report}
    report["seconds"] = round(time.time() - start, 1)
    if verbose:
        print(format_report(report), flush=True)
    return report


def _evaluate_toy(sampler, dataset, n, seed, baseline):
    from train import datasets

    if sampler.conditional:
        raise ValueError(f"{dataset} has no classes; the generator is conditional.")
    modes, std = datasets.toy_modes(dataset)
    if sampler.data_shape != modes.shape[1:]:
        raise ValueError(f"the generator makes samples of shape {sampler.data_shape}, {dataset} has {modes.shape[1:]}.")
    samples = sampler(n, seed=seed)
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
    from train import classifier as classifiers
    from train import datasets

    if len(sampler.data_shape) != 3:
        raise ValueError(f"{dataset} holds images; the generator makes samples of shape {sampler.data_shape}.")
    height, width = sampler.data_shape[:2]
    image_size = height if height == width else None  # the data is resized to square generators' size
    train = datasets.load_arrays(dataset, split="train", image_size=image_size, data_dir=data_dir)
    test = datasets.load_arrays(dataset, split="test", image_size=image_size, data_dir=data_dir)
    if train.x.shape[1:] != sampler.data_shape:
        raise ValueError(f"the generator makes {sampler.data_shape} images, {dataset} has {train.x.shape[1:]}.")
    classifier = classifiers.load_or_train(
        dataset, image_size=image_size, data_dir=data_dir, epochs=classifier_epochs, verbose=verbose,
        train=train, test=test,
    )
    num_classes = classifier.num_classes
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
            raise ValueError(f"the generator has {sampler.num_classes} classes, {dataset} has {num_classes}.")
        labels = (np.arange(n) % num_classes).astype("int32")  # balanced requests
    generated_images = sampler(n, labels=labels, seed=seed)
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
        real = measure(train.x[subset], train.y[subset])
        real["description"] = f"{len(subset)} real train images against the test split"
        real["conditional_accuracy_description"] = "classifier accuracy on these train images"
        report["baseline"] = real
    report["inception"] = (
        inception_metrics(train.x[: min(n, len(train.x))], generated_images, test.x)
        if inception
        else {"status": "not requested (pass inception=True / --inception for FID and KID)"}
    )
    report["generated_images"] = generated_images  # dropped by to_json; for sample grids
    return report


# ------------------------------------------------------------------------------------------- InceptionV3


def load_inception(timeout=10.0):
    """InceptionV3 (ImageNet, no top, average pooled 2048-d), or raise RuntimeError saying why not."""
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # keras' download would otherwise wait on a dead network
    try:
        return keras.applications.InceptionV3(include_top=False, pooling="avg", weights="imagenet")
    except Exception as error:  # noqa: BLE001 - any failure means "unavailable", with its reason
        raise RuntimeError(
            "InceptionV3 ImageNet weights could not be loaded (they are downloaded once from "
            f"storage.googleapis.com into ~/.keras/models; offline that fails): {type(error).__name__}: {error}"
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def inception_features(model, images, batch_size=100):
    """2048-d pool features of images in [-1, 1], resized to 299x299 RGB (Inception's own input range)."""
    import tensorflow as tf

    features = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[start : start + batch_size])
        if batch.shape[-1] == 1:
            batch = tf.image.grayscale_to_rgb(batch)
        batch = tf.image.resize(batch, (299, 299), method="bilinear")
        features.append(np.asarray(model(batch, training=False), dtype="float64"))
    return np.concatenate(features)


def inception_metrics(real_train, generated, real_test):
    """FID and KID of generated (and, as baseline, real train) images against the test split."""
    try:
        model = load_inception()
    except RuntimeError as error:
        return {"status": "unavailable", "reason": str(error)}
    test = inception_features(model, real_test)
    result = {"status": "ok", "reference": f"{len(real_test)} real test images, InceptionV3 pool3 features"}
    for name, images in (("generated", generated), ("baseline", real_train)):
        features = inception_features(model, images)
        kid_mean, kid_std = metrics.kernel_inception_distance(features, test)
        result[name] = {"fid": metrics.frechet_distance_of(features, test), "kid": kid_mean, "kid_std": kid_std}
    return result


# ------------------------------------------------------------------------------------------- output


def to_json(report):
    """The report without its arrays, ready for json.dump."""
    return {k: v for k, v in report.items() if k != "generated_images"}


def format_report(report):
    """A plain-text table: each metric, generated beside the real-data baseline."""
    generated, baseline = report["generated"], report.get("baseline", {})
    lines = [f"{report['source']} on {report['dataset']}", f"protocol: {report['protocol']}"]
    keys = {
        "modes": ["modes_captured", "high_quality", "mode_kl"],
        "gaussian1d": ["mean", "std", "ks"],
        "images": ["classifier_score", "frechet_distance", "class_kl", "classes_covered", "conditional_accuracy"],
    }[report["kind"]]
    lines.append(f"{'metric':<22}{'generated':>12}{'real baseline':>16}")
    for key in keys:
        if key not in generated:
            continue
        lines.append(f"{key:<22}{_fmt(generated[key]):>12}{_fmt(baseline.get(key)):>16}")
    if report["kind"] == "modes":
        lines.append(f"(out of {generated['num_modes']} modes; high_quality in % of samples)")
    inception = report.get("inception")
    if inception:
        if inception.get("status") == "ok":
            for key in ("fid", "kid"):
                lines.append(
                    f"{key:<22}{_fmt(inception['generated'][key]):>12}{_fmt(inception['baseline'][key]):>16}"
                )
        else:
            lines.append(f"FID/KID: {inception['status']}" + (f": {inception['reason']}" if "reason" in inception else ""))
    return "\n".join(lines)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"
