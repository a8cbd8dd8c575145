"""The run folder: what a training run writes, and how to read it back.

    saved_models/<preset>-<dataset>-<YYYYmmdd-HHMMSS>/
        config.json      what was asked for (repeat the run from it) and the versions used
        state.json       progress: status (running | finished | diverged), epochs done, history
        gan.keras        the whole GAN with optimizer and noise-generator state: resumable
        generator.keras  the generator alone, for sampling and export
        samples/         a fixed-noise grid per epoch (or the toy-data figure), latent_walk.png
        curves.png       d_loss, g_loss, D(x), D(G(z)) per epoch
        logs/            TensorBoard
        .lock            held while a process trains in the folder: pid, host, start time

An epoch is committed in this order: its pictures and curves, generator.keras, the GAN as
.gan-epoch-NNNN.keras, then state.json (the commit), then that file is renamed to gan.keras.
state.json never claims an epoch that no checkpoint on disk holds, and a process killed at any
point resumes from a consistent pair (see `recover_checkpoint`).

This module is the one place that knows these names and the config's keys: `train.runner` writes
a folder through it, `ganzoo export` and `train.evaluation` read one through it, and `export`
itself only ever sees a model and its metadata.
"""

import os
import pathlib
import re

import numpy as np

from train import files

RUNS_DIR = "saved_models"
CONFIG_FILE, STATE_FILE = "config.json", "state.json"
GAN_FILE, GENERATOR_FILE = "gan.keras", "generator.keras"
LOCK_FILE = ".lock"
PENDING_GAN = re.compile(r"^\.gan-epoch-(\d+)\.keras$")  # a checkpoint written but not yet committed


class RunFolderError(ValueError):
    """A path that holds no model of the kind asked for: the user's to fix."""


# ------------------------------------------------------------------------------------------ config and state


def read_config(folder):
    """A run folder's config.json with its model identity (see `with_identity`); {} if it has none.

    Args:
        folder: the run folder (or any folder: one without a readable config.json gives {}).

    Raises RunFolderError naming the file when config.json is there but not valid JSON: a run
    exported or evaluated without its recorded settings would be silently wrong.
    """
    try:
        config = files.read_json(pathlib.Path(folder) / CONFIG_FILE)
    except OSError:
        return {}
    except ValueError as error:
        raise RunFolderError(str(error)) from None
    return with_identity(config) if isinstance(config, dict) else {}


# The presets' defaults when run configs did not yet record backbone and conditional: what such a
# config's preset name meant when it was written (the presets' defaults have changed since).
LEGACY_PRESETS = {
    "vanilla": {"backbone": "mlp"},
    "dcgan": {"backbone": "dcgan"},
    "conditional": {"backbone": "mlp", "num_classes": 10},
    "minibatch": {"backbone": "mlp"},
}


def with_identity(config):
    """`config` with "backbone" and "conditional" recorded, derived from the preset where an older run lacks them.

    A model's identity must not hang on a preset name: the demo trains a conditional DCGAN from
    the "dcgan" preset, the shipped conditional model comes from the "conditional" one.
    """
    config = dict(config)
    options = config.get("options") if isinstance(config.get("options"), dict) else {}
    if "backbone" not in config or "conditional" not in config:
        preset = LEGACY_PRESETS.get(config.get("preset"), {})
        config.setdefault("backbone", options.get("backbone", preset.get("backbone")))
        config.setdefault("conditional", (options.get("num_classes") or preset.get("num_classes")) is not None)
    return config


def write_config(run_dir, config):
    files.save_json(config, pathlib.Path(run_dir) / CONFIG_FILE)


def write_state(run_dir, status, epochs_done, history, message=None):
    """state.json: the run's status ("running", "finished" or "diverged"), epochs done and history."""
    state = {"status": status, "epochs_done": int(epochs_done), "history": history}
    if message:
        state["message"] = message
    files.save_json(state, pathlib.Path(run_dir) / STATE_FILE)


def epochs_done(run_dir):
    """The epochs state.json records as committed (0 when there is none yet): after `recover_checkpoint`, the
    epochs gan.keras holds."""
    path = pathlib.Path(run_dir) / STATE_FILE
    return int(files.read_json(path).get("epochs_done", 0)) if path.exists() else 0


def read_history(run_dir):
    """The per-epoch history in state.json ({} when there is none yet)."""
    path = pathlib.Path(run_dir) / STATE_FILE
    return files.read_json(path).get("history", {}) if path.exists() else {}


def run_status(run_dir):
    path = pathlib.Path(run_dir) / STATE_FILE
    return files.read_json(path).get("status", "running") if path.exists() else "running"


def lock(run_dir):
    """The one-writer lock of a run folder (a context manager); `files.LockedError` names the holder."""
    run_dir = pathlib.Path(run_dir)
    return files.exclusive(run_dir / LOCK_FILE, f"run folder {run_dir}")


def commit_epoch(run_dir, gan, epochs_done, history):
    """Checkpoint `gan` after `epochs_done` epochs, then record them in state.json, then install it as gan.keras.

    state.json is the commit: written only once the checkpoint it describes is complete on disk.
    """
    run_dir = pathlib.Path(run_dir)
    files.save_model(gan.sampling_generator, run_dir / GENERATOR_FILE)  # the averaged generator under EMA
    pending = files.save_model(gan, run_dir / f".gan-epoch-{int(epochs_done):04d}.keras")
    write_state(run_dir, "running", epochs_done, history)
    os.replace(pending, run_dir / GAN_FILE)


def recover_checkpoint(run_dir):
    """Finish or undo an epoch commit that a killed process left half done; returns the pending files handled.

    A pending checkpoint whose epoch state.json records is installed as gan.keras (the process died
    after the commit, before the rename); one that state.json does not record is discarded (it died
    before the commit: that epoch is trained again).
    """
    run_dir = pathlib.Path(run_dir)
    done = epochs_done(run_dir)
    handled = []
    for path in sorted(run_dir.iterdir()):
        match = PENDING_GAN.match(path.name)
        if match is None:
            continue
        if int(match.group(1)) == done:
            os.replace(path, run_dir / GAN_FILE)
        else:
            path.unlink()
        handled.append(path)
    return handled


# ------------------------------------------------------------------------------------------ reading models back


def model_file(source):
    """The .keras file behind `source` (a run folder or a .keras file) and the run folder it is in.

    Args:
        source: a run folder (gan.keras preferred, else generator.keras) or a .keras file.

    Raises FileNotFoundError when there is no model there, RunFolderError for another kind of file.
    """
    location = pathlib.Path(source)
    if location.is_dir():
        found = next((location / name for name in (GAN_FILE, GENERATOR_FILE) if (location / name).is_file()), None)
        if found is None:
            raise FileNotFoundError(f"{location} is not a run folder: it has neither {GAN_FILE} nor {GENERATOR_FILE}.")
        return found, location
    if location.is_file():
        if location.suffix != ".keras":
            raise RunFolderError(f"{location} is not a .keras file or a run folder.")
        return location, location.parent
    raise FileNotFoundError(f"no model at {location}")


def load(source):
    """(model, config): the GAN or generator saved in a run folder or .keras file, and the run's config.

    Args:
        source: a run folder or a .keras file (a GAN or a generator); a .keras file inside a run
            folder picks up the folder's config.json.
    """
    import keras

    import zoo  # noqa: F401  registers GAN and the custom layers for deserialisation

    path, folder = model_file(source)
    return load_keras(path, compile=False), read_config(folder)


def load_keras(path, **kwargs):
    """`keras.models.load_model`, with a file that is not a readable .keras archive named as corrupt."""
    import zipfile

    import keras

    import zoo  # noqa: F401  registers the zoo's models, layers and schedules for deserialisation

    path = pathlib.Path(path)
    if not zipfile.is_zipfile(path):
        size = path.stat().st_size
        raise RunFolderError(f"{path} is corrupt: not a .keras archive ({size} bytes; truncated or another format).")
    try:
        return keras.models.load_model(path, **kwargs)
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise RunFolderError(f"{path} is corrupt: {type(error).__name__}: {error}") from None


def _samples_with_dropout(config, options):
    """Whether the run's G samples with its dropout on (its options, else its preset's defaults)."""
    if "sampling_dropout" in options:
        return bool(options["sampling_dropout"])
    from zoo import presets

    preset = config.get("preset")
    if preset not in presets.PRESETS or not isinstance(config.get("backbone"), str):
        return False
    return bool(presets.preset_defaults(preset, backbone=config["backbone"]).get("sampling_dropout", False))


def export_metadata(config):
    """The ONNX metadata a run's config supplies (only the keys it actually has), for `export_generator`."""
    from export.metadata import PRIOR_PARAMS

    info = {}
    options = config.get("options") if isinstance(config.get("options"), dict) else {}
    for key in ("preset", "backbone"):
        if isinstance(config.get(key), str):
            info[key] = config[key]
    dataset = config.get("dataset")
    if isinstance(dataset, dict):
        dataset = dataset.get("name")
    if isinstance(dataset, str):
        info["dataset"] = dataset
    if isinstance(config.get("class_names"), list):
        info["class_names"] = [str(name) for name in config["class_names"]]
    if options.get("prior") in PRIOR_PARAMS:
        info["prior"] = options["prior"]
    if _samples_with_dropout(config, options):
        info["sampling_dropout"] = True  # read by the exporter for a generator saved alone
    training = {key: config[key] for key in ("epochs", "seed", "batch_size") if key in config}
    if training:
        info["training"] = training
    return info


def export(source, path, opset=None, fp16=False, metadata=None, label_dtype="int64", direction=None, int8=False,
           verbose=False):
    """`export.export_generator` for a run folder or .keras file, with the run's config as metadata; for a
    pix2pix or CycleGAN run, `export.export_translator`.

    Args:
        source: a run folder or a .keras file.
        path: the .onnx file to write.
        opset, fp16, label_dtype, int8: as for `export_generator` (fp16, int8 and label_dtype: noise GANs only).
        metadata: entries that override the run's (e.g. {"dataset": "digits"}).
        direction: a CycleGAN's generator to export, "ab" (default) or "ba".
        verbose: print a line as each phase of the export starts.
    """
    from export import export_generator, export_translator

    import zoo

    model, config = load(source)
    if isinstance(model, zoo.TranslationGAN):
        if fp16 or int8:
            raise RunFolderError(f"--{'fp16' if fp16 else 'int8'} exports noise GANs' generators; a translator exports "
                                 "in float32.")
        recorded = {key: config[key] for key in ("dataset",) if isinstance(config.get(key), str)}
        if config.get("data_shape"):
            recorded["training_image_shape"] = list(config["data_shape"])
        return export_translator(model, path, generator=direction, opset=opset, metadata={**recorded, **(metadata or {})},
                                 verbose=verbose)
    if direction is not None:
        raise RunFolderError("--direction picks a CycleGAN's generator; this is a noise GAN's.")
    return export_generator(
        model, path, opset=opset, fp16=fp16, metadata={**export_metadata(config), **(metadata or {})}, label_dtype=label_dtype,
        int8=int8, verbose=verbose,
    )


class KerasGenerator:
    """A generator network saved without its GAN, with what its run recorded: a sampler like `zoo.GAN`.

    `generate(n, labels=None, seed=None)` draws z from the recorded prior (numpy, as the ONNX
    runtime does) and returns float32 samples in the network's range.

    Args:
        generator: the generator `keras.Model` (inputs z, or z and label).
        prior: "uniform" or "normal".
        num_classes: the class count of a conditional generator.
    """

    def __init__(self, generator, prior="uniform", num_classes=None):
        conditional = len(generator.inputs) == 2
        if conditional != (num_classes is not None):
            raise ValueError(
                f"the generator has {len(generator.inputs)} input(s) but num_classes is {num_classes}; "
                "a conditional generator needs its run's config.json to know its classes."
            )
        self.generator = generator
        self.prior = prior
        self.num_classes = None if num_classes is None else int(num_classes)

    @property
    def latent_dim(self):
        return int(self.generator.inputs[0].shape[-1])

    @property
    def data_shape(self):
        return tuple(int(d) for d in self.generator.outputs[0].shape[1:])

    @property
    def conditional(self):
        return self.num_classes is not None

    def generate(self, n, labels=None, seed=None):
        from keras import ops

        from export import sampling

        z = sampling.prior_noise(n, self.latent_dim, self.prior, seed=seed)
        labels = sampling.check_labels(labels, len(z), self.num_classes)

        def run(z, labels):
            inputs = z if labels is None else [ops.convert_to_tensor(z), ops.convert_to_tensor(labels.astype("int32"))]
            return ops.convert_to_numpy(self.generator(inputs, training=False))

        return sampling.generate_in_chunks(run, z, labels).astype(np.float32)


def load_sampler(source):
    """(sampler, config) for a run folder or .keras file: the GAN itself, or a `KerasGenerator`.

    Args:
        source: a run folder or a .keras file.
    """
    import zoo

    model, config = load(source)
    if isinstance(model, zoo.GAN):
        return model, config
    options = config.get("options") if isinstance(config.get("options"), dict) else {}
    num_classes = None
    if len(model.inputs) == 2:
        num_classes = options.get("num_classes") or len(config.get("class_names") or []) or None
        if num_classes is None:
            raise RunFolderError(f"{source} is a conditional generator but its class count is unknown (no config.json).")
    return KerasGenerator(model, options.get("prior", "uniform"), num_classes), config
