"""`ganzoo train / demo`: bad input, the run folder, seeded reproducibility, divergence, recipes, progress.

`ganzoo list` and `ganzoo show`: tests/test_cli_catalog.py."""

import argparse
import json

import keras
import numpy as np
import pytest

import zoo  # noqa: F401 - registers the GAN classes for load_model
from train import cli, run_folder, runner
from train.cli import training as cli_train
from train.runner import RunSpec, train_run

TINY = ["--option", "filters=8", "--latent-dim", "8", "--quiet"]


def _run(capsys, *argv):
    try:
        code = cli.main(list(argv))
    except SystemExit as exit:  # a flag value argparse rejected
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["train", "nosuchpreset"], "unknown preset 'nosuchpreset'; choose one of acgan, conditional, conditional_dcgan_mbd"),
        (["train", "dcgan", "--dataset", "nosuchdata"], "unknown dataset 'nosuchdata'; choose one of digits"),
        (["train", "dcgan", "--dataset", "{empty}"], "holds no images"),
        (["train", "vanilla", "--batch-size", "5000"], "batch size 5000 is larger than dataset 'digits' (1437"),
        (["train", "vanilla", "--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["train", "vanilla", "--out", "{file}/run"], "/file/run: {file} is a file, not a folder"),
        (["train", "vanilla", "--dataset", "ring8", "--num-classes", "3"], "has no labels"),
        (["train", "conditional", "--dataset", "grid25"], "has no labels"),
        (["train", "--recipe", "nosuch"], "unknown recipe 'nosuch'; choose one of example1-gaussian1d"),
        (["train", "vanilla", "--loss", "hingeless"], "unknown loss 'hingeless'"),
        (["train", "vanilla", "--option", "no_such_option=1"], "unknown option(s) ['no_such_option']"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, reason, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("not a folder")
    argv = [a.format(empty=tmp_path / "empty", file=tmp_path / "file") for a in argv]
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("ganzoo train: error: ") and "Traceback" not in err
    assert reason.format(file=tmp_path / "file") in err
    assert not (tmp_path / "saved_models").exists() or not any((tmp_path / "saved_models").iterdir())


def test_cli_losses_are_the_zoos():
    assert cli_train.LOSSES == tuple(zoo.LOSSES)  # the CLI keeps its own copy so that --help needs no TensorFlow


def test_stabiliser_flags_reach_the_run_and_samples_come_from_the_averaged_generator(tmp_path, capsys):
    """--loss, --d-lr/--g-lr (TTUR) and an EMA option: recorded, used, and generator.keras / the export are
    the averaged generator, the one `generate` samples with."""
    import onnxruntime as ort

    run_dir = tmp_path / "run"
    argv = ["train", "dcgan", "--epochs", "1", "--seed", "3", "--loss", "hinge", "--d-lr", "4e-4", "--g-lr", "1e-4",
            "--option", "ema_decay=0.9", "--out", str(run_dir), *TINY]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    config = json.loads((run_dir / "config.json").read_text())
    assert config["options"]["loss"] == "hinge" and config["options"]["ema_decay"] == 0.9
    assert (config["d_learning_rate"], config["g_learning_rate"]) == (4e-4, 1e-4)
    gan = keras.models.load_model(run_dir / "gan.keras")
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    saved = keras.models.load_model(run_dir / "generator.keras")
    for averaged, kept in zip(gan.ema_generator.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(averaged, kept)
    assert any(not np.array_equal(a, b) for a, b in zip(gan.generator.get_weights(), saved.get_weights()))
    report = run_folder.export(run_dir, tmp_path / "g.onnx")
    z = np.random.default_rng(0).uniform(-1, 1, (4, 8)).astype("float32")
    onnx_out = ort.InferenceSession(report.path, providers=["CPUExecutionProvider"]).run(None, {"z": z})[0]
    np.testing.assert_allclose(onnx_out, gan.ema_generator(z, training=False), atol=1e-4)


def test_an_error_that_is_not_the_users_keeps_its_traceback(monkeypatch):
    def keras_fails(*args, **kwargs):
        raise ValueError("a Keras internal error")

    monkeypatch.setattr(runner, "train_run", keras_fails)
    with pytest.raises(ValueError, match="Keras internal"):  # not turned into "usage error, exit 2"
        cli.main(["train", "vanilla", "--quiet"])


def test_train_writes_a_complete_run_folder_and_same_seed_repeats_exactly(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "dcgan", "--epochs", "2", "--num-classes", "10", "--seed", "5", "--batch-size", "48", *TINY]
    code, out, _ = _run(capsys, *argv)
    assert code == 0, out
    (run_dir,) = (tmp_path / "saved_models").iterdir()
    assert run_dir.name.startswith("dcgan-digits-")
    assert "Run finished: 2 epoch(s)" in out and "wall time" in out and str(run_dir.name) in out
    assert "Epoch" not in out and "d_loss:" not in out  # --quiet: no progress
    config = json.loads((run_dir / "config.json").read_text())
    for key in ("preset", "options", "dataset", "class_names", "data_shape", "epochs", "batch_size", "seed",
                "learning_rate", "versions"):
        assert key in config
    assert config["options"] == {"data_shape": [8, 8, 1], "filters": 8, "latent_dim": 8, "num_classes": 10, "seed": 5}
    assert config["class_names"] == [str(i) for i in range(10)] and config["versions"]["keras"] == keras.__version__
    for name in ("gan.keras", "generator.keras", "curves.png", "samples/epoch_001.png", "samples/epoch_002.png",
                 "samples/latent_walk.png"):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))
    assert not list(run_dir.rglob(".*tmp*")), "temporary files left behind"
    state = json.loads((run_dir / "state.json").read_text())
    assert state["status"] == "finished" and state["epochs_done"] == 2
    # config.json alone repeats the run: rebuild the preset from it.
    rebuilt = zoo.create(config["preset"], **config["options"])
    assert rebuilt.conditional and rebuilt.data_shape == (8, 8, 1)

    # The same command again with --out pointing at the finished run refuses to overwrite it.
    code, _, err = _run(capsys, *argv, "--out", str(run_dir))
    assert code == 2 and "already holds a finished run" in err

    # Same seed, second run, with Keras's progress bar: identical generator weights and sample grids.
    loud = [arg for arg in argv if arg != "--quiet"]
    code, out, _ = _run(capsys, *loud, "--progress", "bar", "--out", str(tmp_path / "again"))
    assert code == 0
    assert "d_real = D(x), d_fake = D(G(z))" in out and "Epoch 1/2\n" in out and " left in the run\n" in out
    bars = [line for line in out.replace("\b", "").split("\r") if "━" in line]  # redrawn in place
    assert bars and all(line.index("d_loss:") < line.index("g_loss:") < line.index("d_real:") < line.index("d_fake:")
                        for line in bars)
    # The logs are running means already (the Mean trackers): the bar shows them as they are, not averaged again.
    d_loss = run_folder.read_history(tmp_path / "again")["d_loss"][-1]
    assert f"d_loss: {d_loss:.4f}" in bars[-1], (d_loss, bars[-1])
    assert out.rstrip().endswith(f"Latest samples: {tmp_path / 'again' / 'samples' / 'epoch_002.png'}")
    first = keras.models.load_model(run_dir / "generator.keras").get_weights()
    second = keras.models.load_model(tmp_path / "again" / "generator.keras").get_weights()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    for name in ("samples/epoch_002.png", "samples/latent_walk.png"):
        assert (run_dir / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    class PoisonSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                weights = self.model.generator.get_weights()
                self.good = [w.copy() for w in weights]
                weights[0] = weights[0] * np.inf
                self.model.generator.set_weights(weights)

    poison = PoisonSecondEpoch()
    spec = RunSpec(preset="vanilla", epochs=4, batch_size=64, seed=0, options=dict(backbone="mlp", g_units=[16], d_units=[16], latent_dim=4))
    result = train_run(spec, out=tmp_path / "run", callbacks=[poison], verbose=0, log=lambda *_: None)
    assert result.status == "diverged" and result.epochs_done == 1
    assert "training diverged at epoch 2, batch 1" in result.message
    assert f"the last good checkpoint, epoch 1, is kept at {tmp_path / 'run' / 'gan.keras'}" in result.message
    kept = keras.models.load_model(tmp_path / "run" / "gan.keras")
    for a, b in zip(kept.generator.get_weights(), poison.good, strict=True):
        np.testing.assert_array_equal(a, b)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["status"] == "diverged" and state["message"] == result.message
    assert not (tmp_path / "run" / "samples").exists() or not list((tmp_path / "run" / "samples").glob("epoch_002*"))
    with pytest.raises(runner.RunError, match="already holds a diverged run"):
        train_run(spec, out=tmp_path / "run", verbose=0)


def test_recipe_flags_and_the_gaussian1d_figure(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser()
    cli_train.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", "--recipe", "example1-gaussian1d", "--epochs", "1", "--lr", "0.01"])
    spec = cli_train.spec_from_args(args)
    assert (spec.preset, spec.dataset, spec.epochs, spec.learning_rate) == ("vanilla", "gaussian1d", 1, 0.01)
    assert spec.options == dict(latent_dim=1, g_units=[5, 5], d_units=[10, 10], activation="tanh", dropout=0.0,
                                prior="normal", ema_decay=0.999)
    assert cli_train.parse_option("g_units=5,5") == ("g_units", [5, 5])
    assert cli_train.parse_option("d_units=7") == ("d_units", [7])
    assert cli_train.parse_option("activation=tanh") == ("activation", "tanh")

    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "train", "--recipe", "example1-gaussian1d", "--epochs", "1", "--batch-size", "1000",
                        "--out", "g1", "--quiet", "--seed", "0")
    assert code == 0, out
    assert (tmp_path / "g1" / "samples" / "epoch_001.png").is_file()  # histogram + D(x) figure
    assert json.loads((tmp_path / "g1" / "config.json").read_text())["recipe"] == "example1-gaussian1d"


def test_demo_trains_exports_and_says_where_everything_is(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "demo", "--epochs", "1", "--out", "demo")
    assert code == 0, out + err
    # Not a terminal: one line per epoch, no bar redrawn with carriage returns.
    (epoch_line,) = [line for line in out.splitlines() if line.startswith("Epoch ")]
    assert epoch_line.startswith("Epoch 1/1 - ") and "\r" not in out and "\b" not in out
    assert " - d_loss: " in epoch_line and " - g_loss: " in epoch_line and " - d_real: " in epoch_line
    assert " - d_fake: " in epoch_line
    assert "Run folder: demo" in out and "samples/epoch_001.png" in out
    assert "ONNX" in out
    try:
        import export.exporter  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / "demo" / "generator.onnx").is_file()
