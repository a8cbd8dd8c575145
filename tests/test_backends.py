"""The zoo on every Keras backend: the same step on TensorFlow, JAX and PyTorch, `.keras` files that move between
them, seeded runs that repeat, a SIGKILLed JAX run that resumes to the uninterrupted run's weights, and JAX's
DataParallel on 2 virtual CPU devices equal to one device.

A process runs Keras on one backend (KERAS_BACKEND is read at import), so each check on another backend runs in
a subprocess: this file run as a script, `python tests/test_backends.py CHECK ARGS...`, printing JSON.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import without_tensorflow
from faulty_train import sigkill_after_epochs

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=f"{name} is not installed"))
    for name in ("jax", "torch")
]
# A small model with every kind of state a step carries: BatchNorm statistics, minibatch features over the
# batch, InfoGAN's code head and its metric, the moving-average generator, and the seed generator.
STATEFUL = ("dcgan_mbd_code_ema", {"data_shape": (8, 8, 1), "latent_dim": 16, "filters": 4, "seed": 3})
# JAX compiles faster without its slower optimisations; these checks are about values, not speed.
FAST_COMPILE = {"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"}
# PyTorch's CPU kernels on 2 threads made runs of one seed differ now and then (by up to 3e-3 after 88 steps, in
# about 1 of 8 processes here, with tf.data input as with numpy): runs that must repeat to 1e-5 use one thread.
TORCH_ONE_THREAD = {"OMP_NUM_THREADS": "1"}
RUN = ["train", "dcgan", "--dataset", "digits", "--epochs", "4", "--batch-size", "64", "--seed", "5",
       "--latent-dim", "16", "--option", "filters=8", "--quiet"]


def _run(backend, *args, env=None, timeout=600):
    """`check_<args[0]>(*args[1:])` on `backend`: in this process when it runs that backend (pytest runs this file
    on TensorFlow; a TensorFlow process costs seconds to start), else in a subprocess. JSON either way."""
    import keras

    if backend == keras.backend.backend() and env is None:
        check, *arguments = map(str, args)
        return json.loads(json.dumps(globals()[f"check_{check}"](*arguments)))
    done = subprocess.run(
        [sys.executable, __file__, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, **FAST_COMPILE, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "", **(env or {})},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ganzoo(backend, *args, hide_tensorflow=False):
    """(command, environment) of `ganzoo ARGS --backend BACKEND`, with TensorFlow hidden (tests/without_tensorflow.py)
    if asked."""
    refuse = f"sys.path.insert(0, {str(ROOT / 'tests')!r}); import without_tensorflow; without_tensorflow.refuse(); "
    program = f"import sys; {refuse if hide_tensorflow else ''}from train.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", program, *args, "--backend", backend]
    return command, {**os.environ, **FAST_COMPILE, **TORCH_ONE_THREAD, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}


def _weights(path):
    import keras

    import zoo  # noqa: F401 - registers the GAN class

    gan = keras.models.load_model(path)
    return gan.generator.get_weights() + gan.discriminator.get_weights()


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_step_is_the_tensorflow_step(backend, tmp_path):
    """From the same weights and noise, one step of each kind on each backend gives TensorFlow's weights and logs."""
    reference = _run("tensorflow", "step", tmp_path / "tensorflow")
    other = _run(backend, "step", tmp_path / backend)
    for case in STEP_CASES:
        assert reference[case]["changed"] > 1e-3
        assert other[case]["weights"] == reference[case]["weights"]
        for name in reference[case]["weights"]:
            np.testing.assert_allclose(
                np.load(tmp_path / backend / f"{case}-{name}.npy"), np.load(tmp_path / "tensorflow" / f"{case}-{name}.npy"),
                atol=TOLERANCE, rtol=0, err_msg=f"{case}: {name}",
            )
        for metric, value in reference[case]["logs"].items():  # float32 losses: relative to their size
            assert abs(other[case]["logs"][metric] - value) <= TOLERANCE * max(1.0, abs(value)), (case, metric)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_zoo_trains_without_tensorflow_and_its_files_move_between_backends(backend, tmp_path):
    """With JAX or PyTorch alone (TensorFlow's import refused, as on a GPU machine without its wheels): a model with
    every kind of step state trains with fit, saves, and loads to the same samples; that file loads on TensorFlow
    with the same outputs (1e-5) and its optimizer state, and a file TensorFlow trained loads there the same way."""
    there = _run(backend, "without_tensorflow", tmp_path / "there.keras", tmp_path / "there.npy")
    assert there == {"backend": backend, "steps": 6, "same_samples": True, "tensorflow_imported": False}
    here = _run("tensorflow", "load_and_generate", tmp_path / "there.keras", tmp_path / "there_on_tf.npy")
    assert here["steps"] == 6  # the optimizer state came along
    np.testing.assert_allclose(np.load(tmp_path / "there_on_tf.npy"), np.load(tmp_path / "there.npy"), atol=TOLERANCE)

    _run("tensorflow", "train_and_save", tmp_path / "tf.keras", tmp_path / "tf.npy")
    back = _run(backend, "load_and_generate", tmp_path / "tf.keras", tmp_path / "tf_there.npy", "without_tensorflow")
    assert back == {"steps": 6, "tensorflow_imported": False}
    np.testing.assert_allclose(np.load(tmp_path / "tf_there.npy"), np.load(tmp_path / "tf.npy"), atol=TOLERANCE)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_sigkilled_run_resumes_to_the_uninterrupted_runs_weights(backend, tmp_path):
    """`ganzoo train --backend B` with a seed where TensorFlow is not installed, and the same command SIGKILLed
    after its second epoch and started again: it continues, and ends with the uninterrupted run's weights (the
    random streams are saved with the model), which also shows that one seed gives one result in separate
    processes."""
    command, env = _ganzoo(backend, *RUN, "--out", str(tmp_path / "uninterrupted"), hide_tensorflow=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    uninterrupted = _weights(tmp_path / "uninterrupted" / "gan.keras")
    config = json.loads((tmp_path / "uninterrupted" / "config.json").read_text())
    assert config["backend"] == backend and config["versions"][backend]
    assert not (tmp_path / "uninterrupted" / "logs").exists()  # TensorBoard's files need TensorFlow: none written

    command, env = _ganzoo(backend, *RUN, "--out", str(tmp_path / "killed"), hide_tensorflow=True)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    killed_at = sigkill_after_epochs(process, lambda: [tmp_path / "killed"], epochs=2, timeout=300)
    process.wait()
    assert killed_at is not None and killed_at < 4, process.stdout.read().decode()[-2000:]
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "Resuming" in resumed.stdout
    for a, b in zip(_weights(tmp_path / "killed" / "gan.keras"), uninterrupted, strict=True):
        np.testing.assert_allclose(a, b, atol=TOLERANCE, rtol=0)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_data_parallel_on_two_devices_is_the_one_device_step():
    """keras.distribution.DataParallel over 2 virtual CPUs: the same weights, metrics and BatchNorm statistics as
    one device on the same global batches (minibatch features and noise rows over the global batch)."""
    result = _run("jax", "data_parallel", env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
    assert result["devices"] == 2 and result["sharded"]
    assert result["changed"] > 1e-3
    assert result["max_weight_difference"] <= TOLERANCE
    assert result["max_metric_difference"] <= TOLERANCE


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_export_of_a_jax_trained_run_passes_its_parity_check(tmp_path):
    """`ganzoo export` (which runs on TensorFlow whatever KERAS_BACKEND says) exports a run trained on JAX where
    TensorFlow is not installed; the export API on JAX itself says where export runs."""
    command, env = _ganzoo("jax", *RUN[:5], "1", *RUN[6:], "--out", str(tmp_path / "run"), hide_tensorflow=True)
    assert subprocess.run(command, env=env, capture_output=True, timeout=600).returncode == 0
    export = [sys.executable, "-c", "import sys; from train.cli import main; sys.exit(main())",
              "export", str(tmp_path / "run"), "--out", str(tmp_path / "g.onnx")]
    done = subprocess.run(export, env={**env, "KERAS_BACKEND": "jax"}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "OK" in done.stdout and (tmp_path / "g.onnx").exists()
    message = _run("jax", "export_message", tmp_path / "run" / "gan.keras")["error"]
    assert "tensorflow backend" in message and "ganzoo export" in message


def test_minimize_differentiates_each_loss_by_its_own_variables_before_any_update():
    """Worked by hand: losses a^2 b (for a) and a b^2 (for b) at a = 2, b = 3 both have gradient 2ab = 12, so SGD
    at 0.1 gives a = 0.8 and b = 1.8; the second gradient uses a before its update (otherwise 2 * 0.8 * 3)."""
    import keras

    from zoo import gradients

    a, b = keras.Variable(2.0), keras.Variable(3.0)
    optimizers = keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1)
    optimizers[0].build([a])
    optimizers[1].build([b])
    aux = gradients.minimize([(optimizers[0], [a]), (optimizers[1], [b])], lambda: ([a * a * b, a * b * b], "aux"))
    assert aux == "aux"
    assert float(keras.ops.convert_to_numpy(a)) == pytest.approx(0.8)
    assert float(keras.ops.convert_to_numpy(b)) == pytest.approx(1.8)


def test_backend_flag_is_checked(capsys):
    """--backend takes a Keras backend, and only the one this process runs on once Keras is imported."""
    import keras

    from train import cli

    assert cli.main(["train", "dcgan", "--backend", "theano"]) == 2
    assert "unknown backend 'theano'; choose one of tensorflow, jax, torch" in capsys.readouterr().err
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    assert cli.main(["train", "dcgan", "--backend", other]) == 2
    assert f"start it with KERAS_BACKEND={other}" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the subprocess


# One step of each: the three updates, the R1 penalty (a gradient of a gradient) with the moving average, and
# feature matching. (WGAN-GP draws its interpolation weights from the backend's own random numbers.)
STEP_CASES = {
    "alternating": {},
    "reuse_fake": {"update": "reuse_fake"},
    "fused": {"update": "fused"},
    "r1_and_moving_average": {"r1_weight": 10.0, "ema_decay": 0.5},
    "feature_matching_fused": {"feature_matching": True, "update": "fused"},
}


def _fixed_noise_gan(options):
    """A GAN whose noise is one fixed table (each backend draws its own random numbers), and no other randomness:
    the MLP networks without dropout, with minibatch features in D."""
    import keras

    import zoo

    class FixedNoiseGAN(zoo.GAN):
        def sample_noise(self, n, seed=None):
            table = np.random.default_rng(7).uniform(-1, 1, (16, self.latent_dim)).astype("float32")
            return keras.ops.convert_to_tensor(table)

    base = zoo.create("minibatch", backbone="mlp", data_shape=(4, 4, 1), latent_dim=8, g_units=(16,), d_units=(16,),
                      minibatch_kernels=4, minibatch_dim=3, dropout=0.0, seed=3)
    return FixedNoiseGAN.from_config({**base.get_config(), **options}), base


def check_step(folder):
    """One step of each update from fixed weights and noise; weights saved as .npy files, logs returned."""
    import keras

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(1).uniform(-1, 1, (16, 4, 4, 1)).astype("float32")
    results = {}
    for case, options in STEP_CASES.items():
        gan, base = _fixed_noise_gan(options)
        rng = np.random.default_rng(11)
        for network in (gan.generator, gan.discriminator):
            network.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in network.get_weights()])
        if gan.ema_generator is not None:
            gan.ema_generator.set_weights(gan.generator.get_weights())
        start = [w.copy() for w in gan.get_weights()]
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
        history = gan.fit(x, batch_size=16, epochs=1, shuffle=False, verbose=0).history
        weights = {}
        networks = {"generator": gan.generator, "discriminator": gan.discriminator, "ema_generator": gan.ema_generator}
        # Named by place, not by path: layer names count up in a process that has built other models.
        for role, network in networks.items():
            for index, variable in enumerate(network.weights if network is not None else []):
                name = f"{role}_{index}_{variable.name}"
                np.save(folder / f"{case}-{name}.npy", keras.ops.convert_to_numpy(variable))
                weights[name] = True
        results[case] = {
            "weights": sorted(weights),
            "changed": max(float(np.abs(a - b).max()) for a, b in zip(start, gan.get_weights())),
            "logs": {k: float(v[-1]) for k, v in history.items()},
        }
    return results


def check_train_and_save(path, samples):
    import keras

    gan = _trained_and_saved(path)
    np.save(samples, _samples(gan))
    return {"backend": keras.backend.backend(), "steps": int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations))}


def _trained_and_saved(path):
    """The STATEFUL model after 6 steps of fit on fixed noise images, saved to `path`."""
    import zoo

    name, options = STATEFUL
    gan = zoo.create(name, **options)
    gan.compile()
    x = np.random.default_rng(0).uniform(-1, 1, (192, 8, 8, 1)).astype("float32")
    gan.fit(x, batch_size=64, epochs=2, shuffle=False, verbose=0)
    gan.save(path)
    return gan


def check_without_tensorflow(path, samples):
    without_tensorflow.refuse()
    import keras

    gan = _trained_and_saved(path)
    np.save(samples, _samples(gan))
    back = keras.models.load_model(path)
    same = bool(np.allclose(_samples(back), _samples(gan), atol=TOLERANCE))
    return {"backend": keras.backend.backend(), "steps": int(keras.ops.convert_to_numpy(back.g_optimizer.iterations)),
            "same_samples": same, "tensorflow_imported": "tensorflow" in sys.modules}


def check_load_and_generate(path, samples, refuse_tensorflow=""):
    if refuse_tensorflow:
        without_tensorflow.refuse()
    import keras

    import zoo  # noqa: F401

    gan = keras.models.load_model(path)
    np.save(samples, _samples(gan))
    result = {"steps": int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations))}
    if refuse_tensorflow:
        result["tensorflow_imported"] = "tensorflow" in sys.modules
    return result


def _samples(gan):
    z = np.random.default_rng(2).uniform(-1, 1, (8, gan.latent_dim)).astype("float32")
    return np.concatenate([gan.generate_from(z).ravel(), np.asarray(gan.generator.predict(z, verbose=0)).ravel()])


# For DataParallel: minibatch features over the global batch; BatchNorm, InfoGAN's code head and metric, the
# moving average and the noise stream (minibatch features on DCGAN's 8x8 networks start at losses of hundreds,
# where rounding grows; each kind of state is here on a stable network instead).
DATA_PARALLEL_CASES = {
    "minibatch_features": ("minibatch", {"backbone": "mlp", "data_shape": (8, 8, 1), "latent_dim": 8, "g_units": (16,),
                                         "d_units": (16,), "minibatch_kernels": 4, "minibatch_dim": 3, "dropout": 0.0, "seed": 3}),
    "batchnorm_code_ema": ("dcgan", {"data_shape": (8, 8, 1), "latent_dim": 16, "filters": 4, "latent_code": 4,
                                     "ema_decay": 0.9, "seed": 3}),
}


def check_data_parallel():
    import jax
    import keras

    import zoo

    x = np.random.default_rng(0).uniform(-1, 1, (128, 8, 8, 1)).astype("float32")

    def train(name, options, distribution):
        keras.utils.set_random_seed(0)
        with distribution.scope() if distribution else _null():
            gan = zoo.create(name, **options)
            # SGD: Adam's first steps, lr * g / |g|, turn rounding-level gradient differences (a sum over two
            # shards is added in another order) into lr-sized ones.
            gan.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01))
            start = gan.get_weights()
            history = gan.fit(x, batch_size=64, epochs=2, shuffle=False, verbose=0).history
        return gan, start, history

    result = {"devices": len(jax.devices()), "sharded": True, "changed": np.inf, "max_weight_difference": 0.0,
              "max_metric_difference": 0.0}
    for name, options in DATA_PARALLEL_CASES.values():
        one, start, one_history = train(name, options, None)
        two, _, two_history = train(name, options, keras.distribution.DataParallel())
        result["sharded"] &= len(two.generator.trainable_variables[0].value.sharding.device_set) == 2
        result["changed"] = min(result["changed"], max(float(np.abs(a - b).max()) for a, b in zip(start, one.get_weights())))
        difference = max(float(np.abs(a - b).max()) for a, b in zip(one.get_weights(), two.get_weights()))
        result["max_weight_difference"] = max(result["max_weight_difference"], difference)
        metrics = max(abs(one_history[k][-1] - two_history[k][-1]) for k in one_history)
        result["max_metric_difference"] = max(result["max_metric_difference"], metrics)
    return result


def _null():
    import contextlib

    return contextlib.nullcontext()


def check_export_message(path):
    from export.exporter import export_generator

    try:
        export_generator(path, pathlib.Path(path).with_suffix(".onnx"))
    except ValueError as error:
        return {"error": str(error)}
    return {"error": None}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    check, *arguments = sys.argv[1:]
    print(json.dumps(globals()[f"check_{check}"](*arguments)))
