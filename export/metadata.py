"""The metadata an exported generator carries in ONNX `metadata_props`, and how to read it back.

ONNX metadata values are strings, so every value (the format marker included) is stored as JSON
under a flat key, and a consumer can JSON-parse them all. The same values are written as one JSON
object to a `<model>.metadata.json` sidecar, for consumers with no API for ONNX metadata
(onnxruntime-node and -web). The runtime needs nothing else to sample: the graph's inputs and
outputs, latent size and prior, classes and what an out-of-range label does, output shape and
value range. This module imports neither TensorFlow nor onnxruntime.

Format 2 (current) names every parameter: `prior_params` is {"low", "high"} or {"mean", "std"};
`value_range` is {"min", "max", "to_uint8", "polarity"}. Format 1 (a bare-string marker,
`prior_range` and `value_range` as lists) is still read, and normalised to format 2's keys.

Image-to-image translators (pix2pix, CycleGAN; `export.translation`) use the same encoding under their
own marker, `gan-zoo-translator/1`, with the keys `TRANSLATOR_REQUIRED` names (channels, size multiple,
input and output ranges, direction) instead of a prior: `encode_translator`, `decode_translator`.
"""

import json
import pathlib

FORMAT_KEY = "ganzoo.format"
FORMAT = "gan-zoo-generator/2"
FORMAT_V1 = "gan-zoo-generator/1"
# Image-to-image translators (pix2pix, CycleGAN) carry their own marker and keys (see `encode_translator`).
TRANSLATOR_FORMAT = "gan-zoo-translator/1"

# Keys the runtime requires (with FORMAT_KEY); everything else is informative.
REQUIRED = ("latent_dim", "prior", "prior_params", "num_classes", "image_shape", "value_range", "inputs", "outputs")
# Keys `export.TranslatorSession` requires of a translator.
TRANSLATOR_REQUIRED = (
    "kind", "model", "direction", "channels_in", "channels_out", "size_multiple", "input_range", "value_range",
    "layout", "inputs", "outputs",
)

PRIOR_PARAMS = {
    "uniform": {"low": -1.0, "high": 1.0},
    "normal": {"mean": 0.0, "std": 1.0},
}

# What the graph does with a label outside [0, num_classes): that row of `images` is all NaN.
NAN_ROW = "nan_row"
# Format-1 graphs index the label embedding directly: a negative label wraps to another class.
UNCHECKED = "unchecked"

SIDECAR_SUFFIX = ".metadata.json"


def value_range(low, high):
    """The `value_range` entry for outputs in [low, high]: bounds, the uint8 mapping, and polarity."""
    low, high = float(low), float(high)
    scale = 255.0 / (high - low)
    shifted = f"(x - {_number(low)})" if low > 0 else f"(x + {_number(-low)})" if low < 0 else "x"
    return {
        "min": low,
        "max": high,
        "to_uint8": f"clip(round({shifted} * {_number(scale)}), 0, 255)",
        # Drawn as stored: `max` is full intensity (digits and MNIST: white ink on black).
        "polarity": "max_is_white",
    }


def _number(value):
    return f"{value:g}"


def tensor_spec(name, dtype, shape):
    """One `inputs` / `outputs` entry: the graph tensor's name, numpy dtype name, and shape ("batch" first)."""
    return {"name": name, "dtype": dtype, "shape": list(shape)}


def encode(metadata):
    """A dict of Python values -> {key: JSON string} with the format marker, for `metadata_props`."""
    missing = [key for key in REQUIRED if key not in metadata]
    if missing:
        raise ValueError(f"generator metadata lacks {missing}.")
    props = {FORMAT_KEY: json.dumps(FORMAT)}
    for key, value in metadata.items():
        props[key] = json.dumps(value)
    return props


def as_json(metadata, format=FORMAT):
    """The sidecar's content: the same values as `metadata_props`, as one JSON object.

    Args:
        metadata: the values, as `encode` (or `encode_translator`) takes them.
        format: the marker to record, `FORMAT` or `TRANSLATOR_FORMAT`.
    """
    return json.dumps({FORMAT_KEY: format, **metadata}, indent=2) + "\n"


def sidecar_path(model_path):
    """Where the sidecar of `model_path` lives: `dcgan.onnx` -> `dcgan.metadata.json`."""
    path = pathlib.Path(model_path)
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def decode(props, source="this model"):
    """{key: JSON string} from an ONNX model -> a dict of Python values; ValueError if not ours."""
    marker = props.get(FORMAT_KEY)
    if marker == FORMAT_V1:
        return _decode_v1(props, source)
    if marker is not None and _loads(marker) == TRANSLATOR_FORMAT:
        raise ValueError(
            f"{source} is a GAN Zoo image-to-image translator, not a generator; "
            "open it with export.TranslatorSession or `ganzoo translate`."
        )
    if marker is None or _loads(marker) != FORMAT:
        detail = f"its {FORMAT_KEY} is {marker!r}" if marker else "it has no GAN Zoo metadata"
        raise ValueError(f"{source} is not a GAN Zoo generator ({detail}); export one with `ganzoo export`.")
    metadata = {key: _loads(value) for key, value in props.items() if key != FORMAT_KEY}
    return _checked(metadata, source)


def _loads(value):
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # a key someone else added as plain text


def _decode_v1(props, source):
    metadata = {key: _loads(value) for key, value in props.items() if key != FORMAT_KEY}
    missing = [key for key in ("latent_dim", "prior", "prior_range", "num_classes", "image_shape") if key not in metadata]
    if missing:
        raise ValueError(f"{source} is a GAN Zoo generator with incomplete metadata: missing {missing}.")
    first, second = metadata.pop("prior_range")
    names = list(PRIOR_PARAMS.get(metadata["prior"], {"a": 0, "b": 0}))
    metadata["prior_params"] = {names[0]: first, names[1]: second}
    bounds = metadata.get("value_range")
    metadata["value_range"] = None if bounds is None else value_range(*bounds)
    metadata.setdefault("label_out_of_range", None if metadata["num_classes"] is None else UNCHECKED)
    metadata.setdefault("inputs", None)  # format 1 did not record them; the graph has them
    metadata.setdefault("outputs", None)
    return _checked(metadata, source)


def _checked(metadata, source):
    missing = [key for key in REQUIRED if key not in metadata]
    if missing:
        raise ValueError(f"{source} is a GAN Zoo generator with incomplete metadata: missing {missing}.")
    if metadata["prior"] not in PRIOR_PARAMS:
        raise ValueError(f"{source} records an unknown prior {metadata['prior']!r}.")
    if set(metadata["prior_params"]) != set(PRIOR_PARAMS[metadata["prior"]]):
        raise ValueError(
            f"{source}: a {metadata['prior']} prior takes {sorted(PRIOR_PARAMS[metadata['prior']])}, "
            f"got {sorted(metadata['prior_params'])}."
        )
    return metadata


def check_against_graph(metadata, inputs, outputs, source="the export"):
    """Raise ValueError where the metadata disagrees with the graph's inputs/outputs.

    inputs, outputs: `tensor_spec` dicts read from the graph (shape entries are ints or "batch").
    Checks the recorded tensors, the latent size, the image shape, and the class names' count.
    """
    problems = []
    if metadata["inputs"] != inputs:
        problems.append(f"inputs {metadata['inputs']} != graph {inputs}")
    if metadata["outputs"] != outputs:
        problems.append(f"outputs {metadata['outputs']} != graph {outputs}")
    z = next((spec for spec in inputs if spec["name"] == "z"), None)
    if z is None or z["shape"][1:] != [metadata["latent_dim"]]:
        problems.append(f"latent_dim {metadata['latent_dim']} != graph z {z and z['shape']}")
    if not outputs or outputs[0]["shape"][1:] != list(metadata["image_shape"]):
        problems.append(f"image_shape {metadata['image_shape']} != graph output {outputs and outputs[0]['shape']}")
    conditional = any(spec["name"] == "label" for spec in inputs)
    if conditional != (metadata["num_classes"] is not None):
        problems.append(f"num_classes {metadata['num_classes']} but the graph {'has' if conditional else 'has no'} label input")
    names = metadata.get("class_names")
    if names is not None and len(names) != metadata["num_classes"]:
        problems.append(f"{len(names)} class_names for {metadata['num_classes']} classes")
    if problems:
        raise ValueError(f"{source}: metadata does not match the graph: {'; '.join(problems)}.")


# --------------------------------------------------------------------------- translators


def encode_translator(metadata):
    """A translator's metadata (Python values) -> {key: JSON string} with `TRANSLATOR_FORMAT`, for `metadata_props`."""
    missing = [key for key in TRANSLATOR_REQUIRED if key not in metadata]
    if missing:
        raise ValueError(f"translator metadata lacks {missing}.")
    return {FORMAT_KEY: json.dumps(TRANSLATOR_FORMAT), **{key: json.dumps(value) for key, value in metadata.items()}}


def decode_translator(props, source="this model"):
    """{key: JSON string} from a translator's ONNX model -> a dict of Python values; ValueError if not one."""
    marker = props.get(FORMAT_KEY)
    marker = None if marker is None else _loads(marker)
    if marker != TRANSLATOR_FORMAT:
        if marker in (FORMAT, FORMAT_V1):
            raise ValueError(
                f"{source} is a GAN Zoo generator, not an image-to-image translator; "
                "open it with export.GeneratorSession or `ganzoo sample`."
            )
        detail = f"its {FORMAT_KEY} is {marker!r}" if marker else "it has no GAN Zoo metadata"
        raise ValueError(
            f"{source} is not a GAN Zoo translator ({detail}); export one with export.export_translator."
        )
    metadata = {key: _loads(value) for key, value in props.items() if key != FORMAT_KEY}
    missing = [key for key in TRANSLATOR_REQUIRED if key not in metadata]
    if missing:
        raise ValueError(f"{source} is a GAN Zoo translator with incomplete metadata: missing {missing}.")
    return metadata


def check_translator_against_graph(metadata, inputs, outputs, source="the export"):
    """Raise ValueError where a translator's metadata disagrees with its graph's inputs/outputs.

    inputs, outputs: `tensor_spec` dicts read from the graph (shape entries are ints or dimension names).
    """
    problems = []
    if metadata["inputs"] != inputs:
        problems.append(f"inputs {metadata['inputs']} != graph {inputs}")
    if metadata["outputs"] != outputs:
        problems.append(f"outputs {metadata['outputs']} != graph {outputs}")
    if len(inputs) != 1 or inputs[0]["shape"][-1] != metadata["channels_in"]:
        problems.append(f"channels_in {metadata['channels_in']} != graph input {inputs}")
    if len(outputs) != 1 or outputs[0]["shape"][-1] != metadata["channels_out"]:
        problems.append(f"channels_out {metadata['channels_out']} != graph output {outputs}")
    if problems:
        raise ValueError(f"{source}: metadata does not match the graph: {'; '.join(problems)}.")
