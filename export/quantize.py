"""int8 generators: onnxruntime's static quantization (QDQ format), calibrated on noise from the model's prior.

    from export import export_generator
    export_generator(gan, "dcgan_int8.onnx", int8=True)      # or `ganzoo export RUN --int8`

On CPUs with VNNI (AVX512_VNNI, AVX-VNNI) onnxruntime runs int8 convolutions and GEMMs several times faster than
fp32 (benchmarks/inference.md). Convs, MatMuls and Gemms are quantized: uint8 activations and int8 weights per
output channel, the pairing onnxruntime's x86 kernels are built for. The first layer stays float (it reads the
noise, and costs little), and so does the last where it costs little (`CHEAP_LAST_LAYERS`: the 8x8 digits
generators'). Otherwise the last layer's output range is capped where its tanh or sigmoid saturates
(`SATURATED`): beyond it the pixel no longer changes, so the 256 levels go where it does. Calibrated on its full
range instead, the shipped models' Frechet distance was up to 2% worse than fp32's. Everything else stays
float, in particular the Where that turns an out-of-range label into a NaN row (a quantized NaN would be a
number). The scales come
from `CALIBRATION_SAMPLES` generator inputs drawn from the prior the metadata records (labels uniform over the
classes), with a fixed seed, so the same model always gives the same file.

An int8 graph cannot match Keras to 1e-4: the export holds it to `INT8_TOLERANCE` (mean and max absolute
difference on the output), which catches a broken quantization; whether its samples are as good is a question of
quality, which benchmarks/inference.py answers with `ganzoo evaluate`'s classifier score and Frechet distance.
"""

import contextlib
import logging
import pathlib
import tempfile

import numpy as np
import onnx

from export import metadata as metadata_lib
from export import sampling
from export.onnx_rewrites import LAYER_OPS, consumers, layer_macs

CALIBRATION_SAMPLES = 1024
CALIBRATION_BATCH = 128
CALIBRATION_SEED = 0
QUANTIZED_OPS = LAYER_OPS
# The last layers stay float when they do at most this share of the multiply-adds.
CHEAP_LAST_LAYERS = 0.1
# Where an output activation is flat to within 7e-4: tanh(4) = 0.99933, sigmoid(8) = 0.99966.
SATURATED = {"Tanh": 4.0, "Sigmoid": 8.0}
# Outputs in [-1, 1] or [0, 1]: mean |int8 - keras| at most 0.02, and no value off by a quarter of [-1, 1].
INT8_TOLERANCE = {"mean_abs_diff": 0.02, "max_abs_diff": 0.5}


def calibration_inputs(metadata, samples=CALIBRATION_SAMPLES, batch=CALIBRATION_BATCH, seed=CALIBRATION_SEED):
    """The generator inputs the scales are measured on: a list of {"z": ..., ["label": ...]} feeds.

    Args:
        metadata: the export's metadata (`latent_dim`, `prior`, `prior_params`, `num_classes`, `inputs`).
        samples: how many inputs in all.
        batch: inputs per feed.
        seed: seeds the noise and the labels.
    """
    prior = metadata["prior"]
    prior_range = [metadata["prior_params"][key] for key in metadata_lib.PRIOR_PARAMS[prior]]
    rng = np.random.default_rng(seed)
    feeds = []
    for start in range(0, samples, batch):
        n = min(batch, samples - start)
        feed = {"z": sampling.prior_noise(n, metadata["latent_dim"], prior, prior_range, seed=int(rng.integers(2**31)))}
        if metadata.get("num_classes"):
            feed["label"] = rng.integers(0, metadata["num_classes"], n).astype(metadata["inputs"][1]["dtype"])
        feeds.append(feed)
    return feeds


def quantize_int8(model, metadata):
    """`model` (an fp32 generator graph) with its Convs, MatMuls and Gemms in int8 (QDQ), as a new ModelProto.

    Args:
        model: the optimised fp32 ModelProto.
        metadata: its metadata, for the prior and the classes the calibration draws from.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Feeds(CalibrationDataReader):
        def __init__(self, feeds):
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    float_layers = {node.name for node in first_layers(model) + cheap_last_layers(model)}
    with tempfile.TemporaryDirectory() as folder, _without_preprocessing_advice():
        target = pathlib.Path(folder) / "int8.onnx"
        quantize_static(
            model,
            target,
            Feeds(calibration_inputs(metadata)),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_exclude=sorted(float_layers),
            extra_options={"TensorQuantOverrides": saturated_ranges(model, metadata, float_layers)},
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )
        return onnx.load(str(target))


@contextlib.contextmanager
def _without_preprocessing_advice():
    """quantize_static logs "Please consider pre-processing before quantization" on the root logger; the graph
    given to it is already shape-inferred and optimised (export.onnx_rewrites), so the advice would only mislead."""

    def advice(record):
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def _layer_order(model):
    """(layers, reaches): the quantizable nodes, and reaches(node, "up"/"down") = another lies that way."""
    layers = [node for node in model.graph.node if node.op_type in QUANTIZED_OPS]
    readers = {}
    for node in model.graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    writer = {name: node for node in model.graph.node for name in node.output}

    def reaches(node, step):
        seen, frontier = set(), [node]
        while frontier:
            current = frontier.pop()
            nexts = ([r for name in current.output for r in readers.get(name, [])] if step == "down"
                     else [writer[name] for name in current.input if name in writer])
            for other in nexts:
                if other.op_type in QUANTIZED_OPS:
                    return True
                if id(other) not in seen:
                    seen.add(id(other))
                    frontier.append(other)
        return False

    return layers, reaches


def first_layers(model):
    """The Convs / MatMuls / Gemms that no other one precedes."""
    layers, reaches = _layer_order(model)
    return [node for node in layers if not reaches(node, "up")]


def cheap_last_layers(model):
    """The last layers (no Conv / MatMul / Gemm after them), if they do at most CHEAP_LAST_LAYERS of the work."""
    layers, reaches = _layer_order(model)
    last = [node for node in layers if not reaches(node, "down")]
    macs = layer_macs(model)
    share = sum(macs.get(node.name, 0) for node in last) / max(1, sum(macs.values()))
    return last if share <= CHEAP_LAST_LAYERS else []


def saturated_ranges(model, metadata, float_layers=()):
    """{tensor: [{"rmin", "rmax"}]} for each quantized last layer's output that feeds a tanh or sigmoid: its range
    on the calibration inputs, capped at `SATURATED`. `float_layers`: names of the nodes left in float."""
    import onnxruntime

    layers, reaches = _layer_order(model)
    capped = {}
    for node in layers:
        if node.name in float_layers:
            continue
        users = consumers(model, node.output[0])
        if not reaches(node, "down") and len(users) == 1 and users[0].op_type in SATURATED:
            capped[node.output[0]] = SATURATED[users[0].op_type]
    if not capped:
        return {}
    probe = onnx.ModelProto.FromString(model.SerializeToString())
    probe.graph.output.extend(onnx.ValueInfoProto(name=name) for name in capped)
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    low = {name: np.inf for name in capped}
    high = {name: -np.inf for name in capped}
    for feed in calibration_inputs(metadata):
        for name, values in zip(capped, session.run(list(capped), feed)):
            low[name], high[name] = min(low[name], float(values.min())), max(high[name], float(values.max()))
    return {name: [{"rmin": np.float32(max(low[name], -cap)), "rmax": np.float32(min(high[name], cap))}]
            for name, cap in capped.items()}
