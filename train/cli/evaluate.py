"""`ganzoo evaluate SOURCE --dataset NAME|PATH [--n N] [--json FILE] [--parzen]`: metrics beside a real-data baseline.

With --parzen it reports Goodfellow et al.'s Parzen-window log-likelihood instead of the classifier
metrics (`train.evaluation.parzen`).

TensorFlow is imported inside the handler only (see train/cli/__init__.py).
"""

import pathlib

from train import files

from train.cli import values
from train.cli.errors import UsageError, usage_errors
from train.cli.quiet import import_tensorflow

# The generated samples are held in memory (with their features): --n has a ceiling.
MAX_SAMPLES = 100_000


def register(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a generator: mode coverage (toy sets) or classifier metrics (images)",
        description=(
            "Evaluate a run folder, .keras file or .onnx generator. Toy sets (ring8, grid25) use PacGAN's "
            "protocol; gaussian1d reports mean, std and KS against N(1, 1); image datasets use a small "
            "classifier trained once on the train split and cached (classifier score, Frechet distance to "
            "the test split, class-histogram KL, classes covered, conditional accuracy), each beside the "
            "same metric for real data. --parzen reports instead Goodfellow et al. (2014)'s Gaussian "
            "Parzen-window log-likelihood of the MNIST test set (28x28 grey images only)."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="run folder, .keras (GAN or generator) or .onnx file")
    parser.add_argument("--dataset", help="dataset name or IDX folder (default: the run folder's own)")
    parser.add_argument("--n", type=values.integer(2, MAX_SAMPLES),
                        help=f"generated samples, 2..{MAX_SAMPLES:,} (default 2500 for toy sets, 10000 for images)")
    parser.add_argument("--seed", type=values.integer(0), default=0, help="noise seed (default 0)")
    parser.add_argument("--data-dir", help="tensorflow-datasets data_dir")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--no-baseline", action="store_true", help="skip the real-data baseline")
    parser.add_argument(
        "--inception", action="store_true", help="also compute FID/KID with InceptionV3 (needs ImageNet weights)"
    )
    parser.add_argument(
        "--parzen",
        action="store_true",
        help=(
            "report the Gaussian Parzen-window log-likelihood of the test set instead of the classifier metrics "
            "(Goodfellow et al. 2014's protocol: sigma cross-validated on train[50000:51000] from logspace(-1, 0, "
            "10), mean +- std error over the 10,000 test images; the real baseline uses train[0:10000]); "
            "28x28 single-channel image datasets (MNIST) only"
        ),
    )
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args):
    if not pathlib.Path(args.source).exists():
        raise UsageError(f"{args.source} does not exist (expected a run folder, .keras or .onnx file).")
    if args.parzen and args.inception:
        raise UsageError("--inception adds FID/KID to the classifier metrics; --parzen replaces those, so not both.")
    if args.json:
        files.check_writable(args.json)  # before the evaluation, not after it
    import_tensorflow()
    from train.datasets import DatasetError
    from train.evaluation import EvaluationError, evaluate, evaluate_parzen, to_json
    from train.run_folder import RunFolderError

    with usage_errors(FileNotFoundError, RunFolderError, EvaluationError, DatasetError):
        translation = _translation_run(args.source)
        if translation is not None:
            report = evaluate_translator(*translation, args)
        elif args.parzen:
            report = evaluate_parzen(
                args.source,
                dataset=args.dataset,
                n=args.n,
                seed=args.seed,
                baseline=not args.no_baseline,
                data_dir=args.data_dir,
            )
        else:
            report = evaluate(
                args.source,
                dataset=args.dataset,
                n=args.n,
                seed=args.seed,
                data_dir=args.data_dir,
                baseline=not args.no_baseline,
                inception=args.inception,
            )
    if args.json:
        path = files.save_json(to_json(report), args.json)
        print(f"report written to {path}")
    return 0


# ---------------------------------------------------------------------------------------------- translators


def _translation_run(source):
    """(model, run config) when `source` is a pix2pix / CycleGAN run folder or .keras file, else None."""
    from train import run_folder

    path = pathlib.Path(source)
    config = {}
    if path.is_dir():
        config_path = path / run_folder.CONFIG_FILE
        config = files.read_json(config_path) if config_path.exists() else {}
        if config.get("kind") != "translation":
            return None
        path = path / run_folder.GAN_FILE
    elif path.suffix != ".keras":
        return None
    import zoo

    model = run_folder.load_keras(path)
    return (model, config) if isinstance(model, zoo.TranslationGAN) else None


def evaluate_translator(model, config, args):
    """The task figures of a translator (`train.evaluation.translation`) beside the identity's and the real data's."""
    import dataclasses

    from train import progress, translation_data
    from train.evaluation.translation import evaluate_translation

    if args.parzen or args.inception:
        raise UsageError("--parzen and --inception measure noise GANs; a translator is judged by its task figures.")
    dataset = args.dataset or config.get("dataset")
    if dataset is None:
        raise UsageError("give --dataset TASK (a .keras file does not say which task it learned).")
    progress.phase(f"Loading {dataset}")
    data = translation_data.load_translation_data(
        dataset, data_dir=args.data_dir or config.get("data_dir"), image_size=config.get("image_size"),
        direction=config.get("direction", "AtoB"),
    )
    if args.n is not None and args.n < len(data.test_a):  # the first N test images (the split's own order)
        rows = slice(0, args.n)
        data = dataclasses.replace(
            data, test_a=data.test_a[rows], test_b=data.test_b[rows] if data.paired else data.test_b,
            answers=None if data.answers is None else data.answers[rows],
            test_labels=None if data.test_labels is None else data.test_labels[rows],
        )
    progress.phase(f"Translating the {len(data.test_a):,} test images and measuring the task figures")
    report = evaluate_translation(model.translate, data, baseline=not args.no_baseline)
    protocol = report["protocol"]
    print(f"{type(model).__name__} on {data.name}: {protocol['count']} test images; {data.description}")
    for row in ("model", "identity", "real"):
        if row in report:
            print(f"  {row:<9} " + ", ".join(f"{name} {value:.4f}" for name, value in report[row].items()))
    return report
