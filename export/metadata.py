"""The metadata an exported generator carries in ONNX `metadata_props`, and how to read it back.

ONNX metadata values are strings, so every value is stored as JSON under a flat key. The runtime
needs nothing else to sample from a model: latent size and prior, classes, output shape and range.
This module imports neither TensorFlow nor onnxruntime.
"""

import json

FORMAT_KEY = "ganzoo.format"
FORMAT = "gan-zoo-generator/1"

# Keys the runtime requires (with FORMAT_KEY); everything else is informative.
REQUIRED = ("latent_dim", "prior", "prior_range", "num_classes", "image_shape", "value_range")

PRIOR_RANGES = {
    # uniform: [low, high]; normal: [mean, stddev].
    "uniform": [-1.0, 1.0],
    "normal": [0.0, 1.0],
}


def encode(metadata):
    """A dict of Python values -> {key: JSON string} with the format marker, for `metadata_props`."""
    missing = [key for key in REQUIRED if key not in metadata]
    if missing:
        raise ValueError(f"generator metadata lacks {missing}.")
    props = {FORMAT_KEY: FORMAT}
    for key, value in metadata.items():
        props[key] = json.dumps(value)
    return props


def decode(props, source="this model"):
    """{key: JSON string} from an ONNX model -> a dict of Python values; ValueError if not ours."""
    if props.get(FORMAT_KEY) != FORMAT:
        found = props.get(FORMAT_KEY)
        detail = f"its {FORMAT_KEY} is {found!r}" if found else "it has no GAN Zoo metadata"
        raise ValueError(
            f"{source} is not a GAN Zoo generator ({detail}); export one with `ganzoo export`."
        )
    metadata = {}
    for key, value in props.items():
        if key == FORMAT_KEY:
            continue
        try:
            metadata[key] = json.loads(value)
        except json.JSONDecodeError:
            metadata[key] = value  # a key someone else added as plain text
    missing = [key for key in REQUIRED if key not in metadata]
    if missing:
        raise ValueError(f"{source} is a GAN Zoo generator with incomplete metadata: missing {missing}.")
    if metadata["prior"] not in PRIOR_RANGES:
        raise ValueError(f"{source} records an unknown prior {metadata['prior']!r}.")
    return metadata
