"""A Triton Inference Server model repository for an exported generator.

    DIR/<name>/config.pbtxt
    DIR/<name>/1/model.onnx            (+ model.metadata.json, the export's sidecar)

`config.pbtxt` serves the ONNX file with Triton's onnxruntime backend: dynamic batching over the
graph's `batch` dimension, the label as one int per request (`dims: [1]`, reshaped to the
graph's per-row scalar), and on GPUs the TensorRT accelerator with one optimisation profile
spanning batch 1 to `max_batch_size` (precision FP16 for an fp16 export), CUDA as its fallback.
Everything comes from the export's metadata; nothing here needs TensorFlow, onnx or onnxruntime.
"""

import pathlib
import re
import shutil

from export import files
from export import metadata as metadata_lib

MODEL_FILE = "model.onnx"
DATA_TYPES = {"float32": "TYPE_FP32", "float16": "TYPE_FP16", "int64": "TYPE_INT64", "int32": "TYPE_INT32"}
MAX_BATCH_SIZE = 1024
OPT_BATCH_SIZE = 64
MAX_QUEUE_DELAY_US = 100
TRT_WORKSPACE_BYTES = 1 << 30


def model_name(path):
    """A Triton model name from a file or folder name: `runs/dcgan-digits.onnx` -> `dcgan-digits`."""
    stem = pathlib.Path(path).stem or "generator"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)


def model_path(directory, name, version=1):
    """Where the ONNX file of model `name` goes in the repository `directory`."""
    return pathlib.Path(directory) / name / str(version) / MODEL_FILE


def _dims(shape):
    return "[ " + ", ".join(str(d) for d in shape) + " ]"


def _tensor(spec, per_row_scalar):
    lines = [f'    name: "{spec["name"]}"', f"    data_type: {DATA_TYPES[spec['dtype']]}"]
    if per_row_scalar:
        # Triton has no zero-rank request tensors with batching: clients send [batch, 1].
        lines += ["    dims: [ 1 ]", "    reshape: { shape: [ ] }"]
    else:
        lines.append(f"    dims: {_dims(spec['shape'][1:])}")
    return "  {\n" + "\n".join(lines) + "\n  }"


def _profile(inputs, batch):
    return ",".join(f"{spec['name']}:" + "x".join(str(d) for d in [batch, *spec["shape"][1:]]) for spec in inputs)


def config_text(metadata, name, max_batch_size=MAX_BATCH_SIZE, opt_batch_size=OPT_BATCH_SIZE,
                max_queue_delay_us=MAX_QUEUE_DELAY_US):
    """config.pbtxt (protobuf text format of Triton's ModelConfig) for an export's metadata."""
    inputs, outputs = metadata.get("inputs"), metadata.get("outputs")
    if not inputs or not outputs:
        raise ValueError("the model's metadata has no inputs/outputs (format 1): re-export it with `ganzoo export`.")
    if any(spec["shape"][0] != "batch" for spec in inputs + outputs):
        raise ValueError("Triton batching needs a leading `batch` dimension on every input and output.")
    opt_batch_size = min(opt_batch_size, max_batch_size)
    precision = "FP16" if metadata.get("precision") == "fp16" else "FP32"
    tensorrt = {
        "precision_mode": precision,
        "max_workspace_size_bytes": str(TRT_WORKSPACE_BYTES),
        "trt_profile_min_shapes": _profile(inputs, 1),
        "trt_profile_opt_shapes": _profile(inputs, opt_batch_size),
        "trt_profile_max_shapes": _profile(inputs, max_batch_size),
    }
    parameters = "\n".join(f'      parameters {{ key: "{key}" value: "{value}" }}' for key, value in tensorrt.items())
    input_text = ",\n".join(_tensor(spec, per_row_scalar=len(spec["shape"]) == 1) for spec in inputs)
    output_text = ",\n".join(_tensor(spec, per_row_scalar=False) for spec in outputs)
    header = f"GAN Zoo generator ({metadata.get('preset') or 'custom'}, {metadata.get('precision', 'fp32')})"
    return f"""# {header}; metadata: <version>/model.metadata.json
name: "{name}"
backend: "onnxruntime"
max_batch_size: {int(max_batch_size)}
input [
{input_text}
]
output [
{output_text}
]
dynamic_batching {{
  max_queue_delay_microseconds: {int(max_queue_delay_us)}
}}
optimization {{
  execution_accelerators {{
    gpu_execution_accelerator: [
    {{
      name: "tensorrt"
{parameters}
    }}
    ]
  }}
}}
"""


def write_model_repository(model_file, directory, metadata, name=None, version=1, **config):
    """Copy `model_file` (and its metadata sidecar) into a Triton repository; returns the model folder.

    `config` goes to `config_text` (max_batch_size, opt_batch_size, max_queue_delay_us).
    """
    name = name or model_name(model_file)
    target = model_path(directory, name, version)
    source = pathlib.Path(model_file)
    if not target.exists() or source.resolve() != target.resolve():
        with files.atomic_target(target) as temporary:
            shutil.copyfile(source, temporary)
    files.write_text(metadata_lib.as_json(metadata), metadata_lib.sidecar_path(target))
    folder = target.parent.parent
    files.write_text(config_text(metadata, name, **config), folder / "config.pbtxt")
    return folder
