"""One `fit` step under MirroredStrategy on 2 logical CPUs equals the one-device step on the same global batch.

Logical devices must be configured before TensorFlow initialises its devices, which other tests in
this pytest process have already done, so the comparisons run in one fresh subprocess (this file run
as a script) that prints its measurements as JSON; the tests below check them.
"""

import json
import os
import subprocess
import sys

import pytest

TOLERANCE = 1e-5
MLP = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "data_shape": (4, 4, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16,), "seed": 3}
DCGAN = {"data_shape": (8, 8, 1), "latent_dim": 8, "filters": 4, "seed": 3}

# name: (preset, options, GAN update, batches of the global batch size 16 ...)
CASES = {
    "vanilla": ("vanilla", MLP, "alternating", [16]),
    # Two steps, the last batch (15) split 8 / 7 between the replicas: shares, noise rows and
    # metrics still add up to the one-device values.
    "conditional_d_steps_2_uneven_split": ("conditional", {**MLP, "num_classes": 3, "d_steps": 2}, "alternating", [16, 15]),
    # Feature matching compares global-batch feature means (all-reduced), so it is exact too.
    "minibatch_feature_matching_fused": ("minibatch", {**MLP, "minibatch_kernels": 0, "feature_matching": True}, "fused", [16]),
    "vanilla_reuse_fake": ("vanilla", MLP, "reuse_fake", [16]),
    # Minibatch features compare each sample with the whole global batch (all-gathered).
    "minibatch_discrimination": ("minibatch", {**MLP, "minibatch_kernels": 4, "minibatch_dim": 3}, "alternating", [16]),
    "dcgan_batchnorm_per_replica": ("dcgan", DCGAN, "alternating", [16]),
    "dcgan_batchnorm_synchronized": ("dcgan", DCGAN, "alternating", [16]),
}
EXACT = [
    "vanilla",
    "conditional_d_steps_2_uneven_split",
    "minibatch_feature_matching_fused",
    "vanilla_reuse_fake",
    "minibatch_discrimination",
    "dcgan_batchnorm_synchronized",
]


@pytest.fixture(scope="module")
def measured():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, timeout=900, env=env, cwd=os.path.dirname(__file__)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", EXACT)
def test_two_replicas_give_the_one_device_weights_and_losses(measured, case):
    result = measured[case]
    assert result["replicas"] == 2
    assert result["steps"] == len(CASES[case][3])
    assert result["weights_changed"] > 1e-4  # the step did something
    assert result["max_weight_difference"] <= TOLERANCE
    for name, difference in result["metric_differences"].items():
        assert difference <= TOLERANCE, name


def test_replicas_draw_different_noise_that_is_the_one_device_draw(measured):
    noise = measured["noise"]
    assert noise["replica_0_vs_1"] > 0.1
    assert noise["concatenated_vs_one_device"] == 0.0


def test_batchnorm_statistics_are_per_replica_by_default(measured):
    result = measured["dcgan_batchnorm_per_replica"]
    # Each replica normalises its own 8 rows: the step differs from the one-device step...
    assert result["max_weight_difference"] > 10 * TOLERANCE
    # ...and each replica keeps its own moving averages.
    assert result["moving_statistics_replicas_differ"]
    assert not measured["dcgan_batchnorm_synchronized"]["moving_statistics_replicas_differ"]


def test_models_trained_one_after_another_in_new_strategies_at_other_batch_sizes(measured):
    """A notebook trains several models in one process: a second MirroredStrategy at another batch size used to
    fail in minibatch discrimination's all_gather ("Shape mismatch in the collective instance")."""
    assert measured["one_after_another"] == {"dcgan_mbd_code_ema_batch_64": "trained", "dcgan_mbd_code_ema_batch_256": "trained"}


def test_update_option_is_validated_and_survives_a_keras_round_trip(tmp_path):
    import keras

    import zoo

    base = zoo.create("vanilla", **MLP)
    with pytest.raises(ValueError, match="d_steps=1"):
        zoo.GAN.from_config({**base.get_config(), "update": "fused", "d_steps": 2})
    with pytest.raises(ValueError, match="Unknown update"):
        zoo.GAN.from_config({**base.get_config(), "update": "sometimes"})
    gan = _create("vanilla", MLP, "reuse_fake")
    gan.compile()
    gan.save(tmp_path / "gan.keras")
    assert keras.models.load_model(tmp_path / "gan.keras").update == "reuse_fake"


# ----------------------------------------------------------------------------- the subprocess


def _create(preset, options, update):
    """`zoo.create` plus GAN's `update` option."""
    import zoo

    gan = zoo.create(preset, **options)
    if update != "alternating":
        gan = zoo.GAN.from_config({**gan.get_config(), "update": update})
    return gan


def _compare(strategy, preset, options, update, batches, synchronized_batch_norm=False):
    import keras
    import numpy as np
    import tensorflow as tf

    from train.distribute import synchronize_batch_norm

    def build(scope_strategy, weights=None):
        with scope_strategy.scope():
            gan = _create(preset, options, update)
            if synchronized_batch_norm:
                synchronize_batch_norm(gan)
            if weights is not None:
                gan.set_weights(weights)
            # Plain SGD for BatchNorm models: Adam's first step, lr * g / |g|, turns rounding-level
            # gradient differences (synchronised moments are computed differently) into lr-sized ones.
            optimizer = (lambda: keras.optimizers.SGD(0.1)) if preset == "dcgan" else (lambda: None)
            gan.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
        return gan

    keras.utils.set_random_seed(0)
    one = build(tf.distribute.get_strategy())
    initial = one.get_weights()
    two = build(strategy, initial)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (sum(batches), *one.data_shape)).astype("float32")
    y = rng.integers(0, 3, sum(batches))
    inputs = (x, y) if one.conditional else (x,)
    histories = [gan.fit(*inputs, batch_size=batches[0], epochs=1, verbose=0, shuffle=False).history for gan in (one, two)]
    moving = [v.value for v in two.non_trainable_variables if "moving" in v.path]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "steps": int(np.asarray(two.g_optimizer.iterations.value.values[0])),
        "weights_changed": max(float(np.abs(a - b).max()) for a, b in zip(initial, one.get_weights())),
        "max_weight_difference": max(float(np.abs(a - b).max()) for a, b in zip(one.get_weights(), two.get_weights())),
        "metric_differences": {k: abs(histories[0][k][-1] - histories[1][k][-1]) for k in histories[0]},
        "moving_statistics_replicas_differ": any(
            not np.array_equal(*[np.asarray(t) for t in variable.values]) for variable in moving
        ),
    }


def _noise(strategy):
    """Per-replica noise of a 2 x 4 global batch, against one device's draw of 8 from the same seed."""
    import numpy as np
    import tensorflow as tf

    import zoo

    with strategy.scope():
        gan = zoo.create("vanilla", **MLP)
    reference = np.asarray(zoo.create("vanilla", **MLP).sample_noise(8))

    @tf.function
    def draw():
        return strategy.run(lambda: gan._noise_and_share(4)[0]())

    z = [np.asarray(t) for t in strategy.experimental_local_results(draw())]
    return {
        "replica_0_vs_1": float(np.abs(z[0] - z[1]).max()),
        "concatenated_vs_one_device": float(np.abs(np.concatenate(z) - reference).max()),
    }


def _one_after_another():
    """The issue's reproduction: each model in a new MirroredStrategy over the 2 CPUs, one batch each, 64 then 256.
    Its `dcgan` had minibatch features, whose all-gather failed; that model is `dcgan_mbd_code_ema` now."""
    import numpy as np
    import tensorflow as tf

    import zoo

    results = {}
    for preset in ("dcgan_mbd_code_ema",):
        for batch in (64, 256):
            strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
            with strategy.scope():
                gan = zoo.create(preset, data_shape=(8, 8, 1), seed=0)
                gan.compile()
            x = np.random.default_rng(batch).uniform(-1, 1, (batch, 8, 8, 1)).astype("float32")
            try:
                gan.fit(x, batch_size=batch, epochs=1, verbose=0)
                results[f"{preset}_batch_{batch}"] = "trained"
            except Exception as error:  # noqa: BLE001 - reported to the test
                results[f"{preset}_batch_{batch}"] = f"{type(error).__name__}: {str(error)[:300]}"
    return results


def main():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from train.distribute import get_strategy

    strategy = get_strategy("mirrored")
    results = {"noise": _noise(strategy)}
    for name, (preset, options, update, batches) in CASES.items():
        results[name] = _compare(strategy, preset, options, update, batches, name.endswith("synchronized"))
    results["one_after_another"] = _one_after_another()
    print(json.dumps(results))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
