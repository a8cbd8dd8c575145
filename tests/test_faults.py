"""Nothing lost: real full disks (`ulimit -f`), real SIGKILLs, paths that cannot be written, failed checks.

No file system is mocked: limits are the kernel's (`ulimit -f` makes a write fail with EFBIG;
Python ignores SIGXFSZ), crashes are SIGKILLs of real processes (tests/faulty_train.py).
"""

import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import faulty_train
import zoo
from export import exporter, files
from faulty_train import EPOCHS, ROOT, TRAIN, assert_complete, gan_epoch, state
from train import cli

ONNX_MODEL = ROOT / "saved_models" / "dcgan_digits.onnx"


_env = faulty_train.env


def limited(command, kilobytes):
    """`command` (a list) run under `ulimit -f kilobytes`: a disk that is full for any file larger than that."""
    return ["bash", "-c", f'ulimit -f {int(kilobytes)}; exec "$@"', "limited", *command]


def _python(code):
    return [sys.executable, "-c", code]


# ---------------------------------------------------------------------------------------------- one helper


def test_a_full_disk_keeps_the_old_file_and_names_path_and_cause(tmp_path):
    target = tmp_path / "report.json"
    target.write_text('{"good": true}')
    code = (
        "import sys; from export import files\n"
        "try:\n    files.write_bytes(b'x' * 500_000, sys.argv[1])\n"
        "except files.WriteError as error:\n    print(error)\n"
    )
    result = subprocess.run(limited([*_python(code), str(target)], 64), env=_env(), capture_output=True, text=True)
    assert result.stdout.strip() == f"cannot write {target}: File too large", result.stdout + result.stderr
    assert target.read_text() == '{"good": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left behind


def test_a_check_that_fails_inside_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with files.atomic_target(target) as temporary:
            temporary.write_bytes(b"new, but wrong")
            raise RuntimeError("check failed")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


@pytest.mark.parametrize("where", ["under a file", "a folder in the way"])
def test_paths_that_cannot_be_written_are_named_with_the_cause(tmp_path, where):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder.png").mkdir()
    path = tmp_path / "file" / "grid.png" if where == "under a file" else tmp_path / "folder.png"
    expected = f"{tmp_path / 'file'} is a file, not a folder" if where == "under a file" else "it is a folder"
    for write in (files.check_writable, lambda p: files.write_text("x", p)):
        with pytest.raises(files.WriteError, match=expected):
            write(path)


# ---------------------------------------------------------------------------------------------- commands


def test_sample_on_a_full_disk_exits_2_in_one_line_and_keeps_the_good_png(tmp_path):
    good = tmp_path / "grid.png"
    assert cli.main(["sample", str(ONNX_MODEL), "--n", "4", "--out", str(good)]) == 0
    before = good.read_bytes()
    command = [sys.executable, "-m", "train.cli", "sample", str(ONNX_MODEL), "--n", "400", "--out", str(good)]
    result = subprocess.run(limited(command, 16), env=_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"ganzoo sample: error: cannot write {good}: File too large\n"
    assert good.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", str(ONNX_MODEL), "--out", "{file}/grid.png"],
        ["evaluate", str(ONNX_MODEL), "--dataset", "digits", "--json", "{file}/report.json"],
        ["evaluate", str(ONNX_MODEL), "--dataset", "digits", "--json", "{folder}"],
        ["export", str(ROOT / "saved_models" / "dcgan_digits.keras"), "--out", "{file}/model.onnx"],
    ],
)
def test_an_output_that_cannot_be_written_is_found_before_the_work(argv, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    argv = [a.format(file=tmp_path / "file", folder=tmp_path / "folder") for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err
    assert "is a file, not a folder" in err or "it is a folder" in err


def test_an_export_that_fails_parity_leaves_the_old_onnx_and_no_new_one(tmp_path, monkeypatch):
    target = tmp_path / "generator.onnx"
    shutil.copy(ONNX_MODEL, target)
    before = target.read_bytes()
    keras.utils.set_random_seed(0)
    gan = zoo.create("vanilla", data_shape=(4,), latent_dim=4, g_units=[8], d_units=[8])
    monkeypatch.setattr(exporter, "FP32_TOLERANCE", -1.0)  # no output can pass: parity fails for sure
    with pytest.raises(exporter.ParityError, match=str(target)):
        exporter.export_generator(gan, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator.onnx"]  # no temporary, no lock file


# ---------------------------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def killed_runs(tmp_path_factory):
    """Each kill point in its own process, all started at once: {point: run folder} once all have died."""
    started = {}
    for point, epoch in (("mid-checkpoint", 2), ("after-checkpoint", 2), ("before-finished", EPOCHS)):
        run = tmp_path_factory.mktemp(point) / "run"
        process = subprocess.Popen(
            faulty_train.command(point, epoch, run), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started[point] = run, process
    for point, (run, process) in started.items():
        _, err = process.communicate(timeout=240)
        assert process.returncode == -9, f"{point}: exit {process.returncode}\n{err}"
    return {point: run for point, (run, _) in started.items()}


@pytest.mark.parametrize("point", ["mid-checkpoint", "before-finished"])
def test_a_run_killed_at_any_point_resumes_and_finishes_complete(point, killed_runs, reference_weights, capsys):
    run = killed_runs[point]
    recorded = state(run)
    assert recorded["status"] == "running"
    assert recorded["epochs_done"] == gan_epoch(run)  # state.json never claims an epoch no checkpoint holds
    assert cli.main([*TRAIN, "--out", str(run)]) == 0
    assert_complete(run, reference_weights)


def test_a_full_disk_at_a_checkpoint_exits_2_keeps_the_last_one_and_resume_works(killed_runs, reference_weights, capsys):
    run = killed_runs["after-checkpoint"]  # killed after epoch 2's checkpoint was written, before state.json
    assert state(run)["epochs_done"] == 1 and gan_epoch(run) == 1
    assert (run / ".gan-epoch-0002.keras").is_file()  # the uncommitted checkpoint: discarded on resume
    command = [sys.executable, "-m", "train.cli", *TRAIN, "--out", str(run)]
    result = subprocess.run(limited(command, 150), env=_env(), capture_output=True, text=True, timeout=240)
    assert result.returncode == 2, result.stderr
    # One line, no TensorFlow start-up chatter before it: the path and the cause.
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"ganzoo train: error: cannot write {run}/") and "File too large" in result.stderr
    assert state(run)["epochs_done"] == 1 and gan_epoch(run) == 1  # the previous checkpoint is intact
    assert cli.main([*TRAIN, "--out", str(run)]) == 0
    assert_complete(run, reference_weights)


def test_a_failing_command_shows_one_line_not_tensorflows_chatter(tmp_path):
    truncated = tmp_path / "gan.keras"
    truncated.write_bytes((ROOT / "saved_models" / "dcgan_digits.keras").read_bytes()[:5000])
    command = [sys.executable, "-m", "train.cli", "export", str(truncated), "--out", str(tmp_path / "g.onnx")]
    env = {key: value for key, value in _env().items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 2
    assert result.stderr == (
        f"ganzoo export: error: {truncated} is corrupt: not a .keras archive (5000 bytes; truncated or another format).\n"
    )
