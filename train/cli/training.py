"""`ganzoo train` and `ganzoo demo` (`ganzoo list` and `ganzoo show` are `train.cli.catalog`'s).

No TensorFlow at import time: the handlers import the training code when they run.
"""

import json
import pathlib
import time

from train.cli import values
from train.cli.errors import UsageError, usage_errors
from train.cli.quiet import import_keras, import_tensorflow, select_backend

LOSSES = ("non_saturating", "minimax", "hinge", "wasserstein", "wasserstein_gp", "least_squares")  # zoo.LOSSES, kept TF-free
PRIORS = ("uniform", "normal")
STRATEGIES = ("default", "mirrored", "multiworker", "data_parallel")  # train.distribute.STRATEGIES
SEQUENCE_OPTIONS = ("g_units", "d_units")  # `--option g_units=64` means one layer: [64]
DEFAULTS = dict(dataset="digits")
# --progress: what `train.runner.train_run`'s verbose means by it (Keras's fit verbosity, shown by TrainingProgress).
PROGRESS = {"auto": "auto", "bar": 1, "line": 2, "none": 0}
TRANSLATION_MODELS = ("pix2pix", "cyclegan")  # train.translation_runner.MODELS, kept TF-free
TRANSLATION_DEFAULT_DATASET = {"pix2pix": "edges2digits", "cyclegan": "thin2thick_digits"}  # offline everywhere  # epochs, batch size and optimizer: the preset's (zoo.describe, recipes)


def _boolean_options():
    """The zoo.create options whose default is a bool: `--option KEY=no` must mean False, not a truthy string."""
    import inspect

    from zoo.presets import build_gan

    return tuple(name for name, p in inspect.signature(build_gan).parameters.items() if isinstance(p.default, bool))


def register(subparsers):
    train = subparsers.add_parser(
        "train",
        help="train a preset (or a recipe) with model.fit, in a resumable run folder",
        description="Train a GAN. Running the same command again resumes an unfinished run.",
    )
    train.add_argument("preset", nargs="?", help="zoo preset, or pix2pix / cyclegan for image-to-image translation "
                       "(see `ganzoo list`); optional with --recipe")
    train.add_argument("--recipe", help="start from a named recipe; other flags override it")
    _add_training_flags(train)
    train.set_defaults(func=train_command)

    demo = subparsers.add_parser(
        "demo", help="train a conditional DCGAN on the bundled 8x8 digits, export it to ONNX, show where it all is"
    )
    demo.add_argument("--out", help="run folder (default saved_models/<preset>-digits-<timestamp>)")
    demo.add_argument("--epochs", type=values.integer(1), help="override the demo's number of epochs")
    demo.add_argument("--seed", type=values.integer(0, 2**31 - 1), default=0, help="random seed (default 0)")
    demo.add_argument("--no-export", action="store_true", help="skip the ONNX export")
    demo.set_defaults(func=demo_command)


def _add_training_flags(parser):
    add = parser.add_argument
    add("--dataset", help="digits (default), gaussian1d, ring8, grid25, a tensorflow-datasets name, or a folder")
    add("--epochs", type=values.integer(1), help="number of epochs (default: the preset's budget of steps, see `ganzoo show PRESET`)")
    add("--batch-size", type=values.integer(1), help="batch size (default: the preset's paper's, see `ganzoo show PRESET`)")
    add("--latent-dim", type=values.integer(1), help="size of z (default: the preset's, 100)")
    add("--d-steps", type=values.integer(1), help="discriminator updates per generator update, k (default 1)")
    add("--loss", help=f"GAN loss: {', '.join(LOSSES)} (default: the preset's, non_saturating)")
    add("--prior", help="noise prior: uniform (default, U(-1, 1)) or normal")
    add("--lr", type=values.positive_float, help="learning rate of both networks' optimizer (default: the preset's "
        "paper's optimizer and rate, e.g. Adam 2e-4 for dcgan, SGD 0.1 decaying for vanilla)")
    add("--d-lr", type=values.positive_float, help="D's own learning rate (TTUR, Heusel et al. 2017; default --lr)")
    add("--g-lr", type=values.positive_float, help="G's own learning rate (default --lr)")
    add("--num-classes", type=values.integer(2), help="train a conditional model with this many classes (labelled data only)")
    add("--seed", type=values.integer(0, 2**31 - 1), help="random seed: same seed, same weights and samples on CPU (default: drawn, recorded)")
    add("--out", help="run folder (default saved_models/<preset>-<dataset>-<timestamp>, or the unfinished run "
        "of this same command)")
    add("--runs-dir", default="saved_models", help="where default run folders go (default saved_models)")
    add("--image-size", type=values.integer(1), help="resize images to SIZE x SIZE")
    add("--split", help="dataset split: train (default; vanilla and conditional: train[0:50000] of images, as their "
        "papers), test or all, optionally sliced as train[0:50000]")
    add("--data-dir", help="tensorflow-datasets data directory")
    add("--option", action="append", default=[], metavar="KEY=VALUE",
        help="any other zoo.create option, e.g. filters=32, g_units=5,5, activation=tanh (repeatable)")
    add("--sample-every", type=values.integer(1), help="write a sample grid every N epochs (default 1)")
    add("--backend", help="Keras backend: tensorflow, jax or torch (default: $KERAS_BACKEND, else tensorflow); "
        "recorded in the run's config")
    add("--strategy", help="default; mirrored or multiworker (tf.distribute, tensorflow backend); data_parallel "
        "(keras.distribution.DataParallel, jax backend)")
    add("--mixed-precision", metavar="POLICY", help="Keras dtype policy, e.g. mixed_bfloat16 or mixed_float16")
    add("--jit", action="store_true", default=None, help="XLA-compile the train step (tensorflow; jax always compiles)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--progress", choices=tuple(PROGRESS), default="auto",
                       help="bar: Keras's progress bar, redrawn after each batch; line: one line per epoch, for logs; "
                       "none; auto (default): bar on a terminal, else line. Each shows the epoch, d_loss, g_loss, "
                       "d_real = D(x), d_fake = D(G(z)) and the time left")
    shown.add_argument("--quiet", action="store_true", help="no progress, as --progress none")


# ---------------------------------------------------------------------------------------------- train


def parse_option(text):
    """'key=value' -> (key, value), the value read as JSON, else a comma list of numbers, else a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--option expects KEY=VALUE, got {text!r}.")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
        if "," in raw:
            try:
                value = [json.loads(part) for part in raw.split(",")]
            except ValueError:
                pass
    if key in SEQUENCE_OPTIONS and not isinstance(value, list):
        value = [] if value in ("", None) else [value]
    if key in _boolean_options():
        with usage_errors(ValueError):
            value = values.boolean(raw, name=f"--option {key}")
    return key, value


def spec_from_args(args):
    """Build a `RunSpec` from the recipe (if any), then the flags, then the defaults."""
    from train import recipes
    from train.runner import RunSpec

    with usage_errors(ValueError):  # get_recipe's only error: an unknown name
        base = recipes.get_recipe(args.recipe) if args.recipe else {}
    preset = args.preset or base.get("preset")
    if preset is None:
        raise UsageError("give a PRESET or --recipe NAME (see `ganzoo list`).")
    if args.loss is not None and args.loss not in LOSSES:
        raise UsageError(f"unknown loss {args.loss!r}; choose one of {', '.join(LOSSES)}.")
    if args.prior is not None and args.prior not in PRIORS:
        raise UsageError(f"unknown prior {args.prior!r}; choose one of {', '.join(PRIORS)}.")
    if args.strategy is not None and args.strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {args.strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    options = dict(base.get("options", {}))
    if args.preset and args.recipe and args.preset != base.get("preset"):
        options = {}  # another preset: the recipe's network options may not apply
    for text in args.option:
        key, value = parse_option(text)
        options[key] = value
    for flag, key in (("latent_dim", "latent_dim"), ("d_steps", "d_steps"), ("loss", "loss"),
                      ("prior", "prior"), ("num_classes", "num_classes")):
        if getattr(args, flag) is not None:
            options[key] = getattr(args, flag)

    def pick(flag, key):
        value = getattr(args, flag)
        return value if value is not None else base.get(key, DEFAULTS.get(key))

    return RunSpec(
        preset=preset,
        dataset=pick("dataset", "dataset"),
        epochs=pick("epochs", "epochs"),
        batch_size=pick("batch_size", "batch_size"),
        learning_rate=pick("lr", "learning_rate"),
        d_learning_rate=pick("d_lr", "d_learning_rate"),
        g_learning_rate=pick("g_lr", "g_learning_rate"),
        seed=args.seed,
        options=options,
        image_size=args.image_size,
        split=args.split,
        data_dir=args.data_dir,
        strategy=args.strategy or "default",
        mixed_precision=args.mixed_precision,
        jit=bool(args.jit),
        sample_every=args.sample_every if args.sample_every is not None else 1,
        recipe=args.recipe,
    )


def progress_verbosity(args):
    """`train_run`'s verbose for --progress and --quiet: "auto", 0, 1 or 2."""
    return 0 if args.quiet else PROGRESS[args.progress]


def train_command(args):
    started = time.perf_counter()
    select_backend(args.backend)
    import_keras()  # before spec_from_args, which reads zoo's options
    if args.preset in TRANSLATION_MODELS:
        return translation_train_command(args, started)
    spec = spec_from_args(args)
    from train.datasets import DatasetError
    from train.runner import RunError, train_run

    with usage_errors(RunError, DatasetError):
        result = train_run(spec, out=args.out, runs_dir=args.runs_dir, verbose=progress_verbosity(args))
    print_summary(result, time.perf_counter() - started)
    return 0 if result.status == "finished" else 1


def translation_spec_from_args(args):
    """A `train.translation_runner.TranslationSpec` from the flags: the noise-GAN flags that have no meaning for an
    image-to-image model are refused rather than ignored."""
    from train.translation_runner import TranslationSpec

    ignored = [flag for flag in ("recipe", "latent_dim", "d_steps", "loss", "prior", "num_classes", "d_lr", "g_lr",
                                 "split", "jit") if getattr(args, flag, None) is not None]
    if args.strategy not in (None, "default"):
        ignored.append("strategy")
    if ignored:
        flags = ", ".join("--" + flag.replace("_", "-") for flag in ignored)
        raise UsageError(f"{flags}: not an option of {args.preset} (see `ganzoo train --help`).")
    options = dict(parse_option(text) for text in args.option)
    direction = options.pop("direction", "AtoB")
    if direction not in ("AtoB", "BtoA"):
        raise UsageError(f"--option direction must be AtoB or BtoA, got {direction!r}.")
    max_train = options.pop("max_train", None)
    return TranslationSpec(
        model=args.preset,
        dataset=args.dataset or TRANSLATION_DEFAULT_DATASET[args.preset],
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        options=options,
        image_size=args.image_size,
        data_dir=args.data_dir,
        direction=direction,
        max_train=max_train,
        sample_every=args.sample_every if args.sample_every is not None else 1,
        mixed_precision=args.mixed_precision,
    )


def translation_train_command(args, started):
    spec = translation_spec_from_args(args)
    from train.datasets import DatasetError
    from train.runner import RunError
    from train.translation_runner import train_translation

    with usage_errors(RunError, DatasetError):
        result = train_translation(spec, out=args.out, runs_dir=args.runs_dir, verbose=progress_verbosity(args))
    print_summary(result, time.perf_counter() - started)
    return 0 if result.status == "finished" else 1


def _files(run_dir):
    names = ["config.json", "gan.keras", "generator.keras", "curves.png", "samples", "logs", "generator.onnx"]
    return [run_dir / name for name in names if (run_dir / name).exists()]


def print_summary(result, seconds):
    import sys

    run_dir = result.run_dir
    if result.status != "finished":
        print(f"ganzoo train: {result.message}", file=sys.stderr)
    last = result.last_logs
    shown = ("d_loss", "g_loss", "d_real", "d_fake", "l1", "cycle", "identity")
    losses = ", ".join(f"{k} {last[k]:.4f}" for k in shown if k in last)
    resumed = f", resumed at epoch {result.initial_epoch}" if result.initial_epoch else ""
    print(f"\nRun {result.status}: {result.epochs_done} epoch(s){resumed}; wall time {seconds:.1f} s")
    if losses:
        print(f"Last epoch: {losses}")
    print(f"Run folder: {run_dir}")
    for path in _files(run_dir):
        print(f"  {path}")
    grids = sorted((run_dir / "samples").glob("epoch_*.png"))
    if grids:
        print(f"Latest samples: {grids[-1]}")


# ---------------------------------------------------------------------------------------------- demo


def demo_command(args):
    started = time.perf_counter()
    import_tensorflow()
    from train import recipes
    from train.datasets import DatasetError
    from train.runner import RunError, RunSpec, train_run

    recipe = recipes.get_recipe("demo")
    spec = RunSpec(
        preset=recipe["preset"],
        dataset=recipe["dataset"],
        epochs=args.epochs or recipe["epochs"],
        batch_size=recipe["batch_size"],
        learning_rate=recipe["learning_rate"],
        seed=args.seed,
        options=recipe["options"],
        recipe="demo",
    )
    print(f"ganzoo demo: {recipe['description']}", flush=True)
    with usage_errors(RunError, DatasetError):
        result = train_run(spec, out=args.out, verbose="auto")
    if result.status != "finished":
        print_summary(result, time.perf_counter() - started)
        return 1
    exported, onnx_text = (True, "ONNX export skipped (--no-export).") if args.no_export else _export_demo(result.run_dir)
    print_summary(result, time.perf_counter() - started)
    print(onnx_text)
    grids = sorted((result.run_dir / "samples").glob("epoch_*.png"))
    if grids:
        print(f"Open the sample grid (one row per digit 0-9): {grids[-1]}")
        print(f"Latent walk (linear and spherical rows): {result.run_dir / 'samples' / 'latent_walk.png'}")
        print(f"Training curves: {result.run_dir / 'curves.png'}")
    return 0 if exported else 1


def _export_demo(run_dir):
    """Export the demo's generator to ONNX with `export.export_generator`; (ok, text to print)."""
    from train import run_folder

    try:
        import export.exporter  # noqa: F401  tf2onnx and onnx, which a training-only install may lack
    except ImportError as error:
        return True, f"ONNX export not available ({error}); the Keras generator is {run_dir / 'generator.keras'}."
    path = pathlib.Path(run_dir) / "generator.onnx"
    try:
        report = run_folder.export(run_dir, path)
    except Exception as error:  # noqa: BLE001 - training succeeded; say what failed in the export
        return False, f"ONNX export failed: {type(error).__name__}: {error}"
    return True, f"ONNX generator: {path}\n{report}"
