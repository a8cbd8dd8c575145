"""`ganzoo translate`: image-to-image translation with an exported pix2pix or CycleGAN generator (onnxruntime only).

Each IMAGE is read with pillow and converted to the model's channels (gray to RGB or RGB to gray as the model
needs; an alpha channel is dropped), translated by `export.TranslatorSession`, and written to OUT/<name>.png.

Sizes: a translator keeps the size it is given, and takes only sides that are multiples of its size multiple.
An image of another size is refused, with a suggestion, rather than padded or cropped behind the user's back
(either would change what the model sees and what comes out); `--resize N` resizes every image to N x N first
(bicubic), as the papers' data loaders do, and the outputs are then N x N. Every input is read and checked
before anything is written, so a bad file leaves no partial output.

MODEL is an .onnx file or the name of a pretrained translator shipped with the package (`ganzoo list`,
`saved_models.names("translator")`), e.g. `ganzoo translate pix2pix_edges2fashion edges/*.png --out items/`.
"""

import pathlib

from train.cli import values
from train.cli.errors import UsageError, usage_errors

# The pillow mode each model channel count is fed in, and the modes that convert to it without guessing.
MODES = {1: "L", 3: "RGB"}
READABLE_MODES = ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "YCbCr")


def register(subparsers):
    translate = subparsers.add_parser(
        "translate",
        help="translate images with an exported pix2pix or CycleGAN generator (no TensorFlow)",
        description="Translate each IMAGE with onnxruntime and write OUT/<name>.png. Images are converted to the "
        "model's channels (gray or RGB); their sides must be multiples of the model's size multiple, or "
        "--resize N resizes them all to N x N first.",
    )
    translate.add_argument("model", help="an .onnx file written by export.export_translator, or a pretrained "
                           "translator's name (see `ganzoo list`)")
    translate.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...), gray or RGB")
    translate.add_argument("--out", required=True, metavar="DIR", help="folder for the translated <name>.png files")
    translate.add_argument("--resize", type=values.integer(1), default=None, metavar="N",
                           help="resize every image to N x N first (N a multiple of the model's size multiple)")
    translate.add_argument("--providers", default="auto", help="auto (TensorRT > CUDA > CPU), cpu, cuda or tensorrt")
    translate.set_defaults(func=run_translate)


def run_translate(args):
    from export import files
    from export.runtime import TranslatorSession

    model = _model_path(args.model)
    with usage_errors(ValueError):  # not an ONNX file, not a translator, or a provider that is not there
        session = TranslatorSession(model, providers=args.providers)
    for side, channels in (("takes", session.channels_in), ("gives", session.channels_out)):
        if channels not in MODES:
            raise UsageError(
                f"{model} {side} {channels}-channel images; ganzoo translate reads and writes gray (1) or RGB (3) "
                "images only: use export.TranslatorSession on arrays."
            )
    multiple = session.size_multiple
    if args.resize is not None and args.resize % multiple:
        raise UsageError(
            f"--resize {args.resize} is not a multiple of {multiple}, the side multiple {model} takes; "
            f"try --resize {max(multiple, round(args.resize / multiple) * multiple)}."
        )
    out = pathlib.Path(args.out)
    targets = _targets(args.images, out)
    pixels = [_read(source, session, args.resize, model) for source in targets]
    files.ensure_folder(out)
    for (source, target), image in zip(targets.items(), pixels):
        translated = session.translate(image)
        with files.atomic_target(target) as temporary:
            _to_pil(translated).save(temporary, format="PNG")
        print(f"wrote {target} ({translated.shape[1]}x{translated.shape[0]}) from {source}")
    print(f"translated {len(pixels)} image{'s' if len(pixels) > 1 else ''} with {model} "
          f"({session.model_name}, {session.direction}) on {session.provider}")


def _model_path(model):
    """An existing file as given, else a pretrained translator's name resolved to its shipped .onnx file."""
    import saved_models

    path = pathlib.Path(model)
    if path.is_file():
        return path
    if model in saved_models.names():
        with usage_errors(ValueError):  # a pretrained generator's name: says to use `ganzoo sample`
            return saved_models.path(model, "onnx", model_kind=saved_models.TRANSLATOR)
    names = ", ".join(saved_models.names(saved_models.TRANSLATOR))
    raise UsageError(f"no model at {path}; give the .onnx file export.export_translator wrote, or a pretrained "
                     f"translator's name ({names}).")


def _targets(images, out):
    """{input path: OUT/<stem>.png}, or a UsageError where two inputs share an output or an output is an input."""
    targets, owners = {}, {}
    for image in images:
        source = pathlib.Path(image)
        target = out / f"{source.stem}.png"
        if target in owners:
            raise UsageError(f"{owners[target]} and {source} would both be written to {target}; rename one.")
        if source.exists() and target.exists() and source.resolve() == target.resolve():
            raise UsageError(f"{target} would overwrite its input {source}; choose another --out.")
        owners[target] = source
        targets[source] = target
    return targets


def _suggested(session, side):
    """A --resize for an image whose longer side is `side`: the side the model trained at, where it records a
    square one (the scale it learnt), else the nearest multiple of its size multiple."""
    shape = session.training_image_shape
    if shape is not None and shape[0] == shape[1]:
        return shape[0]
    multiple = session.size_multiple
    return max(multiple, round(side / multiple) * multiple)


def _read(source, session, resize, model):
    """`source` as uint8 (H, W, C) in the model's channels, or a UsageError naming the file and the fix."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not source.is_file():
        raise UsageError(f"no image at {source}.")
    try:
        with Image.open(source) as opened:
            opened.load()  # decodes now: a truncated file fails here, not halfway through the outputs
            image = opened.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UsageError(f"cannot read {source} as an image ({error}).") from None
    if image.mode not in READABLE_MODES:
        raise UsageError(
            f"{source} is a {image.mode} image; ganzoo translate reads 8-bit gray or RGB images (alpha is dropped): "
            "convert it to one first."
        )
    image = image.convert(MODES[session.channels_in])
    if resize is not None:
        image = image.resize((resize, resize), Image.Resampling.BICUBIC)
    width, height = image.size
    multiple = session.size_multiple
    if width % multiple or height % multiple:
        raise UsageError(
            f"{source} is {width}x{height} pixels; {model} takes sides that are multiples of {multiple}: crop it, "
            f"or pass --resize N to resize every image to N x N (e.g. --resize {_suggested(session, max(width, height))})."
        )
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _to_pil(pixels):
    from PIL import Image

    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
