"""Draw docs/pretrained.png: one labelled row of samples for every shipped pretrained model.

    python tools/pretrained_grid.py                      # every model in saved_models/index.json
    python tools/pretrained_grid.py --models dcgan_digits pix2pix_edges2fashion --out /tmp/some.png

Everything is drawn by the TensorFlow-free runtime from the shipped ONNX files, so the picture shows what
`GeneratorSession.from_pretrained(NAME)` and `TranslatorSession.from_pretrained(NAME)` compute:

Generators come first, then translators, each in the index's order.

- a generator: ten samples, noise seed 0; a conditional one gives one sample per class (0, 1, 2, ...).
- a translator: five test inputs, each beside the translation of the ONNX file. The inputs are cut out of the
  model's own sample grid (NAME_samples.png, drawn by tools/ship_pretrained.py), so no dataset is needed.

Models are read from the index, so a model shipped later gets its row the next time this runs. The PNG records
the names it drew (text chunk "models"); tests/test_docs.py checks that they are the shipped ones.
"""

import argparse
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin  # noqa: E402

import saved_models  # noqa: E402
from export import GeneratorSession, TranslatorSession, files  # noqa: E402
from export.sampling import to_uint8  # noqa: E402

OUT = ROOT / "docs" / "pretrained.png"
SEED = 0
SAMPLES = 10  # tiles in a generator's row
PAIRS = 5  # input | output pairs in a translator's row
TILE = 64  # every sample is scaled by a whole factor and centred in a TILE x TILE black square
GAP = 6  # between a generator's tiles
PAIR_GAP = 2  # between a translator's input and its output
ROW_GAP = 12
MARGIN = 16
LABEL_WIDTH = 250
BACKGROUND, INK, FAINT = 255, 20, 110
DATASETS = {"digits": "scikit-learn digits", "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def _ship_pretrained():
    """tools/ship_pretrained.py as a module: it owns the layout of a translator's sample grid."""
    spec = importlib.util.spec_from_file_location("ship_pretrained", ROOT / "tools" / "ship_pretrained.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _font(size):
    return ImageFont.load_default(size=size)


def _tile(image):
    """uint8 (H, W, C) -> a TILE x TILE uint8 (TILE, TILE, C) square: scaled by a whole factor, centred on black."""
    height, width, channels = image.shape
    scale = max(1, TILE // max(height, width))
    image = image.repeat(scale, axis=0).repeat(scale, axis=1)[:TILE, :TILE]
    tile = np.zeros((TILE, TILE, channels), np.uint8)
    top, left = (TILE - image.shape[0]) // 2, (TILE - image.shape[1]) // 2
    tile[top : top + image.shape[0], left : left + image.shape[1]] = image
    return tile


def generator_row(model):
    """(tiles, caption lines) of a shipped generator: SAMPLES samples, noise seed SEED, classes in order."""
    session = GeneratorSession.from_pretrained(model["name"], providers="cpu")
    labels = [i % session.num_classes for i in range(SAMPLES)] if session.conditional else None
    images = session.generate_images(SAMPLES, labels=labels, seed=SEED)
    generated = model["metrics"]["generated"]
    real = model["metrics"]["real"]
    height, width = session.image_shape[:2]
    what = f"{DATASETS.get(model['dataset'], model['dataset'])} {height}x{width}, " + (
        "one per class" if session.conditional else "unconditional")
    figures = f"score {generated['classifier_score']:.2f} (real {real['classifier_score']:.2f})"
    if generated.get("conditional_accuracy") is not None:
        figures += f", {generated['conditional_accuracy']:.0%} right class"
    return [[_tile(image)] for image in images], [what, figures]


def translator_inputs(model, layout):
    """The shipped sample grid's input tiles of a translator: uint8 (rows, H, W, C), one per example shown there."""
    grid = np.asarray(Image.open(saved_models.path(model["name"], "samples")))
    grid = grid[..., None] if grid.ndim == 2 else grid
    scale, gap, group_gap = layout.GRID_SCALE, layout.GRID_GAP, layout.GRID_GROUP_GAP
    grid = grid[::scale, ::scale]
    height, width, channels = model["image_shape"]
    columns = model["samples"].split(";")[1].count("|") + 1  # "...; each as input | output | target (...)"
    group = columns * width + (columns - 1) * gap
    rows = (grid.shape[0] - gap) // (height + gap)
    per_row = (grid.shape[1] - 2 * gap + group_gap) // (group + group_gap)
    inputs = []
    for r in range(rows):
        for e in range(per_row):
            top, left = gap + r * (height + gap), gap + e * (group + group_gap)
            inputs.append(grid[top : top + height, left : left + width, :channels])
    return np.stack(inputs)


def translator_row(model, layout):
    """(tiles, caption lines) of a shipped translator: PAIRS of its sample grid's inputs, each beside its output."""
    session = TranslatorSession.from_pretrained(model["name"], providers="cpu")
    inputs = translator_inputs(model, layout)
    chosen = inputs[np.linspace(0, len(inputs) - 1, PAIRS).round().astype(int)]  # spread over the classes
    outputs = session.translate(chosen)
    outputs = outputs if outputs.dtype == np.uint8 else to_uint8(outputs, session.value_range)
    task = model.get("dataset", "")
    caption = [f"{model['model']}, {task}", "input | output, test images"]
    return [[_tile(a), _tile(b)] for a, b in zip(chosen, outputs)], caption


def _row_width(groups):
    tiles = sum(len(group) for group in groups)
    return tiles * TILE + sum(PAIR_GAP * (len(group) - 1) for group in groups)


def draw(models, out):
    """Write the picture of `models` (index entries) to `out`; returns the path."""
    layout = _ship_pretrained()
    rows = []
    for model in models:
        kind = saved_models.kind_of(model)
        row = generator_row(model) if kind == saved_models.GENERATOR else translator_row(model, layout)
        rows.append((model["name"], *row))
    channels = max(group[0].shape[-1] for _, groups, _ in rows for group in groups)
    tiles_width = max(SAMPLES * TILE + (SAMPLES - 1) * GAP, max(_row_width(groups) for _, groups, _ in rows))
    width = 2 * MARGIN + LABEL_WIDTH + tiles_width
    height = 2 * MARGIN + len(rows) * TILE + (len(rows) - 1) * ROW_GAP
    mode, background = ("L", BACKGROUND) if channels == 1 else ("RGB", (BACKGROUND,) * 3)
    canvas = Image.new(mode, (width, height), background)
    pen = ImageDraw.Draw(canvas)
    title, small = _font(17), _font(13)
    for index, (name, groups, caption) in enumerate(rows):
        top = MARGIN + index * (TILE + ROW_GAP)
        pen.text((MARGIN, top + 6), name, fill=INK if channels == 1 else (INK,) * 3, font=title)
        for line, text in enumerate(caption):
            pen.text((MARGIN, top + 30 + 16 * line), text, fill=FAINT if channels == 1 else (FAINT,) * 3, font=small)
        # The row's groups spread evenly over the tiles' width: gaps between them absorb what the tiles leave.
        spare = tiles_width - _row_width(groups)
        between = spare / (len(groups) - 1) if len(groups) > 1 else 0
        left = MARGIN + LABEL_WIDTH
        for number, group in enumerate(groups):
            x = round(left + number * between)
            for tile in group:
                pixels = tile[..., 0] if channels == 1 else np.repeat(tile, 3 // tile.shape[-1], axis=-1)
                canvas.paste(Image.fromarray(pixels), (x, top))
                x += TILE + PAIR_GAP
            left += len(group) * TILE + (len(group) - 1) * PAIR_GAP
    info = PngImagePlugin.PngInfo()
    info.add_text("models", ",".join(name for name, _, _ in rows))
    info.add_text("made-by", "python tools/pretrained_grid.py")
    out = pathlib.Path(out)
    with files.atomic_target(out) as temporary:
        canvas.save(temporary, format="PNG", pnginfo=info, optimize=True)
    return out


def drawn_models(path):
    """The names a picture written by `draw` shows, in order."""
    text = Image.open(path).text.get("models", "")
    return text.split(",") if text else []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(OUT), help=f"the PNG to write (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--models", nargs="+", metavar="NAME", help="only these models (default: every shipped one)")
    args = parser.parse_args(argv)
    index = saved_models.index(saved_models.GENERATOR) + saved_models.index(saved_models.TRANSLATOR)
    if args.models:
        known = {model["name"]: model for model in index}
        unknown = [name for name in args.models if name not in known]
        if unknown:
            parser.error(f"not shipped: {', '.join(unknown)}; the models are: {', '.join(sorted(known))}")
        index = [known[name] for name in args.models]
    out = draw(index, args.out)
    print(f"wrote {out}: {len(index)} models, {out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
