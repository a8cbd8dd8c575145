"""Two worker processes on 127.0.0.1, configured by TF_CONFIG, train with MultiWorkerMirroredStrategy.

The test starts both workers (this file run as a script), waits for them with a timeout, and
checks that they end with identical weights, equal to one device trained on the same global batches.
"""

import os
import socket
import subprocess
import sys

import numpy as np

OPTIONS = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "data_shape": (4, 4, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16,), "seed": 3}
GLOBAL_BATCH, STEPS = 16, 3
TIMEOUT_S = 600


def _data():
    return np.random.default_rng(0).uniform(-1, 1, (GLOBAL_BATCH * STEPS, *OPTIONS["data_shape"])).astype("float32")


def _train(strategy):
    """Build, compile and fit the small vanilla GAN under `strategy`; returns its weights and last logs."""
    import keras

    import zoo

    keras.utils.set_random_seed(0)
    with strategy.scope():
        gan = zoo.create("vanilla", **OPTIONS)
        gan.compile()
    history = gan.fit(_data(), batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0).history
    return [np.asarray(w) for w in gan.get_weights()], {name: values[-1] for name, values in history.items()}


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_end_with_identical_weights_equal_to_one_device(tmp_path):
    from train.distribute import tf_config

    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    outputs = [tmp_path / f"worker{i}.npz" for i in range(2)]
    processes = []
    try:
        for index, output in enumerate(outputs):
            env = {**os.environ, "TF_CONFIG": tf_config(workers, index), "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, str(output)],
                    env=env,
                    cwd=os.path.dirname(os.path.abspath(__file__)),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        logs = [process.communicate(timeout=TIMEOUT_S)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, log in zip(processes, logs):
        assert process.returncode == 0, log[-3000:]

    import tensorflow as tf

    (first, first_logs), (second, second_logs) = map(_load, outputs)
    one_device, one_device_logs = _train(tf.distribute.get_strategy())
    assert len(first) == len(second) == len(one_device)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(first, one_device):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert sorted(first_logs) == sorted(one_device_logs) == ["d_fake", "d_loss", "d_real", "g_loss"]
    for name, value in one_device_logs.items():
        assert first_logs[name] == second_logs[name]
        assert abs(first_logs[name] - value) <= 1e-5, name


def _load(path):
    archive = np.load(path)
    weights = [archive[f"w{i}"] for i in range(sum(key.startswith("w") for key in archive))]
    return weights, {key[4:]: float(archive[key]) for key in archive if key.startswith("log_")}


def _worker(output):
    """One worker: the strategy first (before any other TensorFlow op), then the same program as everyone."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from train.distribute import get_strategy

    strategy = get_strategy("multiworker")
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    weights, logs = _train(strategy)
    np.savez(output, **{f"w{i}": w for i, w in enumerate(weights)}, **{f"log_{k}": v for k, v in logs.items()})


if __name__ == "__main__":
    _worker(sys.argv[1])
