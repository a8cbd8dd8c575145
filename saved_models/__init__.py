"""The pretrained generators shipped with GAN Zoo, found by name without any network access.

`index.json` beside this file lists them: name, what it was trained on, its files and its
`ganzoo evaluate` figures. This module only reads that index (json + pathlib), so both the Keras side
(`zoo.load_pretrained`) and the TensorFlow-free runtime (`export.GeneratorSession.from_pretrained`)
resolve names through it. The files are package data: they travel with the wheel.

    import saved_models
    saved_models.names()                       # ['conditional_dcgan_digits', 'conditional_mnist', ...]
    saved_models.path("conditional_mnist", "onnx")
"""

import json
import pathlib

FOLDER = pathlib.Path(__file__).resolve().parent
INDEX = FOLDER / "index.json"
FILE_KINDS = ("keras", "onnx", "samples")


def index():
    """Every shipped model's entry, in the index's order.

    Returns:
        A list of dicts: "name", "description", "preset", "dataset", "conditional", "files"
        ({kind: file name}), "metrics" and "protocol" (how the metrics were measured), "recreate"
        (the commands that train and export it) and "keras_holds" ("gan" or "generator").
    """
    return json.loads(INDEX.read_text())["models"]


def names():
    """The names `entry` accepts, sorted.

    Returns:
        A list of str.
    """
    return sorted(model["name"] for model in index())


def entry(name):
    """One model's index entry.

    Args:
        name: a shipped model's name, e.g. "conditional_mnist".

    Raises:
        ValueError: `name` is not shipped; the message lists the names that are.
    """
    for model in index():
        if model["name"] == name:
            return model
    raise ValueError(f"no pretrained model named {name!r}; the pretrained models are: {', '.join(names())}.")


def path(name, kind):
    """The absolute path of one of a model's files.

    Args:
        name: a shipped model's name.
        kind: "keras" (the Keras model, needs TensorFlow), "onnx" (the generator for onnxruntime) or
            "samples" (its sample grid, PNG).
    """
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown file kind {kind!r}; choose one of {FILE_KINDS}.")
    return FOLDER / entry(name)["files"][kind]
