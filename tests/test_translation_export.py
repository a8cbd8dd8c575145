"""pix2pix and CycleGAN to ONNX: dynamic sizes, parity with `model.translate`, the metadata, the TensorFlow-free
`TranslatorSession`, and `ganzoo translate` on PNG files."""

import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import onnx
import pytest
from PIL import Image

import zoo
from export import TranslatorSession, exporter, files
from export import metadata as metadata_lib
from export.translation import export_translator
from train import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _randomise_batchnorm(network, seed=0):
    """Trained-looking BatchNorm statistics, so inference mode differs from training mode and folding is exercised."""
    rng = np.random.default_rng(seed)
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, c))
            layer.beta.assign(rng.normal(0, 0.3, c))
            layer.moving_mean.assign(rng.normal(0, 0.3, c))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, c))


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory):
    """A tiny pix2pix (U-Net of depth 4, so sides are multiples of 16), 1 -> 3 channels, exported."""
    keras.utils.set_random_seed(0)
    model = zoo.create_translator("pix2pix", (16, 16, 1), filters=4, output_channels=3)
    _randomise_batchnorm(model.generator)
    path = tmp_path_factory.mktemp("pix2pix") / "pix2pix.onnx"
    report = export_translator(model, path, metadata={"dataset": "toy"})
    return model, path, report


@pytest.fixture(scope="module")
def cyclegan(tmp_path_factory):
    """A tiny CycleGAN saved as .keras; its B -> A generator exported from the file."""
    keras.utils.set_random_seed(1)
    model = zoo.create_translator("cyclegan", (16, 16, 1), filters=4, blocks=1, patch_layers=1)
    folder = tmp_path_factory.mktemp("cyclegan")
    model.save(folder / "cyclegan.keras")
    report = export_translator(folder / "cyclegan.keras", folder / "b2a.onnx", generator="ba")
    return model, folder / "b2a.onnx", report


def _dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def _attributes(node):
    return {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}


def _images(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


# --------------------------------------------------------------------------- export


@pytest.mark.tensorflow_only
def test_pix2pix_export_is_dynamic_rewritten_and_matches_keras(pix2pix):
    model, path, report = pix2pix
    graph = onnx.load(path).graph
    assert [(v.name, _dims(v)) for v in graph.input] == [("images", ["batch", "height", "width", 1])]
    assert [(v.name, _dims(v)) for v in graph.output] == [("translated", ["batch", "height", "width", 3])]
    # The U-Net's transposed convolutions became Conv + DepthToSpace, and stay exact at every size.
    assert report.rewrites == {"conv_transpose": 4, "reduce_mean": 0}
    assert not any(node.op_type == "ConvTranspose" for node in graph.node)
    assert [(row["batch"], row["height"], row["width"]) for row in report.checks] == [
        (1, 16, 16), (3, 16, 16), (1, 32, 32), (3, 32, 32)
    ]
    assert report.max_abs_diff < 1e-4 and "overall max abs diff" in str(report)
    # A size the parity check did not try, not square: the graph is still the Keras model in inference mode.
    images = _images((2, 16, 48, 1), seed=3)
    np.testing.assert_allclose(TranslatorSession(path).translate(images), model.translate(images), atol=1e-4)


@pytest.mark.tensorflow_only
def test_pix2pix_metadata_in_the_model_and_the_sidecar(pix2pix):
    _, path, report = pix2pix
    props = {p.key: p.value for p in onnx.load(path).metadata_props}
    sidecar = json.loads(metadata_lib.sidecar_path(path).read_text())
    assert json.loads(props.pop(metadata_lib.FORMAT_KEY)) == sidecar.pop(metadata_lib.FORMAT_KEY) == "gan-zoo-translator/1"
    assert {key: json.loads(value) for key, value in props.items()} == sidecar == report.metadata
    meta = TranslatorSession(path).metadata
    assert meta == report.metadata
    expected = {
        "kind": "translator", "model": "pix2pix", "direction": "ab", "generator": "generator", "channels_in": 1,
        "channels_out": 3, "size_multiple": 16, "training_image_shape": [16, 16, 1], "layout": "NHWC",
        "precision": "fp32", "opset": 17, "dataset": "toy",
    }
    assert {key: meta[key] for key in expected} == expected
    assert (meta["input_range"]["min"], meta["input_range"]["max"]) == (-1.0, 1.0)
    assert (meta["value_range"]["min"], meta["value_range"]["max"]) == (-1.0, 1.0)
    assert meta["test_time_dropout"].startswith("off (inference mode)") and "docs/models.md" in meta["test_time_dropout"]
    assert set(meta["versions"]) >= {"gan-zoo", "tensorflow", "tf2onnx", "onnxruntime"}


@pytest.mark.tensorflow_only
def test_cyclegan_ba_from_a_keras_file(cyclegan):
    model, path, report = cyclegan
    session = TranslatorSession(path)
    assert (session.model_name, session.direction, session.size_multiple) == ("cyclegan", "ba", 4)
    assert session.metadata["test_time_dropout"].startswith("none") and session.training_image_shape == (16, 16, 1)
    # 3x3 stride-2 phases differ in length: optimize_graph leaves them. Each instance norm's two means are split.
    assert report.rewrites == {"conv_transpose": 0, "reduce_mean": 14}
    means = [node for node in onnx.load(path).graph.node if node.op_type == "ReduceMean"]
    assert len(means) == 3 * 14 and all(len(_attributes(node)["axes"]) == 1 for node in means)
    assert [(row["batch"], row["height"]) for row in report.checks] == [(1, 16), (3, 16), (1, 32), (3, 32)]
    assert report.max_abs_diff < 1e-4
    images = _images((2, 8, 20, 1), seed=4)
    np.testing.assert_allclose(
        session.translate(images), model.translate(images, generator=model.generator_ba), atol=1e-4
    )
    assert np.abs(session.translate(images) - model.translate(images)).max() > 1e-3  # not G_AB


@pytest.mark.tensorflow_only
def test_a_graph_that_disagrees_is_never_written(pix2pix, tmp_path, monkeypatch):
    model, _, _ = pix2pix
    target = tmp_path / "p.onnx"
    target.write_bytes(b"previous")
    optimize = exporter.optimize_graph

    def off_by_a_little(onnx_model):
        onnx_model = optimize(onnx_model)
        # Every float constant 1% off (an untrained U-Net's inner layers barely reach the output on their own).
        for init in onnx_model.graph.initializer:
            if init.data_type == onnx.TensorProto.FLOAT:
                values = onnx.numpy_helper.to_array(init) * np.float32(1.01)
                init.CopyFrom(onnx.numpy_helper.from_array(values, init.name))
        return onnx_model

    monkeypatch.setattr(exporter, "optimize_graph", off_by_a_little)
    with pytest.raises(exporter.ParityError, match=r"differs from Keras by .* at batch 1, 16x16"):
        export_translator(model, target)
    assert target.read_bytes() == b"previous" and not metadata_lib.sidecar_path(target).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.onnx"]  # no temporary, no lock left


@pytest.mark.tensorflow_only
def test_bad_sources_and_a_held_target(pix2pix, cyclegan, tmp_path):
    model, _, _ = pix2pix
    with pytest.raises(ValueError, match="pix2pix has one generator"):
        export_translator(model, tmp_path / "x.onnx", generator="ba")
    with pytest.raises(ValueError, match=r"generator must be one of \('ab', 'ba'\)"):
        export_translator(cyclegan[0], tmp_path / "x.onnx", generator="b2a")
    with pytest.raises(ValueError, match="export_generator"):
        export_translator(model.generator, tmp_path / "x.onnx")
    target = tmp_path / "held.onnx"
    with files.exclusive(exporter.lock_path(target), "another export"), pytest.raises(files.LockedError, match="is in use"):
        export_translator(model, target)
    assert not target.exists()


@pytest.mark.parametrize("opset", [17, 18])
def test_split_reductions_is_the_same_mean_more_accurately(opset):
    """Instance norm's mean over H and W of NHWC maps: onnxruntime's one-pass sum drifts; one axis at a time does not."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from export.translation import split_reductions

    shape = (1, 256, 256, 8, 1)
    if opset == 17:
        mean = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1, 2, 4], keepdims=1)
        initializers = []
    else:  # opset 18 moved the axes to an input
        mean = helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=1)
        initializers = [numpy_helper.from_array(np.array([1, 2, 4], np.int64), "axes")]
    graph = helper.make_graph([mean], "mean", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 1, 1, 8, 1))], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    split, count = split_reductions(model)
    onnx.checker.check_model(split, full_check=True)
    assert count == 1 and [node.op_type for node in split.graph.node] == ["ReduceMean"] * 3
    x = np.random.default_rng(0).uniform(0, 2, shape).astype(np.float32)  # post-ReLU-like: all positive
    truth = x.astype(np.float64).mean(axis=(1, 2, 4), keepdims=True)

    def error(onnx_model):
        session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
        y = session.run(None, {"x": x})[0]
        assert y.shape == truth.shape
        return np.abs(y - truth).max()

    assert error(split) < 1e-6 and error(split) < error(model) / 4


# --------------------------------------------------------------------------- runtime


@pytest.mark.tensorflow_only
def test_uint8_in_and_out_and_one_hwc_image(pix2pix):
    _, path, _ = pix2pix
    session = TranslatorSession(path, providers="cpu")
    assert session.providers == ["CPUExecutionProvider"] and session.provider == "CPUExecutionProvider"
    pixels = np.random.default_rng(5).integers(0, 256, (3, 16, 32, 1), dtype=np.uint8)
    out = session.translate(pixels, batch_size=2)
    assert out.dtype == np.uint8 and out.shape == (3, 16, 32, 3)
    floats = session.translate(pixels.astype(np.float32) / 127.5 - 1)
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(out, np.clip(np.rint((floats + 1) * 127.5), 0, 255).astype(np.uint8))
    one = session.translate(pixels[1])
    assert one.shape == (16, 32, 3) and one.dtype == np.uint8
    np.testing.assert_array_equal(one, out[1])


@pytest.mark.tensorflow_only
def test_each_bad_input_has_its_own_error(pix2pix):
    _, path, _ = pix2pix
    session = TranslatorSession(path)
    good = np.zeros((2, 16, 16, 1), np.float32)
    with pytest.raises(ValueError, match=r"float32 .* or uint8 pixels .* got float64; convert with"):
        session.translate(good.astype(np.float64))
    with pytest.raises(ValueError, match=r"takes 1-channel images, channels last \(NHWC\); got 3 channels"):
        session.translate(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match=r"multiples of 16; got height 16 and width 20: .* width 32"):
        session.translate(np.zeros((1, 16, 20, 1), np.float32))
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\], got values in \[0, 255\]"):
        session.translate(np.full((1, 16, 16, 1), 255, np.float32) * (np.arange(16) > 7)[:, None, None])
    with pytest.raises(ValueError, match=r"channel axis: images\[\.\.\., None\]"):
        session.translate(np.zeros((16, 16), np.uint8))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        session.translate(good, batch_size=0)
    from export import GeneratorSession

    with pytest.raises(ValueError, match="is a GAN Zoo image-to-image translator, not a generator"):
        GeneratorSession(path)


NO_TF = """
import sys
sys.modules["tensorflow"] = None   # as if TensorFlow were not installed: importing it raises
sys.modules["keras"] = None
{body}
assert "tensorflow" not in sys.modules or sys.modules["tensorflow"] is None
print("OK")
"""


@pytest.mark.tensorflow_only
def test_runtime_and_cli_work_without_tensorflow(pix2pix, tmp_path):
    _, path, _ = pix2pix
    Image.fromarray(np.random.default_rng(6).integers(0, 256, (16, 32), dtype=np.uint8)).save(tmp_path / "gray.png")
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    out = tmp_path / "out"
    body = f"""
import numpy as np
from export import TranslatorSession
from train.cli import main
session = TranslatorSession({str(path)!r})
assert session.translate(np.zeros((2, 32, 16, 1), np.uint8)).shape == (2, 32, 16, 3)
assert main(["translate", {str(path)!r}, {str(tmp_path / 'gray.png')!r}, "--out", {str(out)!r}]) == 0
assert main(["translate", {str(path)!r}, {str(tmp_path / 'rgb.png')!r}, "--resize", "32", "--out", {str(out)!r}]) == 0
"""
    result = subprocess.run(
        [sys.executable, "-c", NO_TF.format(body=body)], capture_output=True, text=True, cwd=ROOT, timeout=120,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-2000:]
    assert f"wrote {out / 'gray.png'} (32x16) from {tmp_path / 'gray.png'}" in result.stdout
    gray = np.asarray(Image.open(out / "gray.png"))
    rgb = np.asarray(Image.open(out / "rgb.png"))
    assert gray.shape == (16, 32, 3) and rgb.shape == (32, 32, 3)  # RGB out; the 20x20 image resized to 32x32
    # The CLI's output is the runtime's on the same pixels (gray in, one channel).
    pixels = np.asarray(Image.open(tmp_path / "gray.png"))[..., None]
    np.testing.assert_array_equal(gray, TranslatorSession(path).translate(pixels))


# --------------------------------------------------------------------------- `ganzoo translate` errors


@pytest.mark.tensorflow_only
def test_ganzoo_translate_errors_are_one_line_exit_2(pix2pix, tmp_path, capsys):
    _, path, _ = pix2pix
    Image.fromarray(np.zeros((20, 16), np.uint8)).save(tmp_path / "odd.png")
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).convert("CMYK").save(tmp_path / "cmyk.jpg")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "ok.png")
    (tmp_path / "sub").mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "sub" / "ok.png")
    out = str(tmp_path / "out")
    cases = [
        (["odd.png"], (f"{tmp_path / 'odd.png'} is 16x20 pixels; {path} takes sides that are multiples of 16: "
                       "crop it, or pass --resize N to resize every image to N x N (e.g. --resize 16).")),
        (["odd.png", "--resize", "20"], "--resize 20 is not a multiple of 16"),
        (["cmyk.jpg"], "is a CMYK image; ganzoo translate reads 8-bit gray or RGB images"),
        (["corrupt.png"], f"cannot read {tmp_path / 'corrupt.png'} as an image"),
        (["missing.png"], f"no image at {tmp_path / 'missing.png'}."),
        (["ok.png", "sub/ok.png"], "would both be written to"),
    ]
    for arguments, message in cases:
        images = [str(tmp_path / a) if a.endswith((".png", ".jpg")) else a for a in arguments]
        assert cli.main(["translate", str(path), *images, "--out", out]) == 2, arguments
        err = capsys.readouterr().err
        assert err.startswith("ganzoo translate: error: ") and err.count("\n") == 1, err
        assert message in err, err
    assert not (tmp_path / "out").exists()  # every input is checked before anything is written
    assert cli.main(["translate", str(tmp_path / "ok.png"), str(tmp_path / "ok.png"), "--out", out]) == 2
    assert "is not a valid ONNX model" in capsys.readouterr().err
    assert cli.main(["translate", str(path), str(tmp_path / "ok.png"), "--out", str(tmp_path)]) == 2
    assert "would overwrite its input" in capsys.readouterr().err
