"""Export a pix2pix or CycleGAN generator to ONNX, check it, and prove it matches Keras at two image sizes.

    from export import export_translator
    report = export_translator(model, "edges2shoes.onnx")               # pix2pix: its one generator
    report = export_translator("cyclegan.keras", "b2a.onnx", generator="ba")
    print(report)

    from export import TranslatorSession                                 # numpy + onnxruntime only
    outputs = TranslatorSession("edges2shoes.onnx").translate(pixels)    # uint8 in, uint8 out

The graph has one input, `images` (float32 [batch, height, width, C_in], NHWC, in [-1, 1]), and one output,
`translated` (float32 [batch, height, width, C_out] in [-1, 1]); batch, height and width are dynamic, and
height and width must be multiples of the generator's `size_multiple` (2**depth for the U-Net, 4 for the
ResNet generator), as for `model.translate`. `metadata_props` (and the `<model>.metadata.json` sidecar) carry
the `gan-zoo-translator/1` keys of `export.metadata` (`TRANSLATOR_REQUIRED`, plus the training image shape,
what the export does with dropout, the opset and the versions).

Dropout: pix2pix keeps its dropout on at test time, as its only noise (Isola et al. 2017, section 3.1). The
export runs the generator in inference mode, dropout off and BatchNorm on its moving statistics: the graph is
deterministic and computes what `model.translate` computes, which is what the parity check can hold it to (a
graph that drew dropout masks could not be checked against Keras, and onnxruntime's masks cannot be seeded per
call). The metadata says so under `test_time_dropout`. CycleGAN's generators have no dropout.

Conversion and graph rewrite are `export.exporter`'s: `tf2onnx.convert.from_function` on a `tf.function`
with a named, fully dynamic input signature, then `exporter.optimize_graph`; `split_reductions` then makes
instance normalisation's means accurate at large sizes (see the note at `split_reductions`). With dynamic sizes tf2onnx
emits each transposed convolution unpadded and crops its output with a Slice computed from the input's
shape; the rewrite replaces that ConvTranspose by a Conv and DepthToSpace that compute the same full
(uncropped) output for every input size (the phase arithmetic depends on the kernel, stride and pads only),
so it stays exact; the parity check at two sizes confirms it. The U-Net's 4x4 stride-2 ConvTransposes are
rewritten; the ResNet generator's 3x3 stride-2 ones are not (an odd kernel over stride 2 gives phases of
unequal length, which `optimize_graph` leaves as they are), so CycleGAN keeps onnxruntime's ConvTranspose.
"""

import dataclasses
import pathlib

import numpy as np
import onnx

from export import exporter, files, onnx_rewrites
from export import metadata as metadata_lib

DIRECTIONS = ("ab", "ba")
INPUT_NAME = "images"
OUTPUT_NAME = "translated"
# The graph's dynamic dimensions; the output keeps the input's height and width.
DIMS = (exporter.BATCH_DIM, "height", "width")
# Parity runs at the training size and twice it, each at these batch sizes (2 x 2 runs).
PARITY_BATCH_SIZES = (1, 3)
PARITY_SCALES = (1, 2)
TOLERANCE = exporter.FP32_TOLERANCE
DROPOUT_OFF = (
    "off (inference mode); pix2pix's paper keeps dropout on at test time as noise (docs/models.md): the export is "
    "deterministic and computes what model.translate computes"
)
NO_DROPOUT = "none (the generator has no dropout)"
# Both papers' generators read images scaled to [-1, 1]; `from_uint8` says how pixels get there.
INPUT_RANGE = {"min": -1.0, "max": 1.0, "from_uint8": "x / 127.5 - 1"}


@dataclasses.dataclass
class TranslatorExportReport:
    """What `export_translator` wrote and how closely it matches Keras.

    Attributes:
        path: the .onnx file written (str).
        model: "pix2pix" or "cyclegan".
        direction: "ab" or "ba" (pix2pix: "ab", input to target).
        opset: the ONNX opset the model uses (int).
        provider: the onnxruntime execution provider the parity checks ran on.
        tolerance: the largest max abs difference from Keras accepted (1e-4).
        checks: the parity rows, one dict per run: {"batch", "height", "width", "max_abs_diff"}.
        metadata: the metadata recorded in the model and its sidecar JSON (dict).
        size_bytes: the .onnx file's size in bytes.
        rewrites: {"conv_transpose": transposed convolutions `exporter.optimize_graph` turned into
            convolutions, "reduce_mean": multi-axis means `split_reductions` split}.

    Args:
        path, model, direction, opset, provider, tolerance, checks, metadata, size_bytes, rewrites: the
            dataclass fields, as under Attributes.
    """

    path: str
    model: str
    direction: str
    opset: int
    provider: str
    tolerance: float
    checks: list
    metadata: dict
    size_bytes: int
    rewrites: dict

    @property
    def max_abs_diff(self):
        return max(row["max_abs_diff"] for row in self.checks)

    def as_dict(self):
        return {**dataclasses.asdict(self), "max_abs_diff": self.max_abs_diff}

    def __str__(self):
        lines = [
            (
                f"wrote {self.path} ({self.size_bytes / 1e6:.2f} MB, {self.model} {self.direction}, opset {self.opset}; "
                f"rewritten: {self.rewrites['conv_transpose']} transposed convolutions, "
                f"{self.rewrites['reduce_mean']} multi-axis means)"
            ),
            f"parity vs Keras on {self.provider} (tolerance {self.tolerance:g}):",
        ]
        for row in self.checks:
            lines.append(
                f"  batch {row['batch']} at {row['height']}x{row['width']}: "
                f"max |onnx - keras| = {row['max_abs_diff']:.3g}"
            )
        lines.append(f"  overall max abs diff {self.max_abs_diff:.3g}: OK")
        return "\n".join(lines)


# --------------------------------------------------------------------------- public entry point


def export_translator(source, path, generator=None, opset=None, metadata=None, verbose=False):
    """Write one generator of a pix2pix or CycleGAN model to the ONNX file `path`; returns a `TranslatorExportReport`.

    The file appears (with `<stem>.metadata.json` beside it) only once onnxruntime matches Keras's
    inference-mode output (`model.translate`) to 1e-4 at batch sizes 1 and 3, at the training image size and
    at twice it; otherwise `exporter.ParityError` is raised and any previous files stay as they were. Two
    exports of the same `path` at once: the second raises `export.files.LockedError`.

    Args:
        source: a `zoo.Pix2Pix` or `zoo.CycleGAN`, or a `.keras` file holding one.
        path: the .onnx file to write.
        generator: which generator: "ab" (default; pix2pix's only one, CycleGAN's A -> B) or "ba"
            (CycleGAN's B -> A).
        opset: the ONNX opset, one of `exporter.OPSETS` (13..18; default 17).
        metadata: entries that add to or override the recorded metadata (e.g. {"dataset": "facades",
            "license": "CC-BY-4.0"}, or "training_image_shape" where the model does not record it).
        verbose: print a line as each phase starts (conversion, parity check).
    """
    exporter.require_tensorflow_backend()
    opset = exporter.check_opset(opset)
    direction = "ab" if generator is None else generator
    if direction not in DIRECTIONS:
        raise ValueError(f"generator must be one of {DIRECTIONS} (or None for 'ab'), got {generator!r}.")
    path = files.check_writable(path)  # a target that cannot be written fails now, not after the conversion
    files.check_writable(metadata_lib.sidecar_path(path))
    with files.exclusive(exporter.lock_path(path), f"export target {path}"):
        return _export(source, path, direction, opset, metadata, exporter.phase_printer(verbose))


def _export(source, path, direction, opset, metadata, phase=None):
    import tf2onnx

    phase = phase or exporter.phase_printer(False)
    model = resolve_source(source)
    name = model_name(model)
    network = pick_generator(model, direction)
    from zoo import computes_in_16_bits, float32_copy

    if computes_in_16_bits(network):
        # Trained under mixed precision: export (and check parity against) a float32 copy of its float32 variables.
        network = float32_copy(network)
    phase(f"Converting the {direction} generator to ONNX (tf2onnx, opset {opset})")
    onnx_model = convert(network, opset)
    before = _count(onnx_model, "ConvTranspose")
    onnx_model = exporter.optimize_graph(onnx_model)
    onnx_model, split = split_reductions(onnx_model)
    rewrites = {"conv_transpose": before - _count(onnx_model, "ConvTranspose"), "reduce_mean": split}
    props = build_metadata(model, network, name, direction, opset, metadata)
    onnx_rewrites.drop_unused_opset_imports(onnx_model)
    onnx_model.producer_name = "gan-zoo"
    onnx_model.producer_version = props["versions"]["gan-zoo"]
    onnx_model.doc_string = f"GAN Zoo {name} translator ({direction}), exported with tf2onnx {tf2onnx.__version__}"
    del onnx_model.metadata_props[:]
    for key, value in metadata_lib.encode_translator(props).items():
        onnx_model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(onnx_model, full_check=True)
    metadata_lib.check_translator_against_graph(
        props, exporter._graph_specs(onnx_model.graph.input), exporter._graph_specs(onnx_model.graph.output)
    )

    path = pathlib.Path(path)
    sidecar = metadata_lib.sidecar_path(path)
    # As export_generator: both files appear only after parity has passed, the model first, then its sidecar.
    with files.atomic_target(sidecar) as sidecar_temporary, files.atomic_target(path) as temporary:
        onnx.save(onnx_model, str(temporary))
        phase("Checking onnxruntime against Keras at the training image size and twice it")
        provider, checks = parity_check(network, temporary, parity_sizes(props), name=path)
        size_bytes = temporary.stat().st_size
        sidecar_temporary.write_text(metadata_lib.as_json(props, format=metadata_lib.TRANSLATOR_FORMAT))
    return TranslatorExportReport(
        path=str(path),
        model=name,
        direction=direction,
        opset=opset,
        provider=provider,
        tolerance=TOLERANCE,
        checks=checks,
        metadata=props,
        size_bytes=size_bytes,
        rewrites=rewrites,
    )


def _count(model, op_type):
    return sum(node.op_type == op_type for node in model.graph.node)


# --------------------------------------------------------------------------- sources


def resolve_source(source):
    """The `zoo.Pix2Pix` or `zoo.CycleGAN` that `source` is or that its `.keras` file holds."""
    import os

    import keras

    import zoo

    if isinstance(source, (str, os.PathLike)):
        location = pathlib.Path(source)
        if not location.is_file():
            raise FileNotFoundError(f"no model at {location}")
        if location.suffix != ".keras":
            raise ValueError(f"{location} is not a .keras file.")
        source = keras.models.load_model(location, compile=False)  # `import zoo` registered the classes
    if not isinstance(source, (zoo.Pix2Pix, zoo.CycleGAN)):
        raise ValueError(
            f"export_translator exports a zoo.Pix2Pix or zoo.CycleGAN, got {type(source).__name__}"
            " (a noise-to-image generator: export.export_generator)."
        )
    return source


def model_name(model):
    import zoo

    return "pix2pix" if isinstance(model, zoo.Pix2Pix) else "cyclegan"


def pick_generator(model, direction):
    """The generator of `model` that maps in `direction` ("ab" or "ba")."""
    import zoo

    if isinstance(model, zoo.Pix2Pix):
        if direction != "ab":
            raise ValueError("pix2pix has one generator, input -> target: leave generator=None (or 'ab').")
        return model.generator
    return model.generator_ab if direction == "ab" else model.generator_ba


def training_image_shape(model, network):
    """(H, W, C_in) the model trained on, or None where it does not record one.

    CycleGAN keeps `image_shape`. pix2pix does not, but `Pix2Pix.build_for` builds a U-Net that reaches a 1x1
    map at the training size, so that side is the generator's size multiple, 2**depth.
    """
    import zoo

    channels = int(network.inputs[0].shape[-1])
    if isinstance(model, zoo.CycleGAN):
        return [int(side) for side in model.image_shape]
    side = zoo.size_multiple(network)
    return [side, side, channels]


def build_metadata(model, network, name, direction, opset, metadata=None):
    """Everything a translator's `metadata_props` record, as Python values (see `export.metadata`)."""
    import keras

    import zoo
    from zoo.checks import output_range

    channels_in = int(network.inputs[0].shape[-1])
    channels_out = int(network.outputs[0].shape[-1])
    bounds = output_range(network)
    has_dropout = any(isinstance(layer, keras.layers.Dropout) for layer in network.layers)
    props = {
        "kind": "translator",
        "model": name,
        "direction": direction,
        "generator": network.name,
        "inputs": [metadata_lib.tensor_spec(INPUT_NAME, "float32", [*DIMS, channels_in])],
        "outputs": [metadata_lib.tensor_spec(OUTPUT_NAME, "float32", [*DIMS, channels_out])],
        "channels_in": channels_in,
        "channels_out": channels_out,
        "size_multiple": zoo.size_multiple(network),
        "training_image_shape": training_image_shape(model, network),
        "input_range": INPUT_RANGE,
        "value_range": None if bounds is None else metadata_lib.value_range(*bounds),
        "layout": "NHWC",
        "test_time_dropout": DROPOUT_OFF if has_dropout else NO_DROPOUT,
        "dataset": None,
        "precision": "fp32",
        "opset": opset,
        "model_card": None,
        "license": None,
        "versions": exporter.versions(),
    }
    props.update(metadata or {})
    return props


# --------------------------------------------------------------------------- conversion


def convert(network, opset=exporter.DEFAULT_OPSET):
    """The generator's inference graph as an ONNX model: `images` [batch, height, width, C] -> `translated`."""
    import tensorflow as tf
    import tf2onnx

    channels = int(network.inputs[0].shape[-1])
    signature = [tf.TensorSpec([None, None, None, channels], tf.float32, name=INPUT_NAME)]

    @tf.function(input_signature=signature)
    def translate(images):
        # training=False: dropout off, BatchNorm's moving statistics (see the module's note on dropout).
        return {OUTPUT_NAME: tf.cast(network(images, training=False), tf.float32)}

    model, _ = tf2onnx.convert.from_function(translate, input_signature=signature, opset=opset)
    inputs = [value.name for value in model.graph.input]
    outputs = [value.name for value in model.graph.output]
    if inputs != [INPUT_NAME] or outputs != [OUTPUT_NAME]:
        raise RuntimeError(f"tf2onnx produced inputs {inputs} and outputs {outputs}, expected images -> translated.")
    # tf2onnx names the unknown dimensions unk__N; name them, and say the output keeps the input's size.
    for value in (*model.graph.input, *model.graph.output):
        for dim, dim_name in zip(value.type.tensor_type.shape.dim, DIMS):
            dim.dim_param = dim_name
    model.graph.name = network.name
    return model


# --------------------------------------------------------------------------- accurate means
#
# Instance normalisation (Keras's GroupNormalization, NHWC) becomes a ReduceMean over height and width with the
# channels innermost. onnxruntime's CPU kernel sums such strided axes in one sequential float32 pass, so its
# error grows with the pixel count: against a float64 Keras reference, the paper's CycleGAN generator was off
# by 2.5e-5 at 256x256 and 5.8e-5 at 512x512 (TensorFlow's float32: 1.1e-5, 1.8e-5), on course to break the
# 1e-4 parity near 1024x1024. Averaging one axis at a time sums over one side at a time: 4.3e-6 and 4.6e-6.
# The mean of equal-sized means is the mean, so the rewrite is exact in exact arithmetic, at any size.


def split_reductions(model):
    """(model, count): each ReduceMean over several axes (keepdims) as a chain of one-axis ReduceMeans.

    Handles both forms of the axes: an attribute (opset <= 17) and a constant input (opset 18); leaves
    any other ReduceMean as it is.
    """
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    constants = {init.name: init for init in model.graph.initializer}
    nodes, count = [], 0
    for node in model.graph.node:
        if node.op_type != "ReduceMean":
            nodes.append(node)
            continue
        attributes = {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}
        axes = attributes.get("axes")
        as_input = len(node.input) > 1 and node.input[1] in constants
        if as_input:
            axes = numpy_helper.to_array(constants[node.input[1]]).tolist()
        # Negative axes would need the input's rank, unknown here (tf2onnx writes them non-negative).
        if not attributes.get("keepdims", 1) or not axes or len(axes) < 2 or min(axes) < 0:
            nodes.append(node)
            continue
        current = node.input[0]
        # Innermost axis first; with keepdims every axis index stays valid down the chain.
        for position, axis in enumerate(sorted(axes, reverse=True)):
            last = position == len(axes) - 1
            output = node.output[0] if last else f"{node.output[0]}/mean_over_{axis}"
            inputs = [current]
            extra = {"axes": [axis]}
            if as_input:
                inputs.append(f"{node.output[0]}/axis_{axis}")
                model.graph.initializer.append(numpy_helper.from_array(np.array([axis], np.int64), inputs[1]))
                extra = {}
            nodes.append(helper.make_node("ReduceMean", inputs, [output], name=f"{node.name}/axis_{axis}", keepdims=1,
                                          **extra))
            current = output
        count += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx_rewrites.drop_unused_initializers(model)
    return model, count


# --------------------------------------------------------------------------- parity


def parity_sizes(metadata):
    """The (height, width) parity runs at: the training size and twice it (the size multiple without one)."""
    shape = metadata.get("training_image_shape")
    height, width = (shape[0], shape[1]) if shape else (metadata["size_multiple"],) * 2
    return [(height * scale, width * scale) for scale in PARITY_SCALES]


def parity_check(network, path, sizes, batch_sizes=PARITY_BATCH_SIZES, tolerance=TOLERANCE, seed=None, name=None):
    """Run `path` in onnxruntime and the Keras generator (inference mode) on the same random images.

    Returns (provider, rows); raises `exporter.ParityError` when any max abs difference exceeds `tolerance`.

    Args:
        network: the Keras generator.
        path: the .onnx file to check.
        sizes: (height, width) pairs to run at.
        batch_sizes: the batch sizes to run at each size.
        tolerance: the largest max abs difference accepted.
        seed: seeds the random images.
        name: the path the errors give (the target, while `path` is still a temporary file).
    """
    from keras import ops

    from export.runtime import TranslatorSession

    session = TranslatorSession(path)
    path = path if name is None else name
    rng = np.random.default_rng(seed)
    rows = []
    for height, width in sizes:
        for batch in batch_sizes:
            images = rng.uniform(-1, 1, (batch, height, width, session.channels_in)).astype(np.float32)
            expected = np.asarray(ops.convert_to_numpy(network(images, training=False)), np.float64)
            actual = session.translate(images)
            if actual.shape != expected.shape:
                raise exporter.ParityError(f"{path}: ONNX output shape {actual.shape} != Keras {expected.shape}.")
            diff = float(np.max(np.abs(actual.astype(np.float64) - expected)))
            rows.append({"batch": batch, "height": height, "width": width, "max_abs_diff": diff})
            if not diff <= tolerance:
                raise exporter.ParityError(
                    f"{path}: ONNX differs from Keras by {diff:.3g} at batch {batch}, {height}x{width} "
                    f"(tolerance {tolerance:g})."
                )
    return session.provider, rows
