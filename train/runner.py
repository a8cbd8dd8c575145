"""A training run: one folder holding everything needed to watch, resume, repeat and export it.

The folder's layout and file formats are `train.run_folder`'s; this module plans a run (checks the
request, picks or creates the folder) and trains it.

Every file is written atomically (temporary name, then rename). The checkpoint after each epoch is
`gan.keras`; the epoch it holds is read from its own optimizer step count, so the model and its
epoch can never disagree; state.json records an epoch only after its checkpoint is on disk (see
`train.run_folder.commit_epoch`). One process trains in a folder at a time: it holds the folder's
lock (`train.run_folder.lock`), which a killed process releases with its death.

Resume: running the same command again continues an unfinished run. With `out` that folder is
used; without it, the newest folder under `runs_dir` whose config.json matches this command and
whose run is still `running` is picked up (a run without an explicit seed matches on everything but
the seed, and keeps the seed it drew). Each epoch's data order depends only on (seed, epoch), and
the checkpoint restores optimizer and noise state, so a resumed run ends with the same weights as
an uninterrupted one.
"""

import contextlib
import dataclasses
import importlib
import math
import pathlib
import platform
import re
import secrets
import time

from train import files, recipes, run_folder
from train.run_folder import CONFIG_FILE, GAN_FILE, RUNS_DIR, STATE_FILE

CURVES_EVERY = 5  # epochs between redraws of curves.png (matplotlib is the slowest per-epoch writer); also drawn at the end

# config.json entries that must agree for a folder to hold "the same run" as a command.
# Version 2: every preset is its paper's model; a run of version 1 under the same preset name is another model.
PRESETS_VERSION = 2

REPEAT_KEYS = (
    "presets_version", "preset", "options", "dataset", "split", "image_size", "data_dir", "epochs", "batch_size",
    "learning_rate", "d_learning_rate", "g_learning_rate", "beta_1", "strategy", "mixed_precision", "jit", "sample_every",
    "backend",  # the random streams differ between Keras backends, so a run resumes on its own
    "direction", "max_train",  # an image-to-image run's data (train.translation_runner)
)


class RunError(ValueError):
    """A run cannot start as asked (bad input): reported as one line by the CLI."""


@dataclasses.dataclass
class RunSpec:
    """What to train. `options` are extra keyword arguments for `zoo.create` (e.g. latent_dim, filters)."""

    preset: str
    dataset: str = "digits"
    epochs: int | None = None  # None: the preset's budget (`recipes.PRESET_BUDGETS`) on this dataset
    batch_size: int | None = None
    learning_rate: float | None = None  # None: the preset's optimizer's own rate(s)
    d_learning_rate: float | None = None  # TTUR (Heusel et al. 2017): D's and G's own rates, default learning_rate
    g_learning_rate: float | None = None
    beta_1: float | None = None  # Adam's beta_1 where the preset trains with Adam; None: the preset's
    seed: int | None = None
    options: dict = dataclasses.field(default_factory=dict)
    image_size: int | None = None
    split: str | None = None  # None: the preset's (Goodfellow et al. trained on train[0:50000]), else "train"
    data_dir: str | None = None
    strategy: str = "default"
    mixed_precision: str | None = None
    jit: bool = False
    sample_every: int = 1
    recipe: str | None = None


@dataclasses.dataclass
class RunResult:
    run_dir: pathlib.Path
    status: str  # "finished" or "diverged"
    initial_epoch: int
    epochs_done: int
    history: dict
    seconds: float
    message: str = ""
    gan: object = None

    @property
    def last_logs(self):
        return {name: values[-1] for name, values in self.history.items() if values}


# ------------------------------------------------------------------------------------------ helpers


def papers_rows(preset, arrays):
    """(split, arrays): the rows of the training split `preset`'s paper trained on, where `arrays` (the whole
    training split) is an image set at least that large, else all of them ("train"). Goodfellow et al. trained on
    train[0:50000] (the rest was their validation set); InfoGAN's code on train[5000:60000] (TensorFlow's MNIST
    tutorial split sets the first 5,000 aside)."""
    from train import datasets
    from zoo import presets

    image_split = presets.PRESETS[preset].get("image_split")
    rows = datasets.parse_split(image_split)[1] if image_split else None
    if rows is None or arrays.x.ndim != 4 or len(arrays) < rows.stop:
        return "train", arrays
    return image_split, arrays.take(rows)


def versions():
    """The versions a run records: Python, gan-zoo, Keras, numpy, TensorFlow where it is installed, and the
    backend's. Read from the installed distributions, so a JAX or PyTorch run imports no TensorFlow."""
    from importlib.metadata import PackageNotFoundError, version

    import keras

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:  # not installed, or (gan-zoo) run from a checkout
            return None

    backend = keras.backend.backend()
    found = {
        "gan-zoo": installed("gan-zoo"),
        "python": platform.python_version(),
        # On TensorFlow the module's own (whichever distribution installed it: tensorflow, tensorflow-cpu, ...).
        "tensorflow": (
            importlib.import_module("tensorflow").__version__ if backend == "tensorflow" else installed("tensorflow")
        ),
        "keras": keras.__version__,
        "numpy": installed("numpy"),
    }
    if backend != "tensorflow":
        found[backend] = installed(backend)
    return found


def dataset_slug(dataset):
    """A folder-name fragment for a dataset name or path ('/data/mnist/' -> 'mnist')."""
    name = pathlib.Path(str(dataset).rstrip("/\\")).name or "data"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def _rate(value):
    return None if value is None else float(value)


def recorded_policy(policy):
    """The mixed-precision policy a run's config records: "auto" resolved on this machine (a run resumed on another
    must keep its policy), None for none; `RunError` for an unknown one."""
    from train import distribute

    if not policy:
        return None
    try:
        return distribute.mixed_precision_policy(policy)
    except ValueError as error:
        raise RunError(str(error)) from None


def _repeat_view(config, with_seed):
    view = {key: config.get(key) for key in REPEAT_KEYS}
    view["mixed_precision"] = recorded_policy(config.get("mixed_precision"))  # runs that recorded "auto"
    view["backend"] = config.get("backend", "tensorflow")  # runs made before the other backends
    for key in ("d_learning_rate", "g_learning_rate"):  # runs made before TTUR used one rate for both
        view[key] = config.get(key, config.get("learning_rate"))
    if not with_seed:
        view["options"] = {k: v for k, v in (view["options"] or {}).items() if k != "seed"}
    return view


def same_run(existing, config, with_seed=True):
    """Whether a folder's config.json describes the run `config` asks for."""
    return _repeat_view(existing, with_seed) == _repeat_view(config, with_seed)


def find_unfinished_run(runs_dir, config, with_seed=True):
    """The newest folder in `runs_dir` holding an unfinished run of `config`, or None."""
    runs_dir = pathlib.Path(runs_dir)
    if not runs_dir.is_dir():
        return None
    candidates = []
    for folder in runs_dir.glob(f"{config['preset']}-{dataset_slug(config['dataset'])}-*"):
        try:
            existing = files.read_json(folder / CONFIG_FILE)
            if run_folder.run_status(folder) == "running" and same_run(existing, config, with_seed):
                candidates.append((existing.get("created", ""), folder.name, folder))
        except (OSError, ValueError):
            continue
    return max(candidates)[2] if candidates else None


def new_run_dir(runs_dir, preset, dataset):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = pathlib.Path(runs_dir) / f"{preset}-{dataset_slug(dataset)}-{stamp}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


# ------------------------------------------------------------------------------------------ the run


def plan_run(spec, out=None, runs_dir=RUNS_DIR):
    """Check `spec`, load its data and decide the run folder: (config, arrays, run_dir, resuming).

    Raises RunError (a ValueError) for anything the user has to change. `train_run` does the same
    while it holds the folder's lock.
    """
    config, arrays, run_dir, with_seed = _request(spec, out, runs_dir)
    config, resuming = _claim(run_dir, config, with_seed)
    return config, arrays, run_dir, resuming


def _request(spec, out, runs_dir):
    """(config, arrays, run_dir, with_seed): the checked request, its data, and the folder it goes to."""
    import keras

    import zoo
    from zoo import presets

    from train import datasets

    if spec.preset not in zoo.available():
        raise RunError(f"unknown preset {spec.preset!r}; choose one of {', '.join(zoo.available())}.")
    if spec.epochs is not None and int(spec.epochs) < 1:
        raise RunError(f"epochs must be positive, got {spec.epochs}.")
    if spec.batch_size is not None and int(spec.batch_size) < 1:
        raise RunError(f"batch size must be positive, got {spec.batch_size}.")
    if int(spec.sample_every) < 1:
        raise RunError(f"sample_every must be positive, got {spec.sample_every}.")
    for name in ("learning_rate", "d_learning_rate", "g_learning_rate"):
        rate = getattr(spec, name)
        if rate is not None and not 0 < float(rate) < math.inf:
            raise RunError(f"{name.replace('_', ' ')} must be a positive finite number, got {rate}.")
    unknown = sorted(set(spec.options) - set(presets.OPTIONS) - {"num_classes"})
    if unknown:
        raise RunError(f"unknown option(s) {unknown}; options are: {', '.join(presets.OPTIONS)}.")

    if out is not None:  # found before the data is loaded and anything is trained
        files.check_writable(pathlib.Path(out) / CONFIG_FILE)
    arrays = datasets.load_arrays(spec.dataset, split=spec.split or "train", image_size=spec.image_size,
                                  data_dir=spec.data_dir)
    split, arrays = (spec.split, arrays) if spec.split else papers_rows(spec.preset, arrays)
    epochs, batch_size = recipes.budget(spec.preset, len(arrays), spec.batch_size)
    spec = dataclasses.replace(spec, epochs=spec.epochs or epochs, batch_size=batch_size)
    if int(spec.batch_size) > len(arrays):
        raise RunError(
            f"batch size {spec.batch_size} is larger than dataset {spec.dataset!r} ({len(arrays)} samples)."
        )
    options = dict(spec.options)
    num_classes = options.pop("num_classes", None)
    if num_classes is not None and arrays.y is None:
        raise RunError(f"--num-classes was given, but dataset {spec.dataset!r} has no labels.")
    preset_classes = presets.PRESETS[spec.preset]["options"].get("num_classes")
    backbone = options.get("backbone") or presets.preset_backbone(spec.preset, arrays.data_shape)
    conditional = num_classes is not None or preset_classes is not None
    if conditional:
        if arrays.y is None:
            raise RunError(f"preset {spec.preset!r} is conditional, but dataset {spec.dataset!r} has no labels.")
        num_classes = int(num_classes if num_classes is not None else arrays.num_classes)
        if int(arrays.y.max()) >= num_classes:
            raise RunError(f"dataset {spec.dataset!r} has labels up to {int(arrays.y.max())}; num_classes {num_classes} is too small.")
        options["num_classes"] = num_classes
        names = list(arrays.class_names or [])
        class_names = names[:num_classes] + [str(i) for i in range(len(names), num_classes)]
    else:
        class_names = None  # an unconditional model has no classes to name, whatever the data has

    seed = int(spec.seed) if spec.seed is not None else secrets.randbelow(2**31 - 1)
    options = {"data_shape": list(arrays.data_shape), **options, "seed": seed}
    config = _jsonable({
        "preset": spec.preset,
        "recipe": spec.recipe,
        "options": options,
        "dataset": str(spec.dataset),
        "split": split,
        "image_size": spec.image_size,
        "data_dir": spec.data_dir,
        "class_names": class_names,
        "data_shape": list(arrays.data_shape),
        "num_samples": len(arrays),
        "dataset_fingerprint": datasets.fingerprint(arrays.x, arrays.y),
        "backbone": backbone,
        "conditional": conditional,
        "epochs": int(spec.epochs),
        "batch_size": int(spec.batch_size),
        "steps_per_epoch": len(arrays) // int(spec.batch_size),
        "seed": seed,
        # None: the preset's optimizer as it is (`zoo.describe(preset)["options"]["default_optimizer"]`).
        "learning_rate": _rate(spec.learning_rate),
        "d_learning_rate": _rate(spec.d_learning_rate or spec.learning_rate),
        "g_learning_rate": _rate(spec.g_learning_rate or spec.learning_rate),
        "beta_1": _rate(spec.beta_1),
        "presets_version": PRESETS_VERSION,
        "strategy": spec.strategy,
        "mixed_precision": recorded_policy(spec.mixed_precision),
        "jit": bool(spec.jit),
        "backend": keras.backend.backend(),
        "sample_every": int(spec.sample_every),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
    })

    with_seed = spec.seed is not None
    run_dir = pathlib.Path(out) if out is not None else find_unfinished_run(runs_dir, config, with_seed)
    if run_dir is None:
        run_dir = new_run_dir(runs_dir, spec.preset, spec.dataset)
    return config, arrays, run_dir, with_seed


def _claim(run_dir, config, with_seed):
    """(config, resuming): the folder's own config if it holds this unfinished run; RunError if it holds another."""
    resuming = (run_dir / CONFIG_FILE).exists()
    if resuming:
        try:
            existing = files.read_json(run_dir / CONFIG_FILE)
            status = run_folder.run_status(run_dir)
        except ValueError as error:  # config.json or state.json is not JSON: name the file
            raise RunError(str(error)) from None
        if status != "running":
            raise RunError(f"{run_dir} already holds a {status} run; choose another --out folder.")
        if existing.get("presets_version") != PRESETS_VERSION:
            raise RunError(
                f"{run_dir} holds a run of preset {existing.get('preset')!r} from before the presets became their "
                "papers' models, when that name built another model: it cannot be resumed as it is now (its "
                "gan.keras still loads, samples, exports and evaluates); choose another --out folder."
            )
        if not same_run(existing, config, with_seed):
            differing = [k for k in REPEAT_KEYS if _repeat_view(existing, with_seed)[k] != _repeat_view(config, with_seed)[k]]
            raise RunError(f"{run_dir} holds a different run (differs in {', '.join(differing)}); choose another --out folder.")
        _check_same_data(run_dir, existing, config)
        config = existing  # keeps the seed (and creation time) of the interrupted run
    elif run_dir.is_dir() and any(p for p in run_dir.iterdir() if not p.name.startswith(".")):
        raise RunError(f"{run_dir} is not empty and holds no run (no {CONFIG_FILE}); choose another --out folder.")
    files.check_writable(run_dir / CONFIG_FILE)
    return config, resuming


def _check_same_data(run_dir, existing, config):
    """RunError if the dataset under the same name changed since the run started (mixing would go unnoticed)."""
    then, now = existing.get("num_samples"), config["num_samples"]
    if then is not None and then != now:
        raise RunError(
            f"the dataset of {run_dir} changed: the run started on {then} samples, {config['dataset']!r} now has "
            f"{now}; resume it with the same data, or start a new run with another --out folder."
        )
    then = existing.get("dataset_fingerprint")
    if then is not None and then != config["dataset_fingerprint"]:
        raise RunError(
            f"the dataset of {run_dir} changed: same size, different contents (fingerprint {then} then, "
            f"{config['dataset_fingerprint']} now); resume it with the same data, or start a new run with another --out folder."
        )


def run_policy_scope(config):
    """A context in which the run's model is built or loaded under its mixed-precision policy (its layers keep it);
    the process's policy is restored afterwards. No change where the run has none."""
    from train import distribute

    policy = config.get("mixed_precision")
    return distribute.mixed_precision(policy) if policy else contextlib.nullcontext()


def _build_or_load(config, run_dir):
    """(gan, resumed, strategy): gan.keras when the folder has one, else a fresh model, built in the strategy's
    scope."""
    import keras

    import zoo

    from train import distribute

    strategy = distribute.get_strategy(config.get("strategy") or "default")
    checkpoint = run_dir / GAN_FILE
    keras.utils.set_random_seed(int(config["seed"]))
    with run_policy_scope(config), strategy.scope():
        if checkpoint.exists():
            return run_folder.load_keras(checkpoint), True, strategy
        gan = zoo.create(config["preset"], **config["options"])
        gan.compile(
            d_optimizer=_optimizer(gan, config, "d"), g_optimizer=_optimizer(gan, config, "g"),
            jit_compile=bool(config.get("jit")),
        )
        return gan, False, strategy


def _optimizer(gan, config, side):
    """The preset's optimizer for one side (`zoo.optimizers.make`), with the run's learning rate and Adam
    beta_1 where the command gave them."""
    from zoo import optimizers

    spec = dict(gan.default_optimizer or optimizers.DCGAN_ADAM)
    if config.get("beta_1") is not None:
        if spec["name"] != "adam":
            raise RunError(f"beta_1 is Adam's; preset {config['preset']!r} trains with {spec['name']}.")
        spec["beta_1"] = config["beta_1"]
    rate = config.get(f"{side}_learning_rate", config.get("learning_rate"))
    return optimizers.make(spec, side, rate)


def _run_callbacks(config, arrays, run_dir, gan, history, divergence):
    from train import callbacks, datasets

    seed = int(config["seed"])
    every = int(config.get("sample_every", 1))
    last = int(config["epochs"])
    items = [divergence]
    if arrays.x.ndim == 4:
        items += [
            callbacks.SampleGrid(run_dir / "samples", seed=seed + 1, every=every, last_epoch=last),
            callbacks.LatentWalk(run_dir / "samples" / "latent_walk.png", seed=seed + 2),
        ]
    elif arrays.x.shape[-1] in (1, 2):
        modes, std = datasets.toy_modes(arrays.name) if datasets.is_toy(arrays.name) else (None, None)
        items.append(
            callbacks.ToyDistributionPlot(
                run_dir / "samples", arrays.x, modes, std, seed=seed + 1, every=every, name=arrays.name, last_epoch=last
            )
        )
    items += [
        callbacks.TrainingCurves(
            run_dir / "curves.png", history={k: v for k, v in history.items() if k != "seconds"}, every=CURVES_EVERY,
            last_epoch=last,
        ),
        *callbacks.tensorboard_callbacks(run_dir / "logs"),
        # Last: an epoch is committed only after everything it promises (grids, curves) is on disk.
        callbacks.RunCheckpoint(run_dir, history, divergence),
    ]
    return items


def train_run(spec, out=None, runs_dir=RUNS_DIR, callbacks=(), verbose="auto", log=print):
    """Train `spec` in a run folder (new, or the unfinished one it matches) and return a `RunResult`.

    A NaN/Inf loss stops the run with status "diverged", keeping the last good epoch's gan.keras;
    bad input raises RunError (or `train.datasets.DatasetError`) before anything is written.

    Args:
        spec: the `RunSpec` to train.
        out: the run folder; default a new one under `runs_dir`, or the unfinished run of `spec`.
        runs_dir: where new run folders go.
        callbacks: extra Keras callbacks.
        verbose: as `fit`'s: 0 (silent), 1 (a progress bar per epoch) or 2 (one line per epoch), shown by
            `train.callbacks.TrainingProgress`; "auto": 1 on a terminal, else 2.
        log: where the one-line progress messages go.
    """
    started = time.perf_counter()
    return run_in_folder(
        out,
        lambda: _request(spec, out, runs_dir),
        lambda config, arrays, folder, with_seed: _train_locked(
            config, arrays, folder, with_seed, callbacks, verbose, log, started
        ),
    )


def run_in_folder(out, request, train_locked):
    """`train_locked(config, data, run_dir, with_seed)` on what `request()` returns, holding the run folder's
    lock; a folder this call created and left empty (bad input, nothing written) is removed. Shared by the noise
    GANs' runs and `train.translation_runner`'s."""
    folder = None if out is None else pathlib.Path(out)
    existed = folder is not None and folder.exists()
    try:
        config, data, folder, with_seed = request()
        with run_folder.lock(folder):
            return train_locked(config, data, folder, with_seed)
    finally:
        if folder is not None and not existed and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # nothing was written: leave no empty folder behind


def open_run_folder(run_dir, config, with_seed):
    """(config, resuming): the folder claimed for `config` (see `_claim`), cleared of the half-written files of a
    killed process and with a half-done epoch commit finished or undone."""
    config, resuming = _claim(run_dir, config, with_seed)
    for leftover in run_dir.rglob(".*.tmp-*"):  # half-written files of a killed process (never renamed)
        if files.is_temporary(leftover):
            leftover.unlink(missing_ok=True)
    if resuming:
        run_folder.recover_checkpoint(run_dir)
    return config, resuming


def resumed_epoch(run_dir, model, steps_per_epoch):
    """The epoch a restored run continues from: the epochs state.json committed, which (after
    `run_folder.recover_checkpoint`) gan.keras holds. Not G's optimizer steps over the steps per epoch: under
    mixed_float16 a `LossScaleOptimizer` does not count the steps it skips. `RunError` where the checkpoint has taken
    more steps than state.json allows (state.json lost or edited), rather than training its epochs again."""
    import keras

    done = run_folder.epochs_done(run_dir)
    steps = int(keras.ops.convert_to_numpy(model.g_optimizer.iterations))
    if not (run_dir / STATE_FILE).exists() or steps > done * int(steps_per_epoch):
        raise RunError(
            f"cannot resume {run_dir}: its {GAN_FILE} has taken {steps} steps, more than the {done} epochs of "
            f"{steps_per_epoch} steps its {STATE_FILE} records; start a new run with another --out folder."
        )
    return done


def history_before(run_dir, resuming, initial_epoch):
    """The per-epoch history a resumed run continues: state.json's, cut to the epochs its checkpoint holds."""
    if resuming and (run_dir / STATE_FILE).exists():
        return {k: v[:initial_epoch] for k, v in run_folder.read_history(run_dir).items()}
    return {}


def finish_run(run_dir, model, history, divergence, initial_epoch, started):
    """Record how `fit` ended in state.json ("diverged", with the message the CLI prints, or "finished") and return
    the `RunResult`."""
    seconds = time.perf_counter() - started
    epochs_done = max(len(values) for values in history.values()) if history else initial_epoch
    if divergence.diverged_at is not None:
        epoch, batch, logs = divergence.diverged_at
        bad = ", ".join(f"{k}={v:g}" for k, v in logs.items() if not math.isfinite(v))
        where = f"epoch {epoch + 1}" + (f", batch {batch + 1}" if batch is not None else "")
        if (run_dir / GAN_FILE).exists():
            kept = f"the last good checkpoint, epoch {epochs_done}, is kept at {run_dir / GAN_FILE}"
        else:
            kept = "no checkpoint was kept: it diverged before the first epoch ended"
        message = f"training diverged at {where} ({bad}); {kept}. Try a lower --lr or another --seed."
        run_folder.write_state(run_dir, "diverged", epochs_done, history, message)
        return RunResult(run_dir, "diverged", initial_epoch, epochs_done, history, seconds, message, model)
    run_folder.write_state(run_dir, "finished", epochs_done, history)
    return RunResult(run_dir, "finished", initial_epoch, epochs_done, history, seconds, "", model)


def _train_locked(config, arrays, run_dir, with_seed, callbacks, verbose, log, started):
    import keras

    from train import callbacks as run_callbacks
    from train import datasets

    config, resuming = open_run_folder(run_dir, config, with_seed)
    try:
        gan, restored, strategy = _build_or_load(config, run_dir)
    except (TypeError, ValueError) as error:
        if isinstance(error, run_folder.RunFolderError):
            raise RunError(f"cannot resume: {error}") from None
        raise RunError(f"cannot build preset {config['preset']!r} with options {config['options']}: {error}") from None
    if not resuming:
        run_folder.write_config(run_dir, config)
    if not restored and gan.output_bias_from_data:
        gan.set_output_bias_from(arrays.x)  # the whole training split, as pylearn2 did
    if not restored:
        gan.initialize_from_data(arrays.x)  # improved-gan's weight-normalised layers: their first 500 images
    steps = int(config["steps_per_epoch"])
    initial_epoch = resumed_epoch(run_dir, gan, steps) if restored else 0
    history = history_before(run_dir, resuming, initial_epoch)
    if restored:
        log(f"Resuming {run_dir} from epoch {initial_epoch}/{config['epochs']} (seed {config['seed']}).")
    else:
        log(f"Training {config['preset']} on {config['dataset']} ({len(arrays)} samples) in {run_dir} (seed {config['seed']}).")
        run_folder.write_state(run_dir, "running", 0, history)

    divergence = run_callbacks.StopOnDivergence()
    epochs = int(config["epochs"])
    if initial_epoch < epochs:
        data = datasets.epoch_dataset(
            arrays, int(config["batch_size"]), int(config["seed"]), initial_epoch, epochs, labels=bool(config["conditional"])
        )
        # A keras.distribution (JAX) shards the batches in fit; a tf.distribute strategy did its part at build.
        fit_scope = strategy.scope() if isinstance(strategy, keras.distribution.DataParallel) else contextlib.nullcontext()
        with fit_scope:
            gan.fit(
                data,
                epochs=epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps,
                callbacks=[*_run_callbacks(config, arrays, run_dir, gan, history, divergence),
                           *run_callbacks.progress_callbacks(verbose), *callbacks],
                verbose=0,  # TrainingProgress shows the epochs: metrics in a fixed order, one line each in a log
                shuffle=False,  # each epoch's order is already fixed by (seed, epoch)
            )
    return finish_run(run_dir, gan, history, divergence, initial_epoch, started)
