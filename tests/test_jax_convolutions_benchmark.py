"""The JAX convolutions benchmark: its Keras-layers twin of a preset is the same model, and its page keeps each
preset's paired rows with the run they came from."""

import keras
import numpy as np

import zoo
from benchmarks import jax_convolutions


def test_keras_layers_model_is_the_preset_with_keras_convolutions_and_the_same_weights():
    gan = zoo.create("wgan_gp", data_shape=(28, 28, 1), seed=0)
    twin = jax_convolutions.keras_layers_model(gan)
    for ours, theirs in ((gan.generator, twin.generator), (gan.discriminator, twin.discriminator)):
        kinds = [type(layer) for layer in theirs.layers]
        assert zoo.Conv2D not in kinds and zoo.Conv2DTranspose not in kinds
        assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
        for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert keras.layers.Conv2DTranspose in [type(layer) for layer in twin.generator.layers]
    assert keras.layers.Conv2D in [type(layer) for layer in twin.discriminator.layers]
    z = np.random.default_rng(0).normal(size=(3, gan.latent_dim)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(twin.generator(z)),
                               keras.ops.convert_to_numpy(gan.generator(z)), atol=1e-6)
    assert twin.d_steps == gan.d_steps == 5


def _run(command):
    return {"command": command, "date": "2026-12-07", "machine": "x86_64 test", "load_before": [1, 1, 1],
            "load_after": [1, 1, 1], "steps": 30, "rounds": 5, "note": None}


def test_page_pairs_each_presets_rows_and_names_their_run():
    from benchmarks import step_costs

    def rows(keras_rates, zoo_rates):
        return [step_costs.paired_row(64, "Keras's Conv2D / Conv2DTranspose", keras_rates, keras_rates),
                step_costs.paired_row(64, "zoo.Conv2D / zoo.Conv2DTranspose", zoo_rates, keras_rates)]

    command = "python -m benchmarks.jax_convolutions --presets "
    result = {"presets": {
        "wgan": {"run": _run(command + "wgan"), "rows": rows([8, 10, 9], [30, 28, 36])},
        "wgan_gp": {"run": _run(command + "wgan_gp"), "rows": rows([4, 4, 5], [10, 12, 10])},
    }}
    page = jax_convolutions.render(result)
    assert "| `wgan` | 64 | zoo.Conv2D / zoo.Conv2DTranspose | 30.0 | 28.0 - 36.0 | 3.75x | 2.80 - 4.00 | 1 |" in page
    assert "| `wgan_gp` | 64 | Keras's Conv2D / Conv2DTranspose | 4.0 | 4.0 - 5.0 | 1.00x | 1.00 - 1.00 | 2 |" in page
    assert "Run 2: `python -m benchmarks.jax_convolutions --presets wgan_gp`" in page
    assert "## Layers" not in page
