"""Named training recipes: the lecture example's experiments and the demo, runnable as `ganzoo train --recipe NAME`.

A recipe fixes a preset, a dataset and hyper-parameters; flags given on the command line override
them (e.g. `--dataset /path/to/mnist`, a folder of MNIST IDX files, where tensorflow-datasets cannot download
MNIST).
"""

import math

# The lecture example's Example 2 training; its two recipes differ only in the networks' options.
EXAMPLE2_TRAINING = dict(preset="vanilla", dataset="mnist", epochs=50, batch_size=64, learning_rate=2e-4)

RECIPES = {
    "example1-gaussian1d": dict(
        description="the lecture example's Example 1: fit N(1, 1) with a 1-5-5-1 tanh generator and a 1-10-10-1 tanh "
        "discriminator, from N(0, 1) noise, sampling the generator's moving average (decay 0.999): with U(-1, 1) noise "
        "the std stayed near 0.4, and without the average G kept circling the target (KS 0.03-0.19 over 5 seeds)",
        preset="vanilla",
        dataset="gaussian1d",
        epochs=10,
        batch_size=128,
        learning_rate=1e-3,
        options=dict(latent_dim=1, g_units=[5, 5], d_units=[10, 10], activation="tanh", dropout=0.0, prior="normal",
                     ema_decay=0.999),
    ),
    "example2-mnist-mlp": dict(
        description="the lecture example's Example 2, literally: ReLU MLP GAN (256-512-1024 / 1024-512-256), no dropout, "
        "on MNIST, 100-d uniform noise; D overpowers G and the samples collapse to one digit (1 class after 1,000 "
        "steps). At its 50 epochs (seed 0) it is still partly collapsed: 45% of samples are 1s, 0s, 2s and 3s are "
        "under 1% each (7 of 10 classes covered, classifier score 4.56, Frechet distance 143); "
        "`example2-mnist-mlp-dropout` is the fix",
        **EXAMPLE2_TRAINING,
        options=dict(backbone="mlp", latent_dim=100, activation="relu", dropout=0.0),
    ),
    "example2-mnist-mlp-dropout": dict(
        description="Example 2 with the smallest change that keeps all ten digits: D trained with dropout 0.3, as "
        "Goodfellow et al. trained theirs, and LeakyReLU(0.2) instead of ReLU (the `vanilla` preset's MLP); at its 50 "
        "epochs on MNIST (seed 0): recognisable digits of all ten classes, classifier score 8.24 (real 9.64), "
        "Frechet distance 10.3, class KL 0.010",
        **EXAMPLE2_TRAINING,
        options=dict(backbone="mlp", latent_dim=100, activation="leaky_relu", dropout=0.3),
    ),
    "dcgan-mnist": dict(
        description="DCGAN (Radford et al. 2015) as the paper built it (128 filters, Adam 2e-4, batch 128) on MNIST",
        preset="dcgan",
        dataset="mnist",
        epochs=5,
        batch_size=128,
    ),
    "conditional-mnist": dict(
        description="Mirza & Osindero 2014 as the paper built it (one-hot labels into ReLU and maxout branches, "
        "dropout 0.5, SGD with momentum, batch 100) on MNIST train[0:50000] for 50 epochs",
        preset="conditional",
        dataset="mnist",
        epochs=50,
        batch_size=100,
    ),
    "minibatch-ring8": dict(
        description="minibatch discrimination (Salimans et al. 2016) on the 8-Gaussian ring",
        preset="minibatch",
        dataset="ring8",
        epochs=5,
        batch_size=128,
        learning_rate=1e-3,
        options=dict(backbone="mlp", latent_dim=2, g_units=[128, 128], d_units=[128, 128], minibatch_kernels=5,
                     minibatch_dim=3, prior="normal"),
    ),
    "demo": dict(
        description="`ganzoo demo`: a conditional DCGAN on scikit-learn's 8x8 digits, a few minutes on 2 CPU cores",
        preset="conditional_dcgan_mbd",
        dataset="digits",
        epochs=25,
        batch_size=32,
        learning_rate=5e-4,
        # The conditional DCGAN as tuned for the digits, without the 28x28 model's minibatch discrimination.
        options=dict(latent_dim=64, filters=32, minibatch_kernels=0),
    ),
}


# What `ganzoo train PRESET` trains for when no --epochs / --batch-size is given: a number of
# generator steps, rounded up to whole epochs of the dataset (MNIST's 60,000 images at batch 64 make
# 937 steps an epoch; the 1,437 digits 22). Sized to finish within 15 minutes on 2 CPU cores at 28x28
# (benchmarks/quality.md measures each preset at this budget).
# The batch sizes are the papers'; the steps fit a CPU session (the papers' runs are far longer:
# benchmarks/papers.md trains each preset to its paper's number where it can).
PRESET_BUDGETS = {
    "vanilla": dict(steps=25_000, batch_size=100),  # 50 epochs of train[0:50000]
    "conditional": dict(steps=25_000, batch_size=100),
    "dcgan": dict(steps=4000, batch_size=128),
    "minibatch": dict(steps=6000, batch_size=100),
    "acgan": dict(steps=6000, batch_size=100),
    "infogan": dict(steps=5000, batch_size=128),  # the paper's own: 50 "epochs" of 100 updates
    "wgan": dict(steps=4000, batch_size=50),
    "wgan_gp": dict(steps=4000, batch_size=50),
    "lsgan": dict(steps=6000, batch_size=64),
    "dcgan_mbd_code_ema": dict(steps=8000, batch_size=64),
    "conditional_dcgan_mbd": dict(steps=3000, batch_size=64),
}
DEFAULT_BUDGET = dict(steps=6000, batch_size=64)


def budget(preset, num_samples, batch_size=None):
    """(epochs, batch_size) of preset's default budget on a dataset of `num_samples` samples.

    Args:
        preset: a zoo preset name.
        num_samples: the training set's size.
        batch_size: the batch size if the user chose one; default the preset's.
    """
    chosen = PRESET_BUDGETS.get(preset, DEFAULT_BUDGET)
    batch_size = int(batch_size or chosen["batch_size"])
    steps_per_epoch = max(1, int(num_samples) // batch_size)
    return max(1, math.ceil(chosen["steps"] / steps_per_epoch)), batch_size


def get_recipe(name):
    """A copy of recipe `name` (ValueError listing the recipes when unknown).

    Args:
        name: one of `RECIPES`.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}.")
    recipe = dict(RECIPES[name])
    recipe["options"] = dict(recipe.get("options", {}))
    return recipe


def recipe_command(name):
    """The equivalent `ganzoo train` command line, flags spelled out."""
    r = get_recipe(name)
    options = dict(r["options"])
    flags = [f"ganzoo train {r['preset']}", f"--dataset {r['dataset']}", f"--epochs {r['epochs']}",
             f"--batch-size {r['batch_size']}"]
    if r.get("learning_rate") is not None:
        flags.append(f"--lr {r['learning_rate']:g}")
    if "latent_dim" in options:
        flags.append(f"--latent-dim {options.pop('latent_dim')}")
    if "num_classes" in options:
        flags.append(f"--num-classes {options.pop('num_classes')}")
    if "prior" in options:
        flags.append(f"--prior {options.pop('prior')}")
    for key, value in options.items():
        text = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
        flags.append(f"--option {key}={text}")
    return " ".join(flags)
