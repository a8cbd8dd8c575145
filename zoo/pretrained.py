"""The shipped generators by name: `zoo.pretrained()` lists them, `zoo.load_pretrained(name)` loads one.

The names, files and figures come from the `saved_models` package's index, which the
TensorFlow-free runtime reads too (`export.GeneratorSession.from_pretrained`).
"""

import copy

import keras

import saved_models
from zoo.gan import GAN
from zoo.presets import create


def pretrained():
    """The shipped models, with how they were trained and how good they are.

    Returns:
        A list of dicts, one per model: "name", "description", "preset", "dataset", "conditional",
        "metrics" (`ganzoo evaluate` figures of the model and of the real data), "protocol", "files",
        "recreate" and "keras_holds". A copy: changing it changes nothing shipped.
    """
    return copy.deepcopy(saved_models.index())


def load_pretrained(name):
    """A shipped model as a ready `zoo.GAN`: `generate` it, export it, or compile and fine-tune it.

    Models shipped with their discriminator (the 28x28 ones) come back whole. The 8x8 digits models
    were shipped as generators only; they come with a freshly initialised discriminator of their
    preset, which samples, exports and evaluates the same, but starts from scratch if fine-tuned.

    Args:
        name: a name from `pretrained()`, e.g. "conditional_mnist".

    Raises:
        ValueError: no model has that name (the message lists the names).
    """
    model = saved_models.entry(name)
    loaded = keras.models.load_model(saved_models.path(name, "keras"), compile=False)
    if isinstance(loaded, GAN):
        return loaded
    gan = create(model["preset"], **model["options"])
    gan.generator.set_weights(loaded.get_weights())  # same architecture, or a ValueError naming the shapes
    return gan
