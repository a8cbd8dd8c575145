"""export.quantize's choices, on graphs built by hand: which layers stay float, and where the output range stops."""

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from export import onnx_rewrites, quantize

METADATA = {"latent_dim": 4, "prior": "uniform", "prior_params": {"low": -1.0, "high": 1.0}, "num_classes": None,
            "inputs": [{"name": "z", "dtype": "float32", "shape": ["batch", 4]}]}


def _generator(hidden, last_scale, middle=False):
    """z (4) -> MatMul (4 x hidden) -> Relu [-> MatMul (hidden x hidden) -> Relu] -> MatMul (hidden x 2) -> Tanh."""
    rng = np.random.default_rng(0)
    weights = {"w1": rng.normal(size=(4, hidden)), "w2": last_scale * rng.normal(size=(hidden, 2))}
    nodes = [helper.make_node("MatMul", ["z", "w1"], ["h"], name="first"), helper.make_node("Relu", ["h"], ["a"])]
    if middle:
        weights["wm"] = rng.normal(size=(hidden, hidden)) / np.sqrt(hidden)
        nodes += [helper.make_node("MatMul", ["a", "wm"], ["m"], name="middle"), helper.make_node("Relu", ["m"], ["am"])]
    nodes += [helper.make_node("MatMul", ["am" if middle else "a", "w2"], ["o"], name="last"),
              helper.make_node("Tanh", ["o"], ["images"])]
    constants = [numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 4])],
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 2])], constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_the_first_layer_stays_float_and_a_cheap_last_one_too():
    two = _generator(hidden=64, last_scale=1.0)
    assert [node.name for node in quantize.first_layers(two)] == ["first"]
    assert onnx_rewrites.layer_macs(two) == {"first": 256, "last": 128}
    assert quantize.cheap_last_layers(two) == []  # 128 of 384 multiply-adds: quantized, its range capped instead
    three = _generator(hidden=64, last_scale=1.0, middle=True)
    assert [node.name for node in quantize.cheap_last_layers(three)] == ["last"]  # 128 of 4,480


def test_a_tanh_output_range_stops_where_tanh_saturates():
    wide = _generator(hidden=64, last_scale=10.0)  # pre-activations far beyond +-4
    ranges = quantize.saturated_ranges(wide, METADATA)
    (bounds,) = ranges["o"]
    assert (bounds["rmin"], bounds["rmax"]) == (-4.0, 4.0)
    narrow = _generator(hidden=64, last_scale=0.01)  # inside: its own range, measured on the calibration inputs
    (bounds,) = quantize.saturated_ranges(narrow, METADATA)["o"]
    assert -4 < bounds["rmin"] < 0 < bounds["rmax"] < 4
    assert quantize.saturated_ranges(wide, METADATA, float_layers={"last"}) == {}
