"""Named training recipes: the lecture example's experiments and the demo, runnable as `ganzoo train --recipe NAME`.

A recipe fixes a preset, a dataset and hyper-parameters; flags given on the command line override
them (e.g. `--dataset ../shared/data/mnist` where tensorflow-datasets cannot download MNIST).
"""

RECIPES = {
    "example1-gaussian1d": dict(
        description="the lecture example's Example 1: fit N(1, 1) with a 1-5-5-1 tanh generator and a 1-10-10-1 tanh discriminator",
        preset="vanilla",
        dataset="gaussian1d",
        epochs=10,
        batch_size=128,
        learning_rate=1e-3,
        options=dict(latent_dim=1, g_units=[5, 5], d_units=[10, 10], activation="tanh"),
    ),
    "example2-mnist-mlp": dict(
        description="the lecture example's Example 2: MLP GAN (256-512-1024 / 1024-512-256) on MNIST, 100-d uniform noise",
        preset="vanilla",
        dataset="mnist",
        epochs=30,
        batch_size=64,
        learning_rate=2e-4,
        options=dict(latent_dim=100),
    ),
    "dcgan-mnist": dict(
        description="DCGAN (Radford et al. 2015) on MNIST 28x28",
        preset="dcgan",
        dataset="mnist",
        epochs=5,
        batch_size=128,
        learning_rate=2e-4,
        options=dict(latent_dim=100, filters=64),
    ),
    "conditional-mnist": dict(
        description="conditional MLP GAN (Mirza & Osindero 2014) on MNIST: one row per digit in the sample grid",
        preset="conditional",
        dataset="mnist",
        epochs=30,
        batch_size=64,
        learning_rate=2e-4,
        options=dict(latent_dim=100),
    ),
    "minibatch-ring8": dict(
        description="minibatch discrimination (Salimans et al. 2016) on the 8-Gaussian ring",
        preset="minibatch",
        dataset="ring8",
        epochs=5,
        batch_size=128,
        learning_rate=1e-3,
        options=dict(latent_dim=2, g_units=[128, 128], d_units=[128, 128], minibatch_kernels=5, minibatch_dim=3, prior="normal"),
    ),
    "demo": dict(
        description="`ganzoo demo`: a conditional DCGAN on scikit-learn's 8x8 digits, a few minutes on 2 CPU cores",
        preset="dcgan",
        dataset="digits",
        epochs=25,
        batch_size=32,
        learning_rate=5e-4,
        options=dict(latent_dim=64, filters=32, num_classes=10),
    ),
}


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
             f"--batch-size {r['batch_size']}", f"--lr {r['learning_rate']:g}"]
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
