"""`ganzoo train pix2pix|cyclegan`: a complete run folder, exact resume after SIGKILL, and one-line refusals."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from faulty_train import sigkill_after_epochs

from train import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
PIX2PIX = ["train", "pix2pix", "--dataset", "edges2digits", "--epochs", "2", "--batch-size", "32", "--seed", "3",
           "--option", "filters=4", "--option", "max_train=256", "--quiet"]
CYCLEGAN = ["train", "cyclegan", "--dataset", "thin2thick_digits", "--epochs", "3", "--batch-size", "16", "--seed", "4",
            "--option", "filters=4", "--option", "blocks=1", "--option", "patch_layers=1", "--option", "max_train=128",
            "--quiet"]


def _weights(run):
    import keras

    model = keras.models.load_model(pathlib.Path(run) / "gan.keras")
    return [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]


def test_pix2pix_run_folder_is_complete(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*PIX2PIX, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    state = json.loads((out / "state.json").read_text())
    assert config["kind"] == "translation" and config["preset"] == "pix2pix" and config["paired"]
    assert state["status"] == "finished" and state["epochs_done"] == 2
    assert set(state["history"]) >= {"d_loss", "g_loss", "l1", "d_real", "d_fake", "seconds"}
    for name in ("gan.keras", "generator.keras", "curves.png", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (out / name).is_file(), name
    assert "Latest samples:" in printed and "l1" in printed
    # The learning rate holds for the first half of the epochs, then decays (the papers' linear policy).
    import keras

    import zoo

    model = keras.models.load_model(out / "gan.keras")
    assert isinstance(model, zoo.Pix2Pix)
    schedule = model.g_optimizer._learning_rate  # Keras keeps a schedule there, `learning_rate` is its current value
    assert isinstance(schedule, zoo.ConstantThenLinearDecay)
    steps = config["steps_per_epoch"]
    assert [float(schedule(0)), float(schedule(steps))] == pytest.approx([2e-4, 1e-4])

    # `ganzoo evaluate` judges a translator by its task figures, beside the identity's and the real data's.
    assert cli.main(["evaluate", str(out), "--n", "64", "--json", str(tmp_path / "report.json")]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["protocol"]["count"] == 64 and report["real"]["l1"] == 0.0
    assert set(report["model"]) == {"l1", "class_accuracy"} and report["identity"]["l1"] > 0.1

    # `ganzoo export RUN` of a translator run: its generator, checked against Keras, with the run's data recorded.
    assert cli.main(["export", str(out), "--out", str(tmp_path / "p2p.onnx")]) == 0
    metadata = json.loads((tmp_path / "p2p.metadata.json").read_text())
    assert metadata["model"] == "pix2pix" and metadata["dataset"] == "edges2digits"
    assert cli.main(["export", str(out), "--triton", str(tmp_path / "triton")]) == 2


def test_cyclegan_resumes_after_sigkill_to_the_uninterrupted_weights(tmp_path):
    assert cli.main([*CYCLEGAN, "--out", str(tmp_path / "through")]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "train.cli", *CYCLEGAN, "--out", str(tmp_path / "killed")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    killed_at = sigkill_after_epochs(process, lambda: [tmp_path / "killed"], epochs=1, timeout=300)
    process.wait()
    assert killed_at is not None and killed_at < 3, process.stdout.read().decode()[-2000:]
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "Resuming" in resumed.stdout
    for a, b in zip(_weights(tmp_path / "killed"), _weights(tmp_path / "through"), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    state = json.loads((tmp_path / "killed" / "state.json").read_text())
    assert state["status"] == "finished" and len(state["history"]["g_loss"]) == 3


def test_a_mixed_precision_run_records_its_policy_and_exports_a_float32_graph(tmp_path):
    import keras
    import onnx

    import zoo

    out = tmp_path / "run"
    args = ["train", "pix2pix", "--dataset", "edges2digits", "--epochs", "1", "--batch-size", "32", "--seed", "3",
            "--option", "filters=4", "--option", "max_train=64", "--mixed-precision", "mixed_bfloat16", "--quiet"]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["mixed_precision"] == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # the run's policy did not outlive it
    model = keras.models.load_model(out / "gan.keras")
    assert zoo.computes_in_16_bits(model.generator)
    assert json.loads((out / "state.json").read_text())["status"] == "finished"
    assert cli.main(["export", str(out), "--out", str(tmp_path / "p2p.onnx")]) == 0  # a float32 copy, parity-checked
    graph = onnx.load(tmp_path / "p2p.onnx").graph
    types = {init.data_type for init in graph.initializer}
    assert onnx.TensorProto.FLOAT in types and not types & {onnx.TensorProto.BFLOAT16, onnx.TensorProto.FLOAT16}


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "pix2pix", "--loss", "hinge"], "--loss: not an option of pix2pix"),
        (["train", "pix2pix", "--dataset", "thin2thick_digits"], "pix2pix learns from pairs"),
        (["train", "cyclegan", "--option", "direction=sideways"], "direction must be AtoB or BtoA"),
        (["train", "pix2pix", "--batch-size", "100000"], "batch size 100000 is larger than"),
    ],
)
def test_bad_requests_are_one_line(tmp_path, capsys, args, message):
    assert cli.main([*args, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1, error
    assert not (tmp_path / "run").exists()
