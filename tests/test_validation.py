"""Nothing silently wrong: every CLI value, the data `GAN.fit` gets, and corrupt or changed inputs are checked."""

import gzip
import json
import logging
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import GeneratorSession, exporter
from train import cli, datasets, run_folder
from train.cli import training as cli_train
from train.runner import RunError, RunSpec, plan_run, train_run

ROOT = pathlib.Path(__file__).resolve().parents[1]
ONNX_MODEL = ROOT / "saved_models" / "dcgan_digits.onnx"


def _exit_code(argv):
    try:
        return cli.main(argv)
    except SystemExit as exit:
        return exit.code


# ---------------------------------------------------------------------------------------------- CLI values


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "vanilla", "--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["train", "vanilla", "--epochs", "-3"], "argument --epochs: must be at least 1, got -3"),
        (["train", "vanilla", "--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
        (["train", "vanilla", "--latent-dim", "0"], "argument --latent-dim: must be at least 1, got 0"),
        (["train", "vanilla", "--d-steps", "0"], "argument --d-steps: must be at least 1, got 0"),
        (["train", "vanilla", "--sample-every", "0"], "argument --sample-every: must be at least 1, got 0"),
        (["train", "vanilla", "--num-classes", "1"], "argument --num-classes: must be at least 2, got 1"),
        (["train", "vanilla", "--image-size", "0"], "argument --image-size: must be at least 1, got 0"),
        (["train", "vanilla", "--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
        (["train", "vanilla", "--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
        (["train", "vanilla", "--lr", "0"], "argument --lr: must be a finite number > 0, got 0"),
        (["train", "vanilla", "--epochs", "2.5"], "argument --epochs: expected an integer, got '2.5'"),
        (["demo", "--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
        (["export", "x.keras", "--out", "x.onnx", "--opset", "0"], "argument --opset: must be in 13..18, got 0"),
        (["export", "x.keras", "--out", "x.onnx", "--opset", "5"], "argument --opset: must be in 13..18, got 5"),
        (["export", "x.keras", "--out", "x.onnx", "--opset", "19"], "argument --opset: must be in 13..18, got 19"),
        (["sample", "m.onnx", "--out", "g.png", "--nrow", "0"], "argument --nrow: must be at least 1, got 0"),
        (["sample", "m.onnx", "--out", "g.png", "--n", "0"], "argument --n: must be in 1..10000, got 0"),
        (["sample", "m.onnx", "--out", "g.png", "--n", "100000000"], "argument --n: must be in 1..10000, got 100000000"),
        (["evaluate", "m.onnx", "--n", "1"], "argument --n: must be in 2..100000, got 1"),
        (["evaluate", "m.onnx", "--n", "10000000"], "argument --n: must be in 2..100000, got 10000000"),
    ],
)
def test_meaningless_values_are_rejected_in_one_line(argv, message, capsys):
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err == f"ganzoo {argv[0]}: error: {message}\n"


@pytest.mark.parametrize("word, value", [("no", False), ("False", False), ("0", False), ("off", False),
                                         ("yes", True), ("TRUE", True), ("1", True)])
def test_boolean_options_mean_what_they_say(word, value):
    assert cli_train.parse_option(f"feature_matching={word}") == ("feature_matching", value)


def test_a_boolean_option_that_is_not_one_is_rejected():
    with pytest.raises(cli.UsageError, match="--option feature_matching must be true/false, yes/no, 1/0 or on/off, got 'maybe'"):
        cli_train.parse_option("feature_matching=maybe")


def test_the_api_states_and_checks_the_opsets():
    assert exporter.check_opset(None) == exporter.DEFAULT_OPSET and list(exporter.OPSETS) == list(range(13, 19))
    for bad in (5, 0, 19, 17.0, True):
        with pytest.raises(ValueError, match="opset must be an integer in 13..18"):
            exporter.check_opset(bad)


# ---------------------------------------------------------------------------------------------- GAN.fit


@pytest.fixture(scope="module")
def gans():
    plain = zoo.create("vanilla", backbone="mlp", data_shape=(4, 4, 1), latent_dim=4, g_units=[8], d_units=[8])
    conditional = zoo.create(
        "conditional", backbone="mlp", data_shape=(4, 4, 1), latent_dim=4, g_units=[8], d_units=[8], num_classes=3
    )
    for gan in (plain, conditional):
        gan.compile()
    return plain, conditional


def _images(n=8):
    return np.random.default_rng(0).uniform(-1, 1, (n, 4, 4, 1)).astype("float32")


def _with_nan(x):
    x = x.copy()
    x[0, 1, 1, 0] = np.nan
    return x


@pytest.mark.parametrize(
    "change, message, in_pipeline",
    [
        (_with_nan, r"hold 1 NaN or Inf value\(s\), the first at index \(0, 1, 1, 0\)", "training samples hold NaN or Inf values"),
        (lambda x: (x + 1) * 127.5, r"lie in \[[\d.]+, [\d.]+\], but the generator outputs \[-1, 1\]; scale them to that "
         r"range \(e.g. x / 127.5 - 1 for pixels in \[0, 255\]\)", r"outside the generator's range \[-1, 1\]; scale them"),
        (lambda x: x[:, :3], r"training samples have shape \(3, 4, 1\), but this GAN generates \(4, 4, 1\)", None),
    ],
)
def test_fit_rejects_bad_images(gans, change, message, in_pipeline):
    with pytest.raises(ValueError, match=message):
        gans[0].fit(change(_images()), epochs=1, batch_size=4, verbose=0)
    if in_pipeline:  # the same check, batch by batch, in a dataset's input pipeline
        with pytest.raises(ValueError, match=in_pipeline):
            gans[0].fit(tf.data.Dataset.from_tensor_slices(change(_images())).batch(4), epochs=1, verbose=0)


def test_fit_scales_uint8_images_and_says_so_in_one_line(gans, caplog):
    pixels = ((_images() + 1) * 127.5).astype("uint8")
    with caplog.at_level(logging.WARNING, logger="zoo"):
        gans[0].fit(pixels, epochs=1, batch_size=4, verbose=0)
    assert [r.getMessage() for r in caplog.records] == ["GAN.fit: uint8 samples scaled from [0, 255] to the generator's range [-1, 1]."]


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.array([0, 1, 2, 2.7, 0, 1, 2, 0]), "labels must be whole class indices; got 2.7"),
        (np.array([0, 1, 2, np.nan, 0, 1, 2, 0]), "labels hold NaN or Inf values"),
        (np.array([0, 1, 2, 3, 0, 1, 2, 0]), r"label 3 is outside \[0, 3\)"),
        (np.array([0, 1, 2]), r"expected 8 labels \(one per sample\), got shape \(3,\)"),
    ],
)
def test_fit_rejects_bad_labels(gans, labels, message):
    with pytest.raises(ValueError, match=message):
        gans[1].fit(_images(), labels, epochs=1, batch_size=4, verbose=0)


def test_fit_takes_whole_float_labels_and_rejects_fractional_ones_in_a_dataset(gans):
    whole = tf.data.Dataset.from_tensor_slices((_images(), np.array([0, 1, 2, 2, 0, 1, 2, 0], "float32"))).batch(4)
    gans[1].fit(whole, epochs=1, verbose=0)
    fractional = tf.data.Dataset.from_tensor_slices((_images(), np.array([0, 1, 2, 2.7, 0, 1, 2, 0], "float32"))).batch(4)
    with pytest.raises(ValueError, match="labels must be whole class indices"):
        gans[1].fit(fractional, epochs=1, verbose=0)


def test_latent_dim_must_be_positive():
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
            zoo.create("vanilla", data_shape=(4,), latent_dim=bad)


def test_the_runtime_rejects_nan_noise():
    session = GeneratorSession(ONNX_MODEL, providers="cpu")
    z = session.sample_noise(2, seed=0)
    z[1, 0] = np.nan
    with pytest.raises(ValueError, match="z holds NaN or Inf values"):
        session(z)
    with pytest.raises(ValueError, match="z holds NaN or Inf values"):
        session.generate(2, z=z)


def test_the_runtime_draws_noise_in_chunks_with_the_same_values():
    session = GeneratorSession(ONNX_MODEL, providers="cpu")
    n = 2500  # three chunks of GENERATE_CHUNK rows
    np.testing.assert_array_equal(session.generate(n, seed=3), session.generate(n, z=session.sample_noise(n, seed=3)))


# ---------------------------------------------------------------------------------------------- corrupt inputs


def test_a_truncated_keras_file_is_corrupt_not_missing(tmp_path, capsys):
    truncated = tmp_path / "gan.keras"
    truncated.write_bytes((ROOT / "saved_models" / "dcgan_digits.keras").read_bytes()[:-100])
    with pytest.raises(run_folder.RunFolderError, match=f"{truncated} is corrupt"):
        run_folder.load(truncated)
    assert cli.main(["evaluate", str(truncated), "--dataset", "digits"]) == 2
    assert "is corrupt" in capsys.readouterr().err


def test_a_truncated_onnx_file_is_corrupt(tmp_path, capsys):
    truncated = tmp_path / "g.onnx"
    truncated.write_bytes(ONNX_MODEL.read_bytes()[:50_000])
    assert cli.main(["sample", str(truncated), "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert f"{truncated} is not a valid ONNX model" in err and err.count("\n") == 1
    assert not (tmp_path / "g.png").exists()


def _idx_copy(shared_data, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_data / "mnist" / name, folder / name)
    return folder


def test_a_truncated_idx_file_is_corrupt(shared_data, tmp_path):
    folder = _idx_copy(shared_data, tmp_path)
    images = folder / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:100_000])
    with pytest.raises(datasets.DatasetError, match=f"{images} is corrupt"):
        datasets.load_arrays(str(folder), split="test")


def test_a_label_count_that_differs_from_the_images_is_named(shared_data, tmp_path):
    folder = _idx_copy(shared_data, tmp_path)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    fewer = raw[:4] + (9000).to_bytes(4, "big") + raw[8 : 8 + 9000]
    labels.write_bytes(gzip.compress(fewer))
    with pytest.raises(datasets.DatasetError, match="holds 9,000 labels but .* holds 10,000 images"):
        datasets.load_arrays(str(folder), split="test")


def test_a_corrupt_config_names_the_file(tmp_path):
    spec = RunSpec("vanilla", epochs=1, options={"latent_dim": 4})
    config, _, run_dir, _ = plan_run(spec, out=tmp_path / "run")
    (run_dir / "config.json").write_text('{"preset": "vanilla", ')
    with pytest.raises(RunError, match=f"{run_dir / 'config.json'} is corrupt: not valid JSON"):
        plan_run(spec, out=run_dir)


def test_resuming_on_a_changed_dataset_says_so(tmp_path):
    spec = RunSpec("vanilla", epochs=1, seed=1, options={"latent_dim": 4})
    config, arrays, run_dir, _ = plan_run(spec, out=tmp_path / "run")
    assert config["dataset_fingerprint"] == datasets.fingerprint(arrays.x, arrays.y)
    run_folder.write_config(run_dir, {**config, "dataset_fingerprint": "0123456789ab"})
    with pytest.raises(RunError, match="changed: same size, different contents"):
        train_run(spec, out=run_dir, verbose=0)
    run_folder.write_config(run_dir, {**config, "num_samples": 1000})
    with pytest.raises(RunError, match="the run started on 1000 samples, 'digits' now has 1437"):
        train_run(spec, out=run_dir, verbose=0)
    assert json.loads((run_dir / "config.json").read_text())["num_samples"] == 1000  # nothing was overwritten


def test_a_corrupt_config_is_named_when_a_run_is_exported(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(ROOT / "saved_models" / "dcgan_digits.keras", folder / "gan.keras")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(run_folder.RunFolderError, match=f"{folder / 'config.json'} is corrupt: not valid JSON"):
        run_folder.load(folder)


def test_a_dataset_is_checked_by_one_pipeline_built_once():
    from zoo import checks

    data = tf.data.Dataset.from_tensor_slices(_images()).batch(4)
    first = checks.checked_dataset(data, (-1.0, 1.0), None)
    assert checks.checked_dataset(data, (-1.0, 1.0), None) is first  # not traced again on every fit call
    assert checks.checked_dataset(data, (0.0, 1.0), None) is not first
