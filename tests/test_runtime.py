"""The TensorFlow-free runtime: GeneratorSession, save_grid and `ganzoo sample`.

The models here are built with onnx.helper (no TensorFlow, no conversion), so every expected
output can be computed in numpy: tanh(z @ W) for the unconditional one, tanh((z + E[label]) @ W)
for the conditional one.
"""

import json
import pathlib
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from export import GeneratorSession, save_grid
from export import metadata as metadata_lib

ROOT = pathlib.Path(__file__).resolve().parents[1]
LATENT, SHAPE, CLASSES = 4, (2, 2, 3), 3
RNG = np.random.default_rng(0)
W = RNG.normal(size=(LATENT, int(np.prod(SHAPE)))).astype(np.float32)
E = RNG.normal(size=(CLASSES, LATENT)).astype(np.float32)


def _v1_props(meta):
    """The format-1 metadata earlier exports carry: a bare-string marker, priors and ranges as lists."""
    legacy = {key: value for key, value in meta.items() if key not in ("inputs", "outputs", "label_out_of_range")}
    legacy["prior_range"] = list(legacy.pop("prior_params").values())
    legacy["value_range"] = None if meta["value_range"] is None else [meta["value_range"]["min"], meta["value_range"]["max"]]
    return {metadata_lib.FORMAT_KEY: metadata_lib.FORMAT_V1, **{k: json.dumps(v) for k, v in legacy.items()}}


def _model(path, conditional=False, prior="uniform", metadata=True, image_shape=SHAPE, label_dtype="int64", version=2):
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", LATENT])
    out = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", *image_shape])
    inits = [
        numpy_helper.from_array(W[:, : int(np.prod(image_shape))], "W"),
        numpy_helper.from_array(np.array([-1, *image_shape], np.int64), "shape"),
    ]
    nodes, inputs, h = [], [z], "z"
    if conditional:
        label_type = TensorProto.INT64 if label_dtype == "int64" else TensorProto.INT32
        inputs.append(helper.make_tensor_value_info("label", label_type, ["batch"]))
        inits.append(numpy_helper.from_array(E, "E"))
        nodes += [helper.make_node("Gather", ["E", "label"], ["e"]), helper.make_node("Add", ["z", "e"], ["ze"])]
        h = "ze"
    nodes += [
        helper.make_node("MatMul", [h, "W"], ["h"]),
        helper.make_node("Tanh", ["h"], ["t"]),
        helper.make_node("Reshape", ["t", "shape"], ["images"]),
    ]
    graph = helper.make_graph(nodes, "g", inputs, [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata:
        meta = {
            "preset": "test",
            "latent_dim": LATENT,
            "prior": prior,
            "prior_params": metadata_lib.PRIOR_PARAMS[prior],
            "num_classes": CLASSES if conditional else None,
            "class_names": ["a", "b", "c"] if conditional else None,
            "inputs": [metadata_lib.tensor_spec("z", "float32", ["batch", LATENT])]
            + ([metadata_lib.tensor_spec("label", label_dtype, ["batch"])] if conditional else []),
            "outputs": [metadata_lib.tensor_spec("images", "float32", ["batch", *image_shape])],
            "image_shape": list(image_shape),
            "value_range": metadata_lib.value_range(-1, 1) if len(image_shape) == 3 else None,
            "dataset": "unit-test",
        }
        props = metadata_lib.encode(meta) if version == 2 else _v1_props(meta)
        for key, value in props.items():
            model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runtime")
    return {
        "plain": _model(folder / "plain.onnx"),
        "conditional": _model(folder / "conditional.onnx", conditional=True),
        "normal": _model(folder / "normal.onnx", prior="normal"),
        "vector": _model(folder / "vector.onnx", image_shape=(2,)),
        "foreign": _model(folder / "foreign.onnx", metadata=False),
        "int32": _model(folder / "int32.onnx", conditional=True, label_dtype="int32"),
        "v1": _model(folder / "v1.onnx", conditional=True, prior="normal", version=1),
    }


def test_metadata_attributes_and_provider(models):
    session = GeneratorSession(models["conditional"])
    assert session.provider in session.session.get_providers()
    assert session.provider == "CPUExecutionProvider"  # CUDA is listed but cannot load here
    assert (session.latent_dim, session.num_classes, session.image_shape) == (LATENT, CLASSES, SHAPE)
    assert session.class_names == ["a", "b", "c"] and session.prior == "uniform"
    assert session.metadata["dataset"] == "unit-test"
    assert GeneratorSession(models["plain"], providers="cpu").num_classes is None


def test_outputs_match_numpy_reference(models):
    session = GeneratorSession(models["conditional"])
    z = session.sample_noise(5, seed=3)
    labels = np.array([0, 1, 2, 1, 0])
    expected = np.tanh((z + E[labels]) @ W).reshape(5, *SHAPE)
    np.testing.assert_allclose(session(z, labels), expected, atol=1e-5)
    samples = session.generate(5, labels=labels, z=z)  # the sampler protocol: float32 in value_range, like GAN
    assert samples.dtype == np.float32 and session.data_shape == SHAPE
    np.testing.assert_allclose(samples, expected, atol=1e-5)
    images = session.generate_images(5, labels=labels, z=z)
    assert images.dtype == np.uint8 and images.shape == (5, *SHAPE)
    np.testing.assert_array_equal(images, np.clip(np.rint((expected + 1) * 127.5), 0, 255).astype(np.uint8))
    # One label for all, and labels as a list, mean the same thing.
    np.testing.assert_array_equal(session.generate(5, labels=2, z=z), session.generate(5, labels=[2] * 5, z=z))


def test_int32_label_graph_and_format_1_metadata(models):
    z = GeneratorSession(models["conditional"]).sample_noise(3, seed=0)
    expected = np.tanh((z + E[[2, 0, 1]]) @ W).reshape(3, *SHAPE)
    int32 = GeneratorSession(models["int32"])  # an export for WebGL: labels are fed as int32
    np.testing.assert_allclose(int32(z, np.array([2, 0, 1], np.int64)), expected, atol=1e-5)
    old = GeneratorSession(models["v1"])  # format 1 is read and normalised to format 2's keys
    assert old.prior_params == {"mean": 0.0, "std": 1.0} and old.prior_range == (0.0, 1.0)
    assert old.value_range == (-1.0, 1.0) and old.metadata["value_range"]["to_uint8"].endswith("127.5), 0, 255)")
    assert old.metadata["label_out_of_range"] == "unchecked" and old.metadata["inputs"] is None
    np.testing.assert_allclose(old(z, [2, 0, 1]), expected, atol=1e-5)


def test_a_seed_repeats_the_draw_and_priors_are_sampled(models):
    session = GeneratorSession(models["plain"])
    np.testing.assert_array_equal(session.generate(3, seed=7), session.generate(3, seed=7))
    assert not np.array_equal(session.generate(3, seed=7), session.generate(3, seed=8))
    uniform = session.sample_noise(20000, seed=0)
    assert uniform.dtype == np.float32 and uniform.min() >= -1 and uniform.max() <= 1
    assert abs(uniform.std() - 1 / np.sqrt(3)) < 0.01
    normal = GeneratorSession(models["normal"]).sample_noise(20000, seed=0)
    assert abs(normal.mean()) < 0.02 and abs(normal.std() - 1) < 0.02 and normal.max() > 2.5


def test_generate_chunks_large_batches(models, monkeypatch):
    from export import runtime

    monkeypatch.setattr(runtime, "GENERATE_CHUNK", 4)
    session = GeneratorSession(models["plain"])
    z = session.sample_noise(10, seed=1)
    np.testing.assert_array_equal(session.generate(10, z=z)[4:8], session.generate(4, z=z[4:8]))


def test_vector_model_returns_floats(models):
    session = GeneratorSession(models["vector"])
    samples = session.generate(6, seed=0)
    assert samples.dtype == np.float32 and samples.shape == (6, 2)
    with pytest.raises(ValueError, match="not images"):
        session.generate_images(6, seed=0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s(np.zeros((2, LATENT + 1), np.float32), [0, 0]), "shape"),
        (lambda s: s(np.zeros((2, LATENT)), [0, 0]), "float32"),
        (lambda s: s(np.zeros((0, LATENT), np.float32), []), "shape"),
        (lambda s: s(np.zeros((2, LATENT), np.float32)), "needs labels"),
        (lambda s: s.generate(2, labels=[0, 3]), "outside"),
        (lambda s: s.generate(2, labels=-1), "outside"),
        (lambda s: s.generate(2, labels=[0.5, 1.0]), "integers"),
        (lambda s: s.generate(2, labels=[0, 1, 2]), "expected 2 labels"),
        (lambda s: s.generate(0, labels=0), "positive"),
        (lambda s: s.generate(-3, labels=0), "positive"),
        (lambda s: s.generate(3, labels=0, z=np.zeros((2, LATENT), np.float32)), "z holds 2"),
    ],
)
def test_bad_input_is_a_clear_value_error(models, call, message):
    session = GeneratorSession(models["conditional"])
    with pytest.raises(ValueError, match=message):
        call(session)


def test_labels_for_unconditional_model(models):
    with pytest.raises(ValueError, match="unconditional"):
        GeneratorSession(models["plain"]).generate(2, labels=0)


def test_bad_files_are_clear_errors(models, tmp_path):
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        GeneratorSession(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_text("not a model")
    with pytest.raises(ValueError, match="not a valid ONNX model"):
        GeneratorSession(junk)
    with pytest.raises(ValueError, match="not a GAN Zoo generator"):
        GeneratorSession(models["foreign"])
    with pytest.raises(ValueError, match="no provider"):
        GeneratorSession(models["plain"], providers="NoSuchExecutionProvider")


def test_requested_gpu_provider_that_cannot_load(models):
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("this onnxruntime build has no CUDA provider")
    try:
        session = GeneratorSession(models["plain"], providers="cuda")
    except ValueError as error:
        assert "could not load CUDAExecutionProvider" in str(error)
    else:  # a machine with a working GPU
        assert session.provider == "CUDAExecutionProvider"


def test_save_grid(tmp_path):
    images = np.arange(7 * 3 * 5 * 1, dtype=np.uint8).reshape(7, 3, 5, 1)
    path = save_grid(images, tmp_path / "sub" / "grid.png", nrow=4, padding=1, scale=1)
    grid = np.asarray(Image.open(path))
    assert grid.shape == (2 * (3 + 1) + 1, 4 * (5 + 1) + 1)
    np.testing.assert_array_equal(grid[1:4, 1:6], images[0, ..., 0])
    np.testing.assert_array_equal(grid[5:8, 1 + 2 * 6 : 6 + 2 * 6], images[6, ..., 0])  # 2nd row, 3rd column
    rgb = save_grid(np.zeros((4, 8, 8, 3), np.float32), tmp_path / "rgb.png")  # floats in [-1, 1]
    image = Image.open(rgb)
    assert image.mode == "RGB" and image.size[0] >= 2 * 64 and np.asarray(image)[30, 30, 0] == 128
    with pytest.raises(ValueError, match="N, H, W, C"):
        save_grid(np.zeros((4, 8)), tmp_path / "bad.png")


NO_TF = """
import sys
sys.modules["tensorflow"] = None   # as if TensorFlow were not installed: importing it raises
sys.modules["keras"] = None
{body}
assert "tensorflow" not in sys.modules or sys.modules["tensorflow"] is None
print("OK")
"""


def _run_without_tf(body, cwd):
    result = subprocess.run(
        [sys.executable, "-c", NO_TF.format(body=body)], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("OK"), result.stdout
    return result


def test_runtime_works_without_tensorflow(models, tmp_path):
    body = f"""
import export
from export import GeneratorSession, save_grid
session = GeneratorSession({str(models['conditional'])!r})
images = session.generate_images(6, labels=[0, 1, 2, 0, 1, 2], seed=0)
assert images.shape == (6, 2, 2, 3) and images.dtype.name == "uint8"
save_grid(images, {str(tmp_path / 'grid.png')!r})
"""
    _run_without_tf(body, ROOT)
    assert (tmp_path / "grid.png").is_file()


def test_ganzoo_sample_works_without_tensorflow(models, tmp_path):
    out = tmp_path / "sample.png"
    body = f"""
from train.cli import main
code = main(["sample", {str(models['conditional'])!r}, "--n", "9", "--seed", "1", "--out", {str(out)!r}])
assert code == 0, code
code = main(["sample", {str(models['conditional'])!r}, "--label", "c", "--n", "3", "--out", {str(out)!r}])
assert code == 0, code
assert main(["sample", {str(models['conditional'])!r}, "--label", "7", "--out", {str(out)!r}]) == 2
"""
    result = _run_without_tf(body, ROOT)
    assert "wrote" in result.stdout and out.is_file()
    assert "label 7 is outside [0, 3)" in result.stderr


def test_metadata_round_trip():
    meta = {"latent_dim": 3, "prior": "normal", "prior_params": {"mean": 0.0, "std": 1.0}, "num_classes": None,
            "image_shape": [8, 8, 1], "value_range": metadata_lib.value_range(0, 1), "class_names": None,
            "inputs": [], "outputs": [], "versions": {"x": "1"}}
    props = metadata_lib.encode(meta)
    assert all(isinstance(v, str) for v in props.values())
    assert {key: json.loads(value) for key, value in props.items()}[metadata_lib.FORMAT_KEY] == "gan-zoo-generator/2"
    assert metadata_lib.decode(props) == meta
    assert json.loads(metadata_lib.as_json(meta)) == {key: json.loads(value) for key, value in props.items()}
    assert meta["value_range"] == {"min": 0.0, "max": 1.0, "to_uint8": "clip(round(x * 255), 0, 255)",
                                   "polarity": "max_is_white"}
    with pytest.raises(ValueError, match="incomplete"):
        metadata_lib.decode({metadata_lib.FORMAT_KEY: json.dumps(metadata_lib.FORMAT), "latent_dim": "3"})
    with pytest.raises(ValueError, match="takes"):
        metadata_lib.decode(metadata_lib.encode({**meta, "prior_params": {"low": -1, "high": 1}}))
    assert json.loads(props["image_shape"]) == [8, 8, 1]
