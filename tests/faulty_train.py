"""A tiny `ganzoo train` run that SIGKILLs itself at a chosen point of an epoch's commit, and what a complete run is.

    python tests/faulty_train.py POINT EPOCH -- train ARGS...

POINT (at epoch EPOCH, 1-based):
- mid-checkpoint: while the GAN's checkpoint is being written (half of it is in the temporary file);
- after-checkpoint: the checkpoint is complete on disk, state.json does not record it yet;
- after-commit: state.json records the epoch, the checkpoint is not yet renamed to gan.keras;
  it first prints "committed" and waits 60 s (holding the run's lock) for the test to kill it;
- before-finished: every epoch is committed, the run is not yet marked finished.

tests/test_faults.py and tests/test_locking.py resume each and check the run with `assert_complete`.
"""

import json
import os
import pathlib
import signal
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
EPOCHS = 3
# A vanilla GAN whose checkpoint (~1 MB) is far larger than its pictures and JSON (< 100 KB), so a
# per-file size limit between the two is a disk that fills up exactly at the checkpoint.
TRAIN = [
    "train", "vanilla", "--epochs", str(EPOCHS), "--batch-size", "64", "--seed", "5", "--latent-dim", "8",
    "--option", "backbone=mlp", "--option", "g_units=512", "--option", "d_units=64", "--sample-every", "2", "--quiet",
]


def env():
    """The environment of a child process: this checkout, no GPU, no bytecode writes (they would hit a size limit)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "", "PYTHONDONTWRITEBYTECODE": "1"}


def command(point, epoch, out):
    return [sys.executable, __file__, point, str(epoch), "--", *TRAIN, "--out", str(out)]


def state(run):
    return json.loads((pathlib.Path(run) / "state.json").read_text())


def sigkill_after_epochs(process, run_dirs, epochs, timeout):
    """SIGKILL `process` (a `ganzoo train`) once the state.json of a folder among `run_dirs()` records `epochs`
    epochs done; returns the epochs done then, or None if the run ended or `timeout` seconds passed first."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        for folder in run_dirs():
            try:
                done = json.loads((pathlib.Path(folder) / "state.json").read_text())["epochs_done"]
            except (OSError, ValueError):  # not written yet, or being replaced
                continue
            if done >= epochs:
                process.send_signal(signal.SIGKILL)
                return done
        time.sleep(0.02)
    return None


def gan_epoch(run):
    """The epoch gan.keras holds, read from its optimizer's step count."""
    import keras

    gan = keras.models.load_model(pathlib.Path(run) / "gan.keras")
    return int(gan.g_optimizer.iterations.numpy()) // json.loads((pathlib.Path(run) / "config.json").read_text())["steps_per_epoch"]


def generator_weights(run):
    import keras

    return keras.models.load_model(pathlib.Path(run) / "gan.keras").generator.get_weights()


def assert_complete(run, reference_weights):
    """A finished run: every epoch recorded once, the promised files there, nothing half-written, exact weights."""
    import numpy as np

    run = pathlib.Path(run)
    recorded = state(run)
    assert recorded["status"] == "finished" and recorded["epochs_done"] == EPOCHS
    assert all(len(values) == EPOCHS for values in recorded["history"].values())
    for name in ("config.json", "gan.keras", "generator.keras", "curves.png", "samples/latent_walk.png",
                 "samples/epoch_002.png", f"samples/epoch_{EPOCHS:03d}.png"):  # the last grid although 3 % 2 != 0
        assert (run / name).is_file(), name
    assert not [p for p in run.rglob(".*") if p.is_file()], "temporary, pending or lock files left behind"
    for a, b in zip(generator_weights(run), reference_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


def _main():
    from train import cli, files, run_folder

    point, epoch = sys.argv[1], int(sys.argv[2])
    argv = sys.argv[sys.argv.index("--") + 1:]
    save_model, write_state = files.save_model, run_folder.write_state

    def die():
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def faulty_save_model(model, path):
        if point == "mid-checkpoint" and path.name == f".gan-epoch-{epoch:04d}.keras":
            with files.atomic_target(path) as temporary:
                model.save(temporary)
                with open(temporary, "r+b") as f:
                    f.truncate(temporary.stat().st_size // 2)
                die()
        return save_model(model, path)

    def faulty_write_state(run_dir, status, epochs_done, history, message=None):
        if point == "after-checkpoint" and status == "running" and epochs_done == epoch:
            die()
        if point == "before-finished" and status == "finished":
            die()
        write_state(run_dir, status, epochs_done, history, message)
        if point == "after-commit" and status == "running" and epochs_done == epoch:
            print("committed", flush=True)
            time.sleep(60)
            die()

    files.save_model = faulty_save_model
    run_folder.write_state = faulty_write_state
    sys.exit(cli.main(argv))


if __name__ == "__main__":
    _main()
