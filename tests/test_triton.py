"""`ganzoo export --triton DIR`: a Triton model repository whose config.pbtxt Triton's own schema accepts."""

import json

import numpy as np
import onnxruntime as ort
import pytest

from export import metadata as metadata_lib
from export import triton

model_config_pb2 = pytest.importorskip(
    "tritonclient.grpc.model_config_pb2", reason="needs tritonclient[grpc] (the [dev] extra) for Triton's schema"
)
from google.protobuf import text_format  # noqa: E402  (protobuf comes with tritonclient)


def _parse(text):
    return text_format.Parse(text, model_config_pb2.ModelConfig())


def _metadata(conditional=True, precision="fp32", label_dtype="int64"):
    inputs = [metadata_lib.tensor_spec("z", "float32", ["batch", 100])]
    if conditional:
        inputs.append(metadata_lib.tensor_spec("label", label_dtype, ["batch"]))
    return {
        "preset": "dcgan",
        "precision": precision,
        "inputs": inputs,
        "outputs": [metadata_lib.tensor_spec("images", "float32", ["batch", 8, 8, 1])],
    }


def _accelerator(config):
    (accelerator,) = config.optimization.execution_accelerators.gpu_execution_accelerator
    return accelerator.name, dict(accelerator.parameters)


def test_conditional_config_follows_triton_schema():
    config = _parse(triton.config_text(_metadata(), "cond", max_batch_size=256, opt_batch_size=32))
    Type = model_config_pb2.DataType
    assert config.name == "cond" and config.backend == "onnxruntime" and config.max_batch_size == 256
    z, label = config.input
    assert (z.name, z.data_type, list(z.dims), z.HasField("reshape")) == ("z", Type.Value("TYPE_FP32"), [100], False)
    # One label per request row, reshaped to the graph's per-row scalar.
    assert (label.name, label.data_type, list(label.dims)) == ("label", Type.Value("TYPE_INT64"), [1])
    assert label.HasField("reshape") and list(label.reshape.shape) == []
    (images,) = config.output
    assert (images.name, images.data_type, list(images.dims)) == ("images", Type.Value("TYPE_FP32"), [8, 8, 1])
    assert config.WhichOneof("scheduling_choice") == "dynamic_batching"
    assert config.dynamic_batching.max_queue_delay_microseconds == triton.MAX_QUEUE_DELAY_US
    name, parameters = _accelerator(config)
    assert name == "tensorrt" and parameters["precision_mode"] == "FP32"
    assert parameters["trt_profile_min_shapes"] == "z:1x100,label:1"
    assert parameters["trt_profile_opt_shapes"] == "z:32x100,label:32"
    assert parameters["trt_profile_max_shapes"] == "z:256x100,label:256"


def test_fp16_unconditional_and_int32_configs():
    config = _parse(triton.config_text(_metadata(conditional=False, precision="fp16"), "plain"))
    assert [tensor.name for tensor in config.input] == ["z"] and config.max_batch_size == triton.MAX_BATCH_SIZE
    assert _accelerator(config)[1]["precision_mode"] == "FP16"
    assert _accelerator(config)[1]["trt_profile_max_shapes"] == f"z:{triton.MAX_BATCH_SIZE}x100"
    int32 = _parse(triton.config_text(_metadata(label_dtype="int32"), "c32"))
    assert int32.input[1].data_type == model_config_pb2.DataType.Value("TYPE_INT32")
    with pytest.raises(ValueError, match="format 1"):
        triton.config_text({"inputs": None, "outputs": None}, "old")


def test_cli_writes_a_model_repository(tmp_path):
    pytest.importorskip("tensorflow")
    import keras

    import zoo
    from train.cli import main

    gan = zoo.create("conditional_dcgan_mbd", backbone="dcgan", data_shape=(8, 8, 1), latent_dim=16, filters=8, num_classes=3)
    gan.generator.save(tmp_path / "cond-gen.keras")
    keras.backend.clear_session()
    repo = tmp_path / "repo"
    assert main(["export", str(tmp_path / "cond-gen.keras"), "--triton", str(repo), "--max-batch-size", "64"]) == 0
    folder = repo / "cond-gen"
    assert sorted(p.name for p in folder.rglob("*")) == ["1", "config.pbtxt", "model.metadata.json", "model.onnx"]
    config = _parse((folder / "config.pbtxt").read_text())
    assert config.name == "cond-gen" and config.max_batch_size == 64
    metadata = json.loads((folder / "1" / "model.metadata.json").read_text())
    # The config's tensors are the graph's: run model.onnx as Triton's onnxruntime backend would.
    session = ort.InferenceSession(str(folder / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [t.name for t in config.input]
    assert session.get_inputs()[0].shape == ["batch", *config.input[0].dims]
    labels = np.array([[0], [2], [5]], np.int64).reshape(-1)  # Triton's [batch, 1] after the reshape
    images = session.run(None, {"z": np.zeros((3, metadata["latent_dim"]), np.float32), "label": labels})[0]
    assert images.shape == (3, *config.output[0].dims) and np.isnan(images[2]).all()
