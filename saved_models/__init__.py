"""The pretrained models shipped with GAN Zoo, found by name without any network access.

Two kinds: noise-to-image **generators** (GANs: `ganzoo sample NAME`) and image-to-image **translators**
(pix2pix / CycleGAN generators: `ganzoo translate NAME IMAGE...`). `index.json` beside this file lists them:
name, kind, what it was trained on, its files and its `ganzoo evaluate` figures. This module only reads that
index (json + pathlib), so both the Keras side (`zoo.load_pretrained`) and the TensorFlow-free runtime
(`export.GeneratorSession.from_pretrained`, `export.TranslatorSession.from_pretrained`) resolve names through
it. The files are package data: they travel with the wheel.

    import saved_models
    saved_models.names()                       # every name, both kinds
    saved_models.names("translator")           # ['cyclegan_thin2thick', 'pix2pix_edges2fashion']
    saved_models.path("conditional_mnist", "onnx")
    saved_models.path("pix2pix_edges2fashion", "onnx", model_kind="translator")   # ValueError for a generator
"""

import json
import pathlib

FOLDER = pathlib.Path(__file__).resolve().parent
INDEX = FOLDER / "index.json"
FILE_KINDS = ("keras", "onnx", "samples")
# The kinds of model an entry's "kind" names; an entry without one is a generator (indexes written before
# translators were shipped).
GENERATOR, TRANSLATOR = "generator", "translator"
MODEL_KINDS = (GENERATOR, TRANSLATOR)
# How each kind is opened, for the error that meets a name of the other kind.
_OPENED_WITH = {
    GENERATOR: "export.GeneratorSession.from_pretrained({name!r}), zoo.load_pretrained({name!r}) or `ganzoo sample {name}`",
    TRANSLATOR: (
        "export.TranslatorSession.from_pretrained({name!r}), zoo.load_pretrained({name!r}) (its Keras generator) "
        "or `ganzoo translate {name} IMAGE... --out DIR`"
    ),
}


def kind_of(model):
    """An index entry's kind: "generator" or "translator" ("generator" where the entry names none)."""
    return model.get("kind", GENERATOR)


def _check_kind(kind):
    if kind is not None and kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {MODEL_KINDS} (or None for every model).")


def index(kind=None):
    """The shipped models' entries, in the index's order.

    Args:
        kind: None for every model, "generator" or "translator" for that kind's only.

    Returns:
        A list of dicts. Every entry has "name", "kind", "description", "preset", "dataset", "files"
        ({file kind: file name}), "metrics" and "protocol" (how the metrics were measured), "training",
        "parameters", "recreate" (the commands that train and ship it) and "keras_holds" (what the .keras file
        holds: "gan", the whole model without optimizer state, or "generator"). Generators add "conditional"
        and "options"; translators add "model" ("pix2pix" or "cyclegan"), "direction", "image_shape",
        "task" (what a correct translation does) and "test_time_dropout" (see saved_models/README.md).
    """
    _check_kind(kind)
    models = json.loads(INDEX.read_text())["models"]
    for model in models:
        model.setdefault("kind", GENERATOR)
    return [model for model in models if kind is None or model["kind"] == kind]


def names(kind=None):
    """The shipped models' names, sorted.

    Args:
        kind: None for every model, "generator" or "translator" for that kind's only.

    Returns:
        A list of str.
    """
    return sorted(model["name"] for model in index(kind))


def entry(name, kind=None):
    """One model's index entry.

    Args:
        name: a shipped model's name, e.g. "conditional_mnist".
        kind: None for any model; "generator" or "translator" to require that kind.

    Raises:
        ValueError: `name` is not shipped (the message lists the names of `kind`), or is of the other kind
            (the message says how that kind is opened).
    """
    _check_kind(kind)
    for model in index():
        if model["name"] == name:
            if kind is not None and model["kind"] != kind:
                raise ValueError(
                    f"{name!r} is a pretrained {model['kind']}, not a {kind}: open it with "
                    f"{_OPENED_WITH[model['kind']].format(name=name)}."
                )
            return model
    what = "pretrained models" if kind is None else f"pretrained {kind}s"
    raise ValueError(f"no pretrained model named {name!r}; the {what} are: {', '.join(names(kind))}.")


def path(name, kind, model_kind=None):
    """The absolute path of one of a model's files.

    Args:
        name: a shipped model's name.
        kind: the file: "keras" (the Keras model, needs TensorFlow), "onnx" (the generator or translator for
            onnxruntime; its metadata sidecar is beside it) or "samples" (its sample grid, PNG).
        model_kind: None for any model; "generator" or "translator" to require that kind (see `entry`).
    """
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown file kind {kind!r}; choose one of {FILE_KINDS}.")
    return FOLDER / entry(name, model_kind)["files"][kind]
