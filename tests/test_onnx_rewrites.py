"""The exact graph rewrites of export.onnx_rewrites, each on a small graph built by hand, then on a DCGAN.

Every case runs the graph before and after in onnxruntime on the same inputs: a rewrite may change how the
output is computed, never what it is.
"""

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from export import onnx_rewrites
from export.onnx_rewrites import (
    convolve_phases,
    crop_phase_kernels,
    fold_dense_layout,
    optimize_graph,
    small_maps_as_matmul,
)


def _model(nodes, inputs, constants, output="out"):
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in inputs.items()],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["n", "c", "h", "w"])],
        [numpy_helper.from_array(np.asarray(array, np.float32 if array.dtype.kind == "f" else array.dtype), name)
         for name, array in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what onnxruntime reads
    return model


def _run(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def _ops(model):
    return [node.op_type for node in model.graph.node]


def _same_outputs(before, after, feeds):
    onnx.checker.check_model(after)  # also: every node's inputs come before it
    np.testing.assert_allclose(_run(after, feeds), _run(before, feeds), atol=2e-5, rtol=1e-5)


def test_dense_writes_nchw_with_its_batchnorm_folded():
    rng = np.random.default_rng(0)
    height, width, channels = 2, 3, 4
    constants = {
        "w": rng.normal(size=(5, height * width * channels)),
        "b": rng.normal(size=(height * width * channels,)),
        "shape": np.array([-1, height, width, channels], np.int64),
        "scale": rng.uniform(0.5, 1.5, channels),
        "shift": rng.normal(size=channels),
    }
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["mb"]),
        helper.make_node("Reshape", ["mb", "shape"], ["r"]),
        helper.make_node("Mul", ["r", "scale"], ["rs"]),
        helper.make_node("Add", ["rs", "shift"], ["rb"]),
        helper.make_node("LeakyRelu", ["rb"], ["a"], alpha=0.2),
        helper.make_node("Transpose", ["a"], ["out"], perm=[0, 3, 1, 2]),
    ]
    model = _model(nodes, {"z": ["batch", 5]}, constants)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert fold_dense_layout(rewritten) == 1
    assert _ops(rewritten) == ["MatMul", "Add", "LeakyRelu", "Reshape"]
    _same_outputs(model, rewritten, {"z": rng.normal(size=(3, 5)).astype(np.float32)})


def test_an_affine_after_the_activation_is_left_alone():
    rng = np.random.default_rng(1)
    constants = {"w": rng.normal(size=(5, 8)), "shape": np.array([-1, 2, 2, 2], np.int64), "scale": rng.normal(size=2)}
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["m"]),
        helper.make_node("Reshape", ["m", "shape"], ["r"]),
        helper.make_node("Relu", ["r"], ["a"]),
        helper.make_node("Mul", ["a", "scale"], ["s"]),  # folding it into the weights would change the result
        helper.make_node("Transpose", ["s"], ["out"], perm=[0, 3, 1, 2]),
    ]
    model = _model(nodes, {"z": ["batch", 5]}, constants)
    assert fold_dense_layout(model) == 0 and "Transpose" in _ops(model)


def _upsampled_conv(kernel, pads, out_channels, then_upsample=True, channels=3, size=4):
    """x (4 * channels phases) -> DepthToSpace(2) -> Relu -> Conv -> Tanh [-> DepthToSpace(2)]."""
    rng = np.random.default_rng(kernel * 10 + sum(pads))
    constants = {"w": rng.normal(size=(out_channels, channels, kernel, kernel)), "b": rng.normal(size=out_channels)}
    nodes = [
        helper.make_node("DepthToSpace", ["x"], ["up"], blocksize=2, mode="DCR"),
        helper.make_node("Relu", ["up"], ["a"]),
        helper.make_node("Conv", ["a", "w", "b"], ["c"], kernel_shape=[kernel, kernel], pads=pads),
        helper.make_node("Tanh", ["c"], ["t" if then_upsample else "out"]),
    ]
    if then_upsample:
        nodes.append(helper.make_node("DepthToSpace", ["t"], ["out"], blocksize=2, mode="DCR"))
    model = _model(nodes, {"x": ["batch", 4 * channels, size, size]}, constants)
    feeds = {"x": rng.normal(size=(2, 4 * channels, size, size)).astype(np.float32)}
    return model, feeds


@pytest.mark.parametrize("kernel, pads", [(3, [1, 1, 1, 1]), (5, [2, 2, 2, 2]), (2, [0, 0, 1, 1]), (1, [0, 0, 0, 0])])
def test_a_conv_on_an_upsampled_map_runs_on_its_phases(kernel, pads):
    model, feeds = _upsampled_conv(kernel, pads, out_channels=4 * 2)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert convolve_phases(rewritten) == 2  # the Conv moves before the DepthToSpace, then the two merge
    assert _ops(rewritten) == ["Relu", "Conv", "Tanh", "DepthToSpace"]
    assert onnx_rewrites.attributes(rewritten.graph.node[-1])["blocksize"] == 4
    _same_outputs(model, rewritten, feeds)


def test_a_conv_that_changes_the_length_by_an_odd_amount_keeps_its_upsampled_input():
    model, feeds = _upsampled_conv(3, [1, 1, 0, 0], out_channels=5, then_upsample=False)  # 2H + 1 - 3 + 1 rows
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert convolve_phases(rewritten) == 0
    _same_outputs(model, rewritten, feeds)


def test_the_phase_conv_stops_at_one_level():
    """After two upsamplings a Conv on the phases would compute 16x its multiply-adds: the map is written."""
    model, feeds = _upsampled_conv(3, [1, 1, 1, 1], out_channels=4 * 2, channels=4 * 3)
    nodes = list(model.graph.node)
    nodes.insert(0, helper.make_node("DepthToSpace", ["x16"], ["x"], blocksize=2, mode="DCR"))
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    model = _model(nodes, {"x16": ["batch", 4 * 4 * 12, 2, 2]}, constants)
    feeds = {"x16": np.random.default_rng(2).normal(size=(2, 4 * 4 * 12, 2, 2)).astype(np.float32)}
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    convolve_phases(rewritten)
    assert _ops(rewritten).count("DepthToSpace") == 2
    _same_outputs(model, rewritten, feeds)


def test_a_sub_pixel_conv_computes_only_the_taps_that_exist():
    rng = np.random.default_rng(3)
    cin, cout, size = 32, 16, 16
    constants = {"w": rng.normal(size=(cin, cout, 5, 5)), "b": rng.normal(size=cout)}
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[5, 5], strides=[2, 2], pads=[1, 1, 2, 2]),
        helper.make_node("Relu", ["y"], ["out"]),
    ]
    model = _model(nodes, {"x": ["batch", cin, size, size]}, constants)
    rewritten = optimize_graph(model)
    ops = _ops(rewritten)
    assert "ConvTranspose" not in ops and ops.count("Conv") == 4 and "Concat" in ops  # one Conv per phase
    kernels = sorted(tuple(onnx_rewrites.attributes(n)["kernel_shape"]) for n in rewritten.graph.node if n.op_type == "Conv")
    assert kernels == [(2, 2), (2, 3), (3, 2), (3, 3)]  # 25 taps, not 4 x 9
    _same_outputs(model, rewritten, {"x": rng.normal(size=(2, cin, size, size)).astype(np.float32)})


def test_small_convs_are_not_split():
    """Below MIN_CROPPED_MACS saved per sample, one Conv call beats four."""
    rng = np.random.default_rng(4)
    constants = {"w": rng.normal(size=(16, 16, 5, 5))}
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[5, 5], strides=[2, 2], pads=[1, 1, 2, 2]),
        helper.make_node("Relu", ["y"], ["out"]),
    ]
    model = _model(nodes, {"x": ["batch", 16, 4, 4]}, constants)
    rewritten = optimize_graph(model)
    assert crop_phase_kernels(rewritten) == 0 and _ops(rewritten) == ["Conv", "Relu", "DepthToSpace"]


@pytest.mark.parametrize("size, kernel, pads, as_matmul", [
    (4, 5, [2, 2, 2, 2], True),  # the digits generators' middle layer: 77% of the unrolled matrix is taps
    (4, 3, [1, 1, 1, 1], False),  # 39%: most of it would be zeros
    (8, 3, [1, 1, 1, 1], False),  # a matrix of 2^19 entries, 455 times the kernel's
    (2, 3, [1, 1, 1, 1], True),  # every output reads every pixel
])
def test_a_conv_on_a_tiny_map_is_one_matrix_product(size, kernel, pads, as_matmul):
    rng = np.random.default_rng(size + kernel)
    channels, out_channels = 16, 8
    constants = {"w": rng.normal(size=(out_channels, channels, kernel, kernel)), "b": rng.normal(size=out_channels)}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[kernel, kernel], pads=pads),
        helper.make_node("Relu", ["c"], ["out"]),
    ]
    model = _model(nodes, {"x": ["batch", channels, size, size]}, constants)
    rewritten = onnx.ModelProto.FromString(model.SerializeToString())
    assert small_maps_as_matmul(rewritten) == int(as_matmul)
    assert ("Conv" in _ops(rewritten)) != as_matmul
    _same_outputs(model, rewritten, {"x": rng.normal(size=(3, channels, size, size)).astype(np.float32)})


def test_the_papers_dcgan_becomes_gemm_convs_and_one_depth_to_space():
    """The 64-filter DCGAN at 28x28: no Transpose, no upsampled map written, the first layer split by phase."""
    import zoo
    from export.exporter import convert

    keras.utils.set_random_seed(0)
    generator = zoo.create("dcgan", filters=64).generator
    for layer in generator.layers:  # trained-looking statistics, so the folding is exercised
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.random.default_rng(0).normal(0, 0.3, layer.moving_mean.shape))
            layer.beta.assign(np.random.default_rng(1).normal(0, 0.3, layer.beta.shape))
    model = optimize_graph(convert(generator))
    ops = _ops(model)
    assert "Transpose" not in ops and "ConvTranspose" not in ops and "Mul" not in ops
    assert ops.count("DepthToSpace") == 1 and ops.count("Concat") == 1 and ops.count("Conv") == 5
    z = np.random.default_rng(0).uniform(-1, 1, (5, 100)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(generator(z, training=False))
    np.testing.assert_allclose(_run(model, {"z": z}), expected, atol=1e-4)
