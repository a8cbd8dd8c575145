"""What a `.keras` file leaves out and a resumed run needs: the states of the seed generators a model draws from.

Keras saves layer variables but not `SeedGenerator` states (a GAN's noise, its networks' dropout masks, an image
history's draws); without them a resumed run replays randomness it has already drawn instead of continuing the
stream, and ends elsewhere than an uninterrupted run. On torch, Keras's Dropout without a seed of its own draws
from torch's global generator, so that state is saved too. `zoo.GAN` and `zoo.TranslationGAN` call these from
their `save_own_variables` / `load_own_variables`.
"""

import keras
import numpy as np

KEY_PREFIX = "seed_state"
TORCH_RNG_KEY = "torch_rng_state"  # in a .keras file saved on torch: its global generator


def seed_generators_of(networks):
    """{store key: SeedGenerator} of the layers of `networks` that draw (a network may also be a single layer).

    Args:
        networks: functional models or layers.
    """
    found = {}
    for network in networks:
        for layer in getattr(network, "layers", [network]):
            generator = getattr(layer, "seed_generator", None)
            if isinstance(generator, keras.random.SeedGenerator):
                found[f"{KEY_PREFIX}_{network.name}_{layer.name}"] = generator
    return found


def save_random_states(store, generators):
    """Write each generator's state (and torch's global one, on torch) into a `save_own_variables` store.

    Args:
        store: the store `save_own_variables` received.
        generators: {store key: SeedGenerator}; keys start with `KEY_PREFIX`.
    """
    for key, generator in generators.items():
        store[key] = generator.state
    if keras.backend.backend() == "torch":
        import torch

        store[TORCH_RNG_KEY] = torch.get_rng_state().numpy()


def load_random_states(store, generators):
    """Restore the states `save_random_states` wrote; returns the rest of the store, the model's own variables.

    Args:
        store: the store `load_own_variables` received.
        generators: {store key: SeedGenerator}, as when saving.
    """
    for key in store.keys():
        if key in generators:
            generators[key].state.assign(store[key])
    if TORCH_RNG_KEY in store.keys() and keras.backend.backend() == "torch":
        import torch

        torch.set_rng_state(torch.from_numpy(np.asarray(store[TORCH_RNG_KEY], dtype="uint8")))
    return {key: store[key] for key in store.keys() if not key.startswith(KEY_PREFIX) and key != TORCH_RNG_KEY}
