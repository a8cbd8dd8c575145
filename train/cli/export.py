"""`ganzoo export` (TensorFlow, imported when the command runs) and `ganzoo sample` (onnxruntime only).

`export` reads the run folder here, in train, and hands the model and its metadata to
`export.export_generator`; `sample` needs only the TensorFlow-free `export.runtime`.
"""

import pathlib

from train.cli import values
from train.cli.errors import UsageError, usage_errors
from train.cli.quiet import import_tensorflow, select_backend

# `ganzoo sample` draws one grid: its memory is the grid's, so --n has a ceiling.
MAX_SAMPLES = 10_000


def register(subparsers):
    export = subparsers.add_parser(
        "export",
        help="export a generator to ONNX and check it against Keras",
        description="Export SOURCE (a run folder, or a .keras GAN or generator) to ONNX, "
        "then print the parity check against Keras at batch sizes 1 and 7. "
        "Writes <name>.metadata.json beside the .onnx file.",
    )
    export.add_argument("source", help="run folder or .keras file")
    export.add_argument("--out", default=None, help="the .onnx file to write (optional with --triton)")
    precision = export.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="float16 weights and compute (float32 inputs/outputs)")
    precision.add_argument("--int8", action="store_true",
                           help="int8 Convs and MatMuls (QDQ, calibrated on the prior) for CPUs with VNNI; "
                                "float32 inputs/outputs")
    export.add_argument("--opset", type=values.integer(13, 18), default=None, help="ONNX opset, 13..18 (default 17)")
    export.add_argument("--dataset", default=None, help="training dataset name to record, if the source lacks it")
    export.add_argument("--label-dtype", choices=("int64", "int32"), default="int64",
                        help="type of the label input (int32 for onnxruntime-web's WebGL; default %(default)s)")
    export.add_argument("--model-card", default=None, help="model card location to record (path or URL)")
    export.add_argument("--license", default=None, help="licence of the weights to record (SPDX id)")
    export.add_argument("--direction", choices=("ab", "ba"), default=None,
                        help="a CycleGAN run's generator: ab (A -> B, the default) or ba")
    export.add_argument("--triton", default=None, metavar="DIR",
                        help="also write a Triton model repository: DIR/<name>/config.pbtxt and DIR/<name>/1/model.onnx")
    export.add_argument("--triton-name", default=None, help="Triton model name (default: the --out or SOURCE file name)")
    export.add_argument("--max-batch-size", type=values.integer(1), default=1024, help="Triton max_batch_size (default %(default)s)")
    export.set_defaults(func=run_export)

    sample = subparsers.add_parser(
        "sample",
        help="sample a grid of images from an exported .onnx generator (no TensorFlow)",
        description="Generate images with onnxruntime from a GAN Zoo ONNX generator and save them as one PNG grid.",
    )
    sample.add_argument("model", help="an .onnx file written by `ganzoo export`, or a pretrained model's name (see `ganzoo list`)")
    sample.add_argument("--n", type=values.integer(1, MAX_SAMPLES), default=64,
                        help=f"number of images, 1..{MAX_SAMPLES:,} (default: %(default)s)")
    sample.add_argument("--label", default=None, help="class index or name (conditional models; default: cycle all classes)")
    sample.add_argument("--seed", type=values.integer(0), default=None, help="noise seed, for a repeatable grid")
    sample.add_argument("--nrow", type=values.integer(1), default=None, help="images per row (default: square grid)")
    sample.add_argument("--providers", default="auto", help="auto (TensorRT > CUDA > CPU), cpu, cuda or tensorrt")
    sample.add_argument("--out", required=True, help="PNG file to write")
    sample.set_defaults(func=run_sample)


def run_export(args):
    from export import triton
    from train import files, run_folder

    if args.out is None and args.triton is None:
        raise UsageError("give --out FILE.onnx, --triton DIR, or both.")
    with usage_errors(FileNotFoundError, run_folder.RunFolderError):
        _, folder = run_folder.model_file(args.source)
        translator = run_folder.read_config(folder).get("kind") == "translation"
    if translator and args.triton:
        # Its config.pbtxt would need -1 height and width dims and TensorRT profiles over image sizes: not written yet.
        raise UsageError("--triton writes noise generators' model repositories; a translator exports with --out only.")
    name = args.triton_name or triton.model_name(args.out or args.source)
    out = args.out or triton.model_path(args.triton, name)
    files.check_writable(out)  # before the conversion, not after it
    if args.triton:
        files.check_writable(triton.model_path(args.triton, name).parent.parent / "config.pbtxt")
    select_backend("tensorflow")  # tf2onnx converts TensorFlow graphs; a .keras from any backend loads there
    import_tensorflow()
    given = {"dataset": args.dataset, "model_card": args.model_card, "license": args.license}
    metadata = {key: value for key, value in given.items() if value} or None
    with usage_errors(FileNotFoundError, run_folder.RunFolderError):
        report = run_folder.export(
            args.source, out, opset=args.opset, fp16=args.fp16, metadata=metadata, label_dtype=args.label_dtype,
            direction=args.direction, int8=args.int8, verbose=True,
        )
    print(report)
    if args.triton:
        folder = triton.write_model_repository(report.path, args.triton, report.metadata, name=name,
                                               max_batch_size=args.max_batch_size)
        print(f"wrote Triton model {folder} (config.pbtxt, 1/{triton.MODEL_FILE})")


def _labels(session, label, n):
    import numpy as np

    if not session.conditional:
        if label is not None:
            raise UsageError(f"{session.path} is unconditional; drop --label.")
        return None
    if label is None:
        return np.arange(n) % session.num_classes  # each row of a 10-wide grid walks through the classes
    names = [str(name) for name in session.class_names or []]
    if label in names:
        return int(names.index(label))
    try:
        index = int(label)
    except ValueError:
        raise UsageError(f"--label {label!r} is neither a class index nor one of {names}.") from None
    if not 0 <= index < session.num_classes:
        raise UsageError(f"label {index} is outside [0, {session.num_classes}).")
    return index


def _model_path(model):
    """An existing .onnx file as given, else a pretrained model's name resolved to its shipped file."""
    import saved_models

    if pathlib.Path(model).is_file():
        return pathlib.Path(model)
    if model in saved_models.names():
        with usage_errors(ValueError):  # a translator's name: the message says `ganzoo translate NAME ...`
            return saved_models.path(model, "onnx", model_kind=saved_models.GENERATOR)
    raise UsageError(f"{model} is neither an ONNX file nor a pretrained generator "
                     f"({', '.join(saved_models.names(saved_models.GENERATOR))}).")


def run_sample(args):
    from export.runtime import GeneratorSession, save_grid

    from export.files import check_writable

    path = _model_path(args.model)
    check_writable(args.out)
    with usage_errors(ValueError):  # not an ONNX file, not a GAN Zoo generator, or a provider that is not there
        session = GeneratorSession(path, providers=args.providers)
    if len(session.image_shape) != 3:
        raise UsageError(f"{args.model} generates vectors of shape {session.image_shape}, not images.")
    labels = _labels(session, args.label, args.n)
    images = session.generate_images(args.n, labels=labels, seed=args.seed)
    nrow = args.nrow or (session.num_classes if session.conditional and args.label is None else None)
    path = save_grid(images, args.out, nrow=nrow)
    print(f"wrote {path}: {args.n} images {session.image_shape} from {args.model} on {session.provider}")
