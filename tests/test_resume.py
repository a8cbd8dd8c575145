"""A `ganzoo train` process SIGKILLed mid-run and started again with the same command finishes the run,
and ends with the same generator weights as an uninterrupted run with the same seed, its averaged
generator (EMA, Yazici et al. 2019) included."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from faulty_train import sigkill_after_epochs
from train.runner import RunError, RunSpec, train_run

EPOCHS = 6
ARGS = [
    "train", "vanilla", "--dataset", "digits", "--epochs", str(EPOCHS), "--batch-size", "32", "--seed", "11",
    "--latent-dim", "16", "--option", "backbone=mlp", "--option", "g_units=64", "--option", "d_units=64",
    "--option", "ema_decay=0.9", "--lr", "1e-3", "--quiet",
]
COMMAND = [sys.executable, "-c", "import sys; from train.cli import main; sys.exit(main())", *ARGS]


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def _generator_weights(run_dir):
    gan = keras.models.load_model(run_dir / "gan.keras")
    assert gan.sampling_generator is gan.ema_generator
    return gan.generator.get_weights() + gan.ema_generator.get_weights()


def test_sigkill_then_same_command_resumes_and_matches_uninterrupted(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    runs = work / "saved_models"

    process = subprocess.Popen(COMMAND, cwd=work, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    run_dirs = lambda: runs.glob("vanilla-digits-*") if runs.exists() else []
    killed_at = sigkill_after_epochs(process, run_dirs, epochs=2, timeout=120)
    process.wait()
    output = process.stdout.read().decode()
    assert killed_at is not None, f"the run ended before it could be killed:\n{output}"
    assert process.returncode == -signal.SIGKILL
    folders = list(runs.iterdir())
    assert len(folders) == 1
    state = json.loads((folders[0] / "state.json").read_text())
    assert state["status"] == "running" and state["epochs_done"] < EPOCHS, "killed after the run had finished"

    resumed = subprocess.run(COMMAND, cwd=work, env=_env(), capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    match = re.search(r"Resuming .* from epoch (\d+)/", resumed.stdout)
    assert match, resumed.stdout
    assert killed_at - 1 <= int(match.group(1)) < EPOCHS  # continued, did not start over
    assert list(runs.iterdir()) == folders, "the same command must continue the unfinished run folder"
    state = json.loads((folders[0] / "state.json").read_text())
    assert state["status"] == "finished" and state["epochs_done"] == EPOCHS
    assert len(state["history"]["g_loss"]) == EPOCHS
    assert len(list((folders[0] / "samples").glob("epoch_*.png"))) == EPOCHS

    spec = RunSpec(
        preset="vanilla", dataset="digits", epochs=EPOCHS, batch_size=32, seed=11, learning_rate=1e-3,
        options=dict(backbone="mlp", latent_dim=16, g_units=[64], d_units=[64], ema_decay=0.9),
    )
    reference = train_run(spec, out=tmp_path / "uninterrupted", verbose=0, log=lambda *_: None)
    assert reference.status == "finished"
    resumed_weights = _generator_weights(folders[0])
    reference_weights = _generator_weights(pathlib.Path(reference.run_dir))
    for a, b in zip(resumed_weights, reference_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    # Not trivially equal: training moved the weights away from their seeded initial values.
    config = json.loads((folders[0] / "config.json").read_text())
    keras.utils.set_random_seed(config["seed"])
    initial = zoo.create(config["preset"], **config["options"]).generator.get_weights()
    assert not np.allclose(initial[0], reference_weights[0], atol=1e-3)


class _CrashAtEpoch(keras.callbacks.Callback):
    """Stops the process's training as a crash would, once `epoch` (0-based) epochs are committed."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"crash before epoch {epoch + 1}")


def test_a_loss_scaled_run_resumes_from_its_committed_epoch_though_steps_were_skipped(tmp_path):
    """Under mixed_float16 a `LossScaleOptimizer` does not count the steps it skips (gradients that overflow the
    initial scale): the run resumes from the epochs state.json committed, not from G's optimizer steps."""
    spec = RunSpec(
        preset="conditional_dcgan_mbd", dataset="digits", epochs=2, batch_size=64, seed=3, mixed_precision="mixed_float16",
        options=dict(latent_dim=8, filters=4, conditioning="acgan"),  # AC-GAN's head overflows 2^15 for a few steps
    )
    quiet = {"verbose": 0, "log": lambda *_: None}
    try:
        train_run(spec, out=tmp_path / "crashed", callbacks=[_CrashAtEpoch(1)], **quiet)
    except KeyboardInterrupt:
        pass
    steps = json.loads((tmp_path / "crashed" / "config.json").read_text())["steps_per_epoch"]
    gan = keras.models.load_model(tmp_path / "crashed" / "gan.keras")
    assert int(gan.g_optimizer.iterations) < steps  # some of epoch 1's steps were skipped

    lines = []
    resumed = train_run(spec, out=tmp_path / "crashed", verbose=0, log=lines.append)
    reference = train_run(spec, out=tmp_path / "uninterrupted", **quiet)
    assert keras.mixed_precision.global_policy().name == "float32"  # the runs built their models in mixed_float16
    assert any("from epoch 1/2" in line for line in lines), lines
    assert resumed.status == reference.status == "finished"
    for a, b in zip(_weights(resumed.run_dir), _weights(reference.run_dir), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


def _weights(run_dir):
    gan = keras.models.load_model(pathlib.Path(run_dir) / "gan.keras")
    return gan.generator.get_weights() + gan.discriminator.get_weights()


def test_a_checkpoint_ahead_of_its_state_is_refused_not_trained_again(tmp_path):
    """gan.keras with more steps than state.json's epochs allow (state.json lost or edited) is a one-line error."""
    spec = RunSpec(preset="vanilla", dataset="digits", epochs=2, batch_size=256, seed=1,
                   options=dict(backbone="mlp", latent_dim=8, g_units=[16], d_units=[16]))
    quiet = {"verbose": 0, "log": lambda *_: None}
    try:
        train_run(spec, out=tmp_path / "run", callbacks=[_CrashAtEpoch(1)], **quiet)
    except KeyboardInterrupt:
        pass
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    (tmp_path / "run" / "state.json").write_text(json.dumps({**state, "epochs_done": 0}))
    with pytest.raises(RunError, match="more than the 0 epochs"):
        train_run(spec, out=tmp_path / "run", **quiet)
