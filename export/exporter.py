"""Export a GAN Zoo generator to ONNX, check it, and prove it matches Keras.

    from export import export_generator
    report = export_generator(gan, "dcgan.onnx", metadata={"dataset": "digits"})  # or a generator, a .keras file
    print(report)

A run folder is `train`'s format: `ganzoo export RUN_FOLDER` (or `train.run_folder.export`) reads
it and passes the model and the run's metadata here.

The graph has input `z` (float32 [batch, latent_dim]), for conditional models `label` (int64
[batch], or int32 with `label_dtype="int32"` for runtimes without int64 such as WebGL), and output
`images` (float32 [batch, *data_shape]); the batch dimension is dynamic and named `batch`;
BatchNorm runs in inference mode. A label outside [0, num_classes) gives an all-NaN row in the
graph itself, never another class's image. `metadata_props` (and the `<model>.metadata.json`
sidecar) carry what a consumer needs to sample without TensorFlow (see `export.metadata`).

Conversion goes through `tf2onnx.convert.from_function` on a `tf.function` with a named input
signature (`tf2onnx.convert.from_keras` fails on Keras 3 models). The converted graph is then
rewritten for onnxruntime's fast kernels (`export.onnx_rewrites`) and verified against Keras.
"""

import dataclasses
import os
import pathlib
import warnings

import numpy as np
import onnx
from onnx import helper

from export import files
from export import metadata as metadata_lib
from export.onnx_rewrites import drop_unused_opset_imports, optimize_graph, sort_topologically

DEFAULT_OPSET = 17
# The opsets tf2onnx 1.17 converts to (it knows IR versions up to opset 18; below 13 it lacks ops we use).
OPSETS = range(13, 19)
FP32_TOLERANCE = 1e-4
FP16_TOLERANCE = 1e-2
PARITY_BATCH_SIZES = (1, 7)
BATCH_DIM = "batch"
# The label input's type: int64 by default; int32 where a runtime has no int64 (onnxruntime-web's WebGL).
LABEL_DTYPES = ("int64", "int32")


class ParityError(ValueError):
    """The exported model disagrees with the Keras generator beyond the tolerance."""


@dataclasses.dataclass
class ExportReport:
    """What `export_generator` wrote and how closely it matches Keras.

    `checks` holds one row per parity run: {"batch", "label", "max_abs_diff"}; `label` is None
    for unconditional models and "mixed" for a batch of random classes.

    Attributes:
        path: the .onnx file written (str).
        precision: "fp32", "fp16" or "int8".
        opset: the ONNX opset the model uses (int).
        provider: the onnxruntime execution provider the parity checks ran on.
        tolerance: the largest max abs difference from Keras accepted (1e-4 fp32, 1e-2 fp16, 0.5 int8).
        mean_tolerance: the largest mean abs difference accepted (int8 only: 0.02), else None.
        checks: the parity rows, one dict per run, as above.
        metadata: the metadata recorded in the model and its sidecar JSON (dict).
        size_bytes: the .onnx file's size in bytes.

    Args:
        path, precision, opset, provider, tolerance, checks, metadata, size_bytes: the dataclass
            fields, as under Attributes.
    """

    path: str
    precision: str
    opset: int
    provider: str
    tolerance: float
    checks: list
    metadata: dict
    size_bytes: int
    mean_tolerance: float = None

    @property
    def max_abs_diff(self):
        return max(row["max_abs_diff"] for row in self.checks)

    def as_dict(self):
        return {**dataclasses.asdict(self), "max_abs_diff": self.max_abs_diff}

    def __str__(self):
        lines = [
            f"wrote {self.path} ({self.size_bytes / 1e6:.2f} MB, {self.precision}, opset {self.opset})",
            f"parity vs Keras on {self.provider} (tolerance {self.tolerance:g}"
            + ("" if self.mean_tolerance is None else f", mean {self.mean_tolerance:g}") + "):",
        ]
        by_batch = {}
        for row in self.checks:
            by_batch.setdefault(row["batch"], []).append(row)
        for batch, rows in sorted(by_batch.items()):
            worst = max(rows, key=lambda r: r["max_abs_diff"])
            detail = "" if rows[0]["label"] is None else f" over {len(rows)} label runs (worst label {worst['label']})"
            lines.append(f"  batch {batch}: max |onnx - keras| = {worst['max_abs_diff']:.3g}{detail}")
        mean = "" if self.mean_tolerance is None else f", mean {max(row['mean_abs_diff'] for row in self.checks):.3g}"
        lines.append(f"  overall max abs diff {self.max_abs_diff:.3g}{mean}: OK")
        return "\n".join(lines)


# --------------------------------------------------------------------------- public entry point


def export_generator(source, path, opset=None, fp16=False, metadata=None, label_dtype="int64", int8=False, verbose=False):
    """Write `source`'s generator to the ONNX file `path`, check it, and return an `ExportReport`.

    Raises `ParityError` if onnxruntime's output differs from Keras by more than 1e-4 (fp32) or
    1e-2 (fp16) at batch sizes 1 and 7 (every class, for conditional models); int8 files are held to
    `export.quantize.INT8_TOLERANCE` instead (their quality is measured in benchmarks/inference.md).

    Args:
        source: a `zoo.GAN`, a generator `keras.Model`, or a `.keras` file (GAN or generator).
        path: the .onnx file to write.
        opset: the ONNX opset, one of `OPSETS` (13..18; default 17).
        fp16: store float16 weights and compute, keeping float32 inputs and outputs.
        metadata: entries that add to or override the recorded metadata (e.g. {"dataset": "digits",
            "prior": "normal"} for a bare generator, or what a run folder recorded). `"sampling_dropout": True`
            (for a bare generator; a GAN says it itself) exports a generator that samples with its dropout on
            with the masks drawn as extra columns of z (`dropout_masks_from_noise`), not written as metadata.
        label_dtype: the label input's type, "int64" (default) or "int32" (for runtimes without
            int64, such as WebGL).
        int8: quantize the Convs, MatMuls and Gemms to int8 (QDQ, calibrated on the prior; see
            `export.quantize`), for CPUs with VNNI. Not with fp16.
        verbose: print a line as each phase starts (conversion, quantization, parity check).

    Writes `<stem>.metadata.json` beside `path`, with the same values as the ONNX metadata.
    """
    require_tensorflow_backend()
    opset = check_opset(opset)
    if fp16 and int8:
        raise ValueError("choose fp16 or int8, not both.")
    if label_dtype not in LABEL_DTYPES:
        raise ValueError(f"label_dtype must be one of {LABEL_DTYPES}, got {label_dtype!r}.")
    path = files.check_writable(path)  # a target that cannot be written fails now, not after the conversion
    files.check_writable(metadata_lib.sidecar_path(path))
    with files.exclusive(lock_path(path), f"export target {path}"):
        return _export(source, path, opset, fp16, metadata, label_dtype, int8, phase_printer(verbose))


def phase_printer(verbose):
    """A function that says, in one flushed line, which phase of an export starts ("Converting ...").

    Args:
        verbose: print; else the function does nothing.
    """

    def phase(text):
        if verbose:
            print(f"{text}...", flush=True)

    return phase


def _export(source, path, opset, fp16, metadata, label_dtype, int8=False, phase=None):
    import tf2onnx

    phase = phase or phase_printer(False)
    generator, info = resolve_source(source)
    import keras

    from zoo import computes_in_16_bits, float32_copy

    if computes_in_16_bits(generator):
        # Trained under mixed precision: its variables are float32 already; export (and check parity against) a
        # float32 copy, so the graph is float32 unless fp16 is asked for. Before the dropout-mask wrapper below:
        # the copy is of the generator's own layers.
        generator = float32_copy(generator)

    # Whether G samples with its dropout on: the GAN says so; for a bare generator, the caller's metadata (a run's).
    metadata = dict(metadata or {})
    sampling_dropout = bool(metadata.pop("sampling_dropout", info.pop("sampling_dropout", False)))
    has_dropout = any(isinstance(layer, keras.layers.Dropout) for layer in generator.layers)
    if has_dropout and sampling_dropout:
        # Mirza & Osindero's G (the conditional preset) samples with its dropout on: its variety comes from the masks.
        prior = metadata.get("prior", info.get("prior", "uniform"))  # the caller's word for a bare generator
        if prior != "uniform":  # the masks' threshold is a quantile of U(-1, 1)
            raise ValueError(f"a generator that samples with dropout exports its masks as U(-1, 1) columns of z; "
                             f"this one draws z from {prior!r}, whose columns would keep the wrong share")
        generator, info["dropout_masks_in_z"] = dropout_masks_from_noise(generator)
    elif has_dropout:
        warnings.warn("the generator has Dropout layers: the ONNX file computes it in inference mode, dropout off.",
                      stacklevel=2)
    phase(f"Converting the generator to ONNX (tf2onnx, opset {opset})")
    model = convert(generator, opset, label_dtype)
    model = optimize_graph(model)
    info.update(metadata or {})
    precision = "fp16" if fp16 else "int8" if int8 else "fp32"
    props = build_metadata(generator, info, opset=opset, precision=precision, label_dtype=label_dtype)
    if fp16:
        model = to_float16(model)
    if int8:
        from export.quantize import CALIBRATION_SAMPLES, quantize_int8

        phase(f"Quantizing to int8, calibrated on {CALIBRATION_SAMPLES:,} inputs drawn from the prior")
        model = quantize_int8(model, props)
    drop_unused_opset_imports(model)
    model.producer_name = "gan-zoo"
    model.producer_version = props["versions"]["gan-zoo"]
    model.doc_string = f"GAN Zoo generator ({props.get('preset') or 'custom'}), exported with tf2onnx {tf2onnx.__version__}"
    _set_metadata(model, props)
    onnx.checker.check_model(model, full_check=True)
    check_metadata(model, props)

    path = pathlib.Path(path)
    tolerance, mean_tolerance = (FP16_TOLERANCE if fp16 else FP32_TOLERANCE), None
    if int8:
        from export.quantize import INT8_TOLERANCE

        tolerance, mean_tolerance = INT8_TOLERANCE["max_abs_diff"], INT8_TOLERANCE["mean_abs_diff"]
    # The files appear only once parity has passed: a server watching `path` never sees a
    # half-written model, or one that disagrees with Keras (the previous files stay). The model
    # is renamed into place first, then its sidecar (the metadata inside the model is the authority).
    sidecar = metadata_lib.sidecar_path(path)
    with files.atomic_target(sidecar) as sidecar_temporary, files.atomic_target(path) as temporary:
        onnx.save(model, str(temporary))
        every_class = ", each class and mixed labels" if props.get("num_classes") else ""
        batches = " and ".join(map(str, PARITY_BATCH_SIZES))
        phase(f"Checking onnxruntime against Keras at batch sizes {batches}{every_class}")
        provider, checks = parity_check(generator, temporary, tolerance, name=path, mean_tolerance=mean_tolerance)
        size_bytes = temporary.stat().st_size
        sidecar_temporary.write_text(metadata_lib.as_json(props))
    return ExportReport(
        path=str(path),
        precision=props["precision"],
        opset=opset,
        provider=provider,
        tolerance=tolerance,
        checks=checks,
        metadata=props,
        size_bytes=size_bytes,
        mean_tolerance=mean_tolerance,
    )


def require_tensorflow_backend():
    """ValueError unless Keras runs on TensorFlow, which tf2onnx converts from."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"ONNX export converts through tf2onnx, which needs the tensorflow backend (Keras runs on "
            f"{keras.backend.backend()} here): run `ganzoo export`, which always uses it, or KERAS_BACKEND=tensorflow; "
            "a .keras file saved on any backend loads there."
        )


def check_opset(opset):
    """`opset` as an int (None: `DEFAULT_OPSET`), or ValueError unless it is in `OPSETS`."""
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or opset not in OPSETS:
        raise ValueError(f"opset must be an integer in {OPSETS.start}..{OPSETS.stop - 1}, got {opset!r}.")
    return int(opset)


def lock_path(path):
    """The lock file that keeps two exports from writing `path` at once (hidden, beside it)."""
    path = pathlib.Path(path)
    return path.with_name(f".{path.name}.lock")


# --------------------------------------------------------------------------- sources


def _load_keras(path):
    import keras

    import zoo  # noqa: F401  registers GAN and the custom layers for deserialisation

    return keras.models.load_model(path, compile=False)


def resolve_source(source):
    """(generator keras.Model, metadata info dict) for a GAN, a generator or a .keras file."""
    import keras

    import zoo

    info = {}
    if isinstance(source, (str, os.PathLike)):
        location = pathlib.Path(source)
        if location.is_dir():
            raise ValueError(
                f"{location} is a folder; export a GAN, a generator or a .keras file "
                "(a run folder: `ganzoo export`, or `train.run_folder.export`)."
            )
        if not location.is_file():
            raise FileNotFoundError(f"no model at {location}")
        if location.suffix != ".keras":
            raise ValueError(f"{location} is not a .keras file.")
        source = _load_keras(location)

    if isinstance(source, zoo.GAN):
        info.setdefault("preset", source.preset)
        info["prior"] = source.prior
        info["sampling_dropout"] = source.sampling_dropout
        return source.sampling_generator, info  # the averaged generator when the GAN keeps one (EMA)
    if isinstance(source, keras.Model):
        names = [tensor.name for tensor in source.inputs]
        if not names or names[0] != "z" or len(names) > 2:
            raise ValueError(f"expected a generator with inputs z (and label); this model's inputs are {names}.")
        return source, info
    raise ValueError(f"cannot export {type(source).__name__}: pass a GAN, a generator or a .keras file.")


def dropout_masks_from_noise(generator):
    """`generator` with each Dropout layer's mask read from extra columns of z, for a generator that samples with
    its dropout on (`GAN(sampling_dropout=True)`, Mirza & Osindero's): an ONNX graph cannot seed random masks, so
    the runtime draws them as noise, from the prior it draws z from (U(-1, 1)): a unit is kept where its column is
    at least 2 * rate - 1 (probability 1 - rate) and scaled by 1 / (1 - rate), as Keras's Dropout does.

    Returns:
        (the new generator, {"latent_dim": z's own width, "mask_columns": the columns added after it}); the new
        generator shares `generator`'s layers (and so its weights) and takes z of width latent_dim + mask_columns.
    """
    import keras
    from keras import ops

    dropouts = [layer for layer in generator.layers if isinstance(layer, keras.layers.Dropout)]
    widths = {id(layer): int(np.prod(layer.input.shape[1:])) for layer in dropouts}
    latent_dim = int(generator.inputs[0].shape[-1])
    columns = sum(widths.values())
    z = keras.Input((latent_dim + columns,), name="z")
    inputs = [z, *(keras.Input(t.shape[1:], dtype=t.dtype, name=t.name) for t in generator.inputs[1:])]
    offset = [latent_dim]

    def masked(layer):
        if not isinstance(layer, keras.layers.Dropout):
            return layer
        start, width = offset[0], widths[id(layer)]
        offset[0] += width
        rate = float(layer.rate)

        def apply(h, **kwargs):
            u = z[:, start : start + width]
            if len(h.shape) > 2:
                u = keras.layers.Reshape(h.shape[1:], name=f"{layer.name}_mask")(u)
            return h * ops.cast(u >= 2.0 * rate - 1.0, h.dtype) / (1.0 - rate)

        return apply

    own = [z[:, :latent_dim], *inputs[1:]]
    outputs = generator._run_through_graph(own if len(own) > 1 else own[0], operation_fn=masked)
    model = keras.Model(inputs if len(inputs) > 1 else z, outputs, name=f"{generator.name}_masks_in_z")
    return model, {"latent_dim": latent_dim, "mask_columns": columns}


def _num_classes(generator):
    if len(generator.inputs) < 2:
        return None
    import keras

    # The label enters through an Embedding (the zoo's DCGAN, AC-GAN) or a one-hot CategoryEncoding (Mirza & Osindero).
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
        if isinstance(layer, keras.layers.CategoryEncoding):
            return int(layer.num_tokens)
    raise ValueError("a conditional generator needs an Embedding or CategoryEncoding layer to read num_classes from.")


def _value_range(generator):
    """[-1, 1] for tanh outputs, [0, 1] for sigmoid, None (unbounded) otherwise (`zoo.checks.output_range`)."""
    from zoo.checks import output_range

    bounds = output_range(generator)
    return None if bounds is None else metadata_lib.value_range(*bounds)


def versions():
    """{package: version} of the software an export was made with (recorded in its metadata)."""
    import importlib.metadata

    import keras
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    try:
        version = importlib.metadata.version("gan-zoo")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "gan-zoo": version,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tf2onnx": tf2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def build_metadata(generator, info, opset, precision, label_dtype="int64"):
    """Everything `metadata_props` records, as Python values."""
    num_classes = _num_classes(generator)
    prior = info.get("prior", "uniform")
    if prior not in metadata_lib.PRIOR_PARAMS:
        raise ValueError(f"unknown prior {prior!r}; choose one of {tuple(metadata_lib.PRIOR_PARAMS)}.")
    class_names = info.get("class_names")
    if num_classes is None:
        class_names = None
    elif class_names is None or len(class_names) != num_classes:
        class_names = [str(i) for i in range(num_classes)]
    latent_dim = int(generator.inputs[0].shape[-1])
    image_shape = [int(d) for d in generator.outputs[0].shape[1:]]
    inputs = [metadata_lib.tensor_spec("z", "float32", [BATCH_DIM, latent_dim])]
    if num_classes is not None:
        inputs.append(metadata_lib.tensor_spec("label", label_dtype, [BATCH_DIM]))
    metadata = {
        "preset": info.get("preset"),
        "latent_dim": latent_dim,
        "prior": prior,
        "prior_params": info.get("prior_params", metadata_lib.PRIOR_PARAMS[prior]),
        "num_classes": num_classes,
        "class_names": class_names,
        "label_out_of_range": None if num_classes is None else metadata_lib.NAN_ROW,
        "inputs": inputs,
        "outputs": [metadata_lib.tensor_spec("images", "float32", [BATCH_DIM, *image_shape])],
        "image_shape": image_shape,
        "value_range": info.get("value_range", _value_range(generator)),
        "layout": "NHWC" if len(generator.outputs[0].shape) == 4 else "ND",
        "dataset": info.get("dataset"),
        "precision": precision,
        "opset": opset,
        "model_card": info.get("model_card"),
        "license": info.get("license"),
        "versions": versions(),
    }
    extra = {key: value for key, value in info.items() if key not in metadata}
    metadata.update(extra)
    return metadata


def _set_metadata(model, metadata):
    del model.metadata_props[:]
    for key, value in metadata_lib.encode(metadata).items():
        model.metadata_props.add(key=key, value=value)


def _graph_specs(values):
    def spec(value):
        tensor = value.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type).name
        return metadata_lib.tensor_spec(value.name, dtype, [d.dim_param or d.dim_value for d in tensor.shape.dim])

    return [spec(value) for value in values]


def check_metadata(model, metadata):
    """Fail before writing when the metadata disagrees with the graph (see `metadata.check_against_graph`).

    For conditional models the graph is also run on the labels 0, num_classes - 1 (finite rows)
    and num_classes, -1 (NaN rows), which pins num_classes to what the graph actually accepts.
    """
    metadata_lib.check_against_graph(metadata, _graph_specs(model.graph.input), _graph_specs(model.graph.output))
    if metadata["num_classes"] is None:
        return
    import onnxruntime

    n = metadata["num_classes"]
    labels = np.array([0, n - 1, n, -1], dtype=metadata["inputs"][1]["dtype"])
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    z = np.zeros((len(labels), metadata["latent_dim"]), np.float32)
    images = session.run(None, {"z": z, "label": labels})[0].reshape(len(labels), -1)
    finite = np.isfinite(images).all(axis=1)
    if finite.tolist() != [True, True, False, False] or not np.isnan(images[2:]).all():
        raise ValueError(
            f"the export: metadata does not match the graph: with num_classes {n}, labels {labels.tolist()} "
            f"should give finite, finite, NaN, NaN rows; rows finite: {finite.tolist()}."
        )


# --------------------------------------------------------------------------- conversion


def convert(generator, opset=DEFAULT_OPSET, label_dtype="int64"):
    """The generator's inference graph as an ONNX model with our input/output names and a `batch` dim.

    Conditional graphs check the label themselves: the embedding lookup (ONNX Gather, which
    accepts negative indices) only ever sees a valid class, and each row whose label is outside
    [0, num_classes) is replaced by NaN with one Where.
    """
    import tensorflow as tf
    import tf2onnx

    latent_dim = int(generator.inputs[0].shape[-1])
    z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
    if len(generator.inputs) == 2:
        num_classes = _num_classes(generator)
        signature = [z_spec, tf.TensorSpec([None], label_dtype, name="label")]

        @tf.function(input_signature=signature)
        def generate(z, label):
            valid = tf.logical_and(label >= 0, label < num_classes)
            safe = label * tf.cast(valid, label.dtype)  # invalid -> class 0, masked below
            # The Keras label input is int32; checked above in the caller's dtype, so no wrap-around.
            images = tf.cast(generator([z, tf.cast(safe, tf.int32)], training=False), tf.float32)
            row_valid = tf.reshape(valid, [-1] + [1] * (images.shape.rank - 1))
            return {"images": tf.where(row_valid, images, tf.constant(float("nan"), tf.float32))}

    else:
        signature = [z_spec]

        @tf.function(input_signature=signature)
        def generate(z):
            return {"images": tf.cast(generator(z, training=False), tf.float32)}

    model, _ = tf2onnx.convert.from_function(generate, input_signature=signature, opset=opset)
    expected = {"z", "label"} if len(signature) == 2 else {"z"}
    names = {value.name for value in model.graph.input}
    outputs = [value.name for value in model.graph.output]
    if names != expected or outputs != ["images"]:
        raise RuntimeError(f"tf2onnx produced inputs {names} and outputs {outputs}, expected {expected} -> images.")
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM
    model.graph.name = generator.name
    return model


def to_float16(model):
    """float16 weights and compute, float32 inputs/outputs (onnxruntime's converter handles Embedding)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(model, keep_io_types=True)
    sort_topologically(model.graph)  # the converter appends its input Casts at the end
    return model


# --------------------------------------------------------------------------- parity


def parity_check(generator, path, tolerance, batch_sizes=PARITY_BATCH_SIZES, seed=None, name=None, mean_tolerance=None):
    """Run `path` in onnxruntime and the Keras generator on the same fresh random inputs.

    Returns (provider, rows); raises ParityError when any max abs difference exceeds `tolerance`.
    `name` is the path the errors give (the target, while `path` is still a temporary file).
    `mean_tolerance`, where given, also bounds each run's mean abs difference (int8 files).
    """
    from export.runtime import GeneratorSession

    session = GeneratorSession(path)
    path = path if name is None else name
    rng = np.random.default_rng(seed)
    cases = []
    for batch in batch_sizes:
        if session.conditional:
            cases += [(batch, label, np.full((batch,), label)) for label in range(session.num_classes)]
            cases.append((batch, "mixed", rng.integers(0, session.num_classes, size=batch)))
        else:
            cases.append((batch, None, None))
    rows = []
    for batch, label, labels in cases:
        z = session.sample_noise(batch, seed=int(rng.integers(2**31)))
        expected = _keras_output(generator, z, labels)
        actual = session(z, labels)
        if actual.shape != expected.shape:
            raise ParityError(f"{path}: ONNX output shape {actual.shape} != Keras {expected.shape}.")
        gap = np.abs(actual.astype(np.float64) - expected)
        diff, mean = float(np.max(gap)), float(np.mean(gap))
        rows.append({"batch": batch, "label": label, "max_abs_diff": diff, "mean_abs_diff": mean})
        where = f" at batch {batch}{'' if label is None else f', label {label}'}"
        if not diff <= tolerance:
            raise ParityError(f"{path}: ONNX differs from Keras by {diff:.3g}{where} (tolerance {tolerance:g}).")
        if mean_tolerance is not None and not mean <= mean_tolerance:
            raise ParityError(f"{path}: ONNX differs from Keras by {mean:.3g} on average{where} "
                              f"(tolerance {mean_tolerance:g}).")
    return session.provider, rows


def _keras_output(generator, z, labels):
    from keras import ops

    inputs = z if labels is None else [z, labels.astype(np.int32)]
    return np.asarray(ops.convert_to_numpy(generator(inputs, training=False)), np.float64)
