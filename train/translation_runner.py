"""A pix2pix or CycleGAN training run, in the same kind of run folder as a noise GAN's (`train.runner`).

The folder, its files, its lock, the epoch commit and the resume rule are `train.runner`'s and
`train.run_folder`'s: config.json, state.json, gan.keras (the whole model, optimizers and image histories
included), generator.keras (the A -> B generator), curves.png, samples/epoch_NNN.png (input | output | target
rows for fixed test images), logs/. Running the same command again resumes an unfinished run; each epoch's
order and jitter depend only on (seed, epoch), so a resumed run ends with the uninterrupted run's weights.

Both papers' reference code trains with Adam(2e-4, beta_1=0.5) held for the first half of the epochs and
decayed linearly to 0 over the second (`zoo.ConstantThenLinearDecay`), at batch size 1 on 256 px images for 200
epochs; the offline tasks here have budgets of their own (`BUDGETS`), which `ganzoo list` shows.
"""

import dataclasses
import math
import pathlib
import secrets
import time

from train import files, run_folder, runner
from train.run_folder import GAN_FILE
from train.runner import RunError

MODELS = ("pix2pix", "cyclegan")
PAPER_BUDGET = {"epochs": 200, "batch_size": 1}  # both papers: 200 epochs (100 + 100 decaying) of batch 1
# The offline tasks (train.translation_data): budgets that train on 2 CPU cores in minutes, not the papers' days.
BUDGETS = {
    ("pix2pix", "edges2fashion"): {"epochs": 3, "batch_size": 16, "options": {"filters": 32}},
    ("cyclegan", "thin2thick"): {"epochs": 2, "batch_size": 16, "options": {"filters": 16}},
    ("pix2pix", "edges2digits"): {"epochs": 20, "batch_size": 16, "options": {"filters": 16}},
    ("cyclegan", "thin2thick_digits"): {"epochs": 10, "batch_size": 4, "options": {"filters": 8, "patch_layers": 1}},
}
GRID_EXAMPLES = 8


@dataclasses.dataclass
class TranslationSpec:
    """What to train: `model` ("pix2pix" or "cyclegan") on `dataset` (see `train.translation_data`);
    `options` are `zoo.create_translator` arguments (filters, l1_weight, blocks, history_size, ...)."""

    model: str
    dataset: str = "edges2digits"
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None  # None: the papers' 2e-4
    seed: int | None = None
    options: dict = dataclasses.field(default_factory=dict)
    image_size: int | None = None
    data_dir: str | None = None
    direction: str = "AtoB"
    max_train: int | None = None
    sample_every: int = 1
    mixed_precision: str | None = None  # a Keras dtype policy, e.g. mixed_float16 on a GPU


def budget(model, dataset):
    """(epochs, batch_size, default options) for `model` on `dataset`: the offline task's, else the papers'."""
    found = BUDGETS.get((model, str(dataset)), PAPER_BUDGET)
    return found["epochs"], found["batch_size"], dict(found.get("options", {}))


def _request(spec, out, runs_dir):
    import keras

    from train import translation_data

    if spec.model not in MODELS:
        raise RunError(f"unknown image-to-image model {spec.model!r}; choose one of {', '.join(MODELS)}.")
    for name in ("epochs", "batch_size", "sample_every", "max_train"):
        value = getattr(spec, name)
        if value is not None and int(value) < 1:
            raise RunError(f"{name.replace('_', ' ')} must be positive, got {value}.")
    if spec.learning_rate is not None and not 0 < float(spec.learning_rate) < math.inf:
        raise RunError(f"learning rate must be a positive finite number, got {spec.learning_rate}.")
    if out is not None:
        files.check_writable(pathlib.Path(out) / runner.CONFIG_FILE)
    data = translation_data.load_translation_data(
        spec.dataset, data_dir=spec.data_dir, image_size=spec.image_size, direction=spec.direction,
        max_train=spec.max_train,
    )
    if spec.model == "pix2pix" and not data.paired:
        raise RunError(f"pix2pix learns from pairs; {spec.dataset!r} is unpaired (train cyclegan on it).")
    epochs, batch_size, options = budget(spec.model, spec.dataset)
    epochs, batch_size = int(spec.epochs or epochs), int(spec.batch_size or batch_size)
    steps = translation_data.steps_per_epoch(data, batch_size)
    if steps < 1:
        raise RunError(f"batch size {batch_size} is larger than dataset {spec.dataset!r} ({len(data.train_a)} examples).")
    seed = int(spec.seed) if spec.seed is not None else secrets.randbelow(2**31 - 1)
    options = {**options, **spec.options, "seed": seed}
    if spec.model == "pix2pix":
        options.setdefault("output_channels", int(data.train_b.shape[-1]))
    config = runner._jsonable({
        "kind": "translation",
        "preset": spec.model,
        "options": options,
        "dataset": str(spec.dataset),
        "direction": spec.direction,
        "max_train": spec.max_train,
        "image_size": spec.image_size,
        "data_dir": spec.data_dir,
        "paired": bool(data.paired),
        "data_shape": list(data.train_a.shape[1:]),
        "output_shape": list(data.train_b.shape[1:]),
        "num_samples": len(data.train_a),
        "dataset_fingerprint": translation_data.fingerprint(data),
        "epochs": epochs,
        "batch_size": batch_size,
        "steps_per_epoch": steps,
        "seed": seed,
        "learning_rate": float(spec.learning_rate or 2e-4),
        "mixed_precision": runner.recorded_policy(spec.mixed_precision),
        "presets_version": runner.PRESETS_VERSION,
        "backend": keras.backend.backend(),
        "sample_every": int(spec.sample_every),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": runner.versions(),
    })
    with_seed = spec.seed is not None
    run_dir = pathlib.Path(out) if out is not None else runner.find_unfinished_run(runs_dir, config, with_seed)
    if run_dir is None:
        run_dir = runner.new_run_dir(runs_dir, spec.model, spec.dataset)
    return config, data, run_dir, with_seed


def _build_or_load(config, run_dir):
    import keras

    import zoo

    checkpoint = run_dir / GAN_FILE
    keras.utils.set_random_seed(int(config["seed"]))
    with runner.run_policy_scope(config):
        if checkpoint.exists():
            return run_folder.load_keras(checkpoint), True
        model = zoo.create_translator(config["preset"], config["data_shape"], **config["options"])
    epochs = int(config["epochs"])

    def optimizer():
        # The reference code's "linear" policy: the rate held for the first half, then down to 0 (100 + 100 epochs).
        schedule = zoo.ConstantThenLinearDecay(
            config["learning_rate"], config["steps_per_epoch"], constant_epochs=(epochs + 1) // 2,
            decay_epochs=epochs // 2,
        )
        return zoo.translation.paper_optimizer(schedule)

    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return model, False


def train_translation(spec, out=None, runs_dir=run_folder.RUNS_DIR, callbacks=(), verbose="auto", log=print):
    """Train `spec` in a run folder (new, or the unfinished one it matches) and return a `train.runner.RunResult`.

    Args:
        spec: the `TranslationSpec` to train.
        out: the run folder; default a new one under `runs_dir`, or the unfinished run of `spec`.
        runs_dir: where new run folders go.
        callbacks: extra Keras callbacks.
        verbose: 0 (silent), 1 (a progress bar per epoch), 2 (one line per epoch) or "auto" (1 on a terminal,
            else 2), as `train.runner.train_run`.
        log: where the one-line progress messages go.
    """
    started = time.perf_counter()
    return runner.run_in_folder(
        out,
        lambda: _request(spec, out, runs_dir),
        lambda config, data, folder, with_seed: _train_locked(
            config, data, folder, with_seed, callbacks, verbose, log, started
        ),
    )


def _train_locked(config, data, run_dir, with_seed, callbacks, verbose, log, started):
    import keras

    from train import callbacks as run_callbacks
    from train import translation_data

    config, resuming = runner.open_run_folder(run_dir, config, with_seed)
    try:
        model, restored = _build_or_load(config, run_dir)
    except (TypeError, ValueError) as error:
        if isinstance(error, run_folder.RunFolderError):
            raise RunError(f"cannot resume: {error}") from None
        raise RunError(f"cannot build {config['preset']!r} with options {config['options']}: {error}") from None
    if not resuming:
        run_folder.write_config(run_dir, config)
    steps = int(config["steps_per_epoch"])
    initial_epoch = runner.resumed_epoch(run_dir, model, steps) if restored else 0
    history = runner.history_before(run_dir, resuming, initial_epoch)
    if restored:
        log(f"Resuming {run_dir} from epoch {initial_epoch}/{config['epochs']} (seed {config['seed']}).")
    else:
        kind = "pairs" if data.paired else "unpaired images per domain"
        log(f"Training {config['preset']} on {config['dataset']} ({len(data.train_a)} {kind}) in {run_dir} "
            f"(seed {config['seed']}).")
        run_folder.write_state(run_dir, "running", 0, history)

    divergence = run_callbacks.StopOnDivergence()
    epochs, every = int(config["epochs"]), int(config.get("sample_every", 1))
    if initial_epoch < epochs:
        batches = translation_data.translation_epoch_dataset(
            data, int(config["batch_size"]), int(config["seed"]), initial_epoch, epochs
        )
        items = [
            divergence,
            run_callbacks.TranslationGrid(run_dir / "samples", data, GRID_EXAMPLES, every=every, last_epoch=epochs),
            run_callbacks.TrainingCurves(
                run_dir / "curves.png", history={k: v for k, v in history.items() if k != "seconds"},
                every=runner.CURVES_EVERY, last_epoch=epochs,
            ),
            *run_callbacks.tensorboard_callbacks(run_dir / "logs"),
            run_callbacks.RunCheckpoint(run_dir, history, divergence),  # last: commits the epoch's files
        ]
        model.fit(
            batches, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
            callbacks=[*items, *run_callbacks.progress_callbacks(verbose), *callbacks], verbose=0, shuffle=False,
        )
    return runner.finish_run(run_dir, model, history, divergence, initial_epoch, started)
