"""The shipped models by name: `zoo.pretrained()` lists them, `zoo.load_pretrained(name)` loads one.

The names, files and figures come from the `saved_models` package's index, which the
TensorFlow-free runtime reads too (`export.GeneratorSession.from_pretrained`,
`export.TranslatorSession.from_pretrained`).
"""

import copy

import keras

import saved_models
from zoo.gan import GAN
from zoo.presets import create
from zoo.translation import TranslationGAN


def pretrained(kind=None):
    """The shipped models, with how they were trained and how good they are.

    Args:
        kind: None for every model; "generator" (noise-to-image GANs) or "translator" (pix2pix / CycleGAN)
            for that kind's only.

    Returns:
        A list of dicts, one per model: "name", "kind", "description", "preset", "dataset", "metrics"
        (`ganzoo evaluate` figures of the model beside the baselines'), "protocol", "files", "training",
        "recreate" and "keras_holds" (see `saved_models.index`). A copy: changing it changes nothing shipped.
    """
    return copy.deepcopy(saved_models.index(kind))


def load_pretrained(name):
    """A shipped model, ready to use in Keras.

    A generator's name gives a `zoo.GAN`: `generate` it, export it, or compile and fine-tune it. Models shipped
    with their discriminator come back whole (the index's `keras_holds` is "gan"). Those shipped as generators
    only (the 8x8 digits ones, and the papers' `vanilla_mnist` and `cgan_mnist`, each a generator checkpoint of
    its run) come with a freshly initialised discriminator of their preset, which samples, exports and
    evaluates the same, but starts from scratch if fine-tuned.

    A translator's name gives its generator, a functional `keras.Model` from images (N, H, W, C_in) in [-1, 1]
    to translated images in [-1, 1] (H and W multiples of its size multiple; call it with `training=False`, as
    the ONNX file computes it): the network `export.TranslatorSession.from_pretrained(name)` serves. For
    CycleGAN that is the A -> B generator, the only one shipped. Where the file holds the whole model
    (`keras_holds == "gan"`, pix2pix), `keras.models.load_model(saved_models.path(name, "keras"))` gives the
    `zoo.Pix2Pix` with its discriminator, to compile and fine-tune.

    Args:
        name: a name from `pretrained()`, e.g. "conditional_mnist" or "pix2pix_edges2fashion".

    Raises:
        ValueError: no model has that name (the message lists the names).
    """
    model = saved_models.entry(name)
    loaded = keras.models.load_model(saved_models.path(name, "keras"), compile=False)
    if saved_models.kind_of(model) == saved_models.TRANSLATOR:
        return loaded.sampling_generator if isinstance(loaded, TranslationGAN) else loaded
    if isinstance(loaded, GAN):
        return loaded
    gan = create(model["preset"], **model["options"])
    gan.generator.set_weights(loaded.get_weights())  # same architecture, or a ValueError naming the shapes
    return gan
