"""One writer per run folder and per export target, with real concurrent processes; a dead holder never blocks."""

import json
import os
import re
import signal
import socket
import subprocess
import sys

import pytest

import faulty_train
from export import exporter, files
from faulty_train import ROOT, TRAIN, assert_complete, env
from train import cli

HOLD = (
    "import sys, time\nfrom export import files\n"
    "with files.exclusive(sys.argv[1], 'the thing'):\n    print('held', flush=True)\n    time.sleep(60)\n"
)


def _holder(lock):
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], env=env(), stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_the_lock_names_its_holder_and_a_killed_holder_does_not_block(tmp_path):
    lock = tmp_path / ".lock"
    process = _holder(lock)
    with pytest.raises(files.LockedError) as error:
        with files.exclusive(lock, "run folder x"):
            pass
    assert re.fullmatch(
        rf"run folder x is in use by pid {process.pid} on host {re.escape(socket.gethostname())} since "
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d \(lock file {re.escape(str(lock))}\)\.",
        str(error.value),
    ), str(error.value)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert lock.exists()  # left behind by the killed holder: stale, and taken over
    with files.exclusive(lock, "run folder x"):
        assert f"pid {os.getpid()} " in lock.read_text()
    assert not lock.exists()


def test_two_exports_to_one_target(tmp_path, capsys):
    target = tmp_path / "model.onnx"
    process = _holder(exporter.lock_path(target))  # another export is writing model.onnx
    try:
        code = cli.main(["export", str(ROOT / "saved_models" / "dcgan_digits.keras"), "--out", str(target)])
    finally:
        process.kill()
        process.wait()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"ganzoo export: error: export target {target} is in use by pid {process.pid} on host ")
    assert not target.exists()


def test_a_second_train_on_a_running_folder_exits_2_and_a_killed_run_resumes(tmp_path, reference_weights, capsys):
    run = tmp_path / "run"
    first = subprocess.Popen(faulty_train.command("after-commit", 1, run), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in first.stdout:  # epoch 1 committed; the process now holds the lock, mid-commit
            if line.strip() == "committed":
                break
        assert first.poll() is None, first.stderr.read()
        assert cli.main([*TRAIN, "--out", str(run)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith(f"ganzoo train: error: run folder {run} is in use by pid {first.pid} on host ")
        assert json.loads((run / "state.json").read_text())["epochs_done"] == 1  # the second writer wrote nothing
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert (run / ".lock").exists() and (run / ".gan-epoch-0001.keras").exists()  # killed holding the lock, mid-commit
    assert cli.main([*TRAIN, "--out", str(run)]) == 0  # the stale lock does not block; the commit is completed
    assert "Resuming" in capsys.readouterr().out
    assert_complete(run, reference_weights)
