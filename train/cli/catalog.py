"""`ganzoo list` and `ganzoo show NAME`: every preset, image-to-image model and task, dataset, recipe and pretrained
model, from the data that defines it.

`ganzoo list` fits a screen: one line per name, cut with an ellipsis to `LINE_WIDTH` columns. `ganzoo list
--verbose` adds every name's details and full commands; `ganzoo show NAME` gives one name's.

Each fact has one source, which this module only lays out: `zoo.describe` (the presets), `train.recipes` (recipes
and the presets' budgets), `train.datasets` and `train.translation_data` (the data), `train.translation_runner`
(the image-to-image budgets) and `saved_models.index()` (the pretrained models). The two image-to-image models'
one-line descriptions live here (`TRANSLATOR_DESCRIPTIONS`).

TensorFlow is imported when a command runs (see train/cli/__init__.py): the presets are Keras code.
"""

import dataclasses
import difflib
import re
import textwrap

from train.cli.errors import UsageError
from train.cli.quiet import import_tensorflow

LINE_WIDTH = 100  # `ganzoo list` lines, and `ganzoo show`'s wrapped prose, fit a 100-column terminal
ELLIPSIS = "…"
# The image-to-image models `ganzoo train` knows: their paper and what they build and train.
TRANSLATOR_DESCRIPTIONS = {
    "pix2pix": ("Isola et al. 2017", "U-Net G, PatchGAN D on pairs, GAN + 100 L1; paired tasks and folders"),
    "cyclegan": ("Zhu et al. 2017", "ResNet Gs, PatchGAN Ds, LSGAN + 10 cycle + 5 identity, history of 50"),
}
# A result's figure, as `ganzoo list` shows it: the number without its ± error, or a percentage ("225", "17.4%").
_FIGURE = re.compile(r"\d[\d,.]*%?")


@dataclasses.dataclass
class Entry:
    """One name that `ganzoo list` shows on a line and `ganzoo show` in full.

    Args:
        kind: what it is, e.g. "preset", "recipe", "pretrained generator".
        name: the name; placeholders such as "<folder>" are listed, not shown.
        summary: the line's text in `ganzoo list`, cut with an ellipsis where it is too long.
        fields: [(label, value)] for `ganzoo show` and `ganzoo list --verbose`: a str is prose (wrapped by
            `ganzoo show`), a list holds one command or path per line (never wrapped, so each copies whole).
        tail: what the line keeps however much of the summary is cut (a preset's figures); "" for none.
    """

    kind: str
    name: str
    summary: str
    fields: list = dataclasses.field(default_factory=list)
    tail: str = ""

    @property
    def placeholder(self):
        return self.name.startswith("<")


@dataclasses.dataclass
class Section:
    """A heading of `ganzoo list` and its entries, one line each."""

    title: str
    entries: list


def register(subparsers):
    listing = subparsers.add_parser(
        "list",
        help="list presets, image-to-image models and tasks, datasets, recipes and pretrained models, one line each",
        description="One line per name. --verbose adds each name's details and full commands; `ganzoo show NAME` "
        "gives one name's.",
    )
    listing.add_argument("--verbose", action="store_true",
                         help="also each name's details: papers' and our results, networks, options, budgets, the "
                         "recipes' full commands, the pretrained models' metrics, files and commands")
    listing.set_defaults(func=list_command)

    show = subparsers.add_parser(
        "show",
        help="the details of one preset, recipe, dataset, image-to-image model or task, or pretrained model",
        description="Everything about NAME: for a preset its paper, networks, options, budget, the paper's number, "
        "ours and the command that trains it; for a recipe its full command; for a pretrained model its metrics, "
        "files and how to open and recreate it.",
    )
    show.add_argument("name", metavar="NAME", help="a name from `ganzoo list`")
    show.set_defaults(func=show_command)


def list_command(args):
    import_tensorflow()  # the presets are Keras code; keep TensorFlow's start-up logging out of the listing
    print("\n".join(list_lines(sections(), verbose=args.verbose)))
    return 0


def show_command(args):
    import_tensorflow()
    found = [entry for entry in entries() if entry.name == args.name]
    if not found:
        names = sorted({entry.name for entry in entries()})
        close = difflib.get_close_matches(args.name, names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ";"
        raise UsageError(f"nothing is named {args.name!r}{hint} `ganzoo list` shows every name.")
    print("\n\n".join("\n".join(show_lines(entry)) for entry in found))
    return 0


# ---------------------------------------------------------------------------------------------- layout


def shorten(text, width):
    """`text` cut to at most `width` characters, at a word where one is near, ending in an ellipsis.

    Args:
        text: one line of text.
        width: the most characters it may take.
    """
    if len(text) <= width:
        return text
    cut = text[: max(0, width - 1)]
    space = cut.rfind(" ")
    if text[len(cut)] != " " and space > width // 3:  # end on a whole word unless that loses most of the room
        cut = cut[:space]
    return cut.rstrip(" ,;:(-") + ELLIPSIS


def list_lines(all_sections, verbose=False):
    """`ganzoo list`'s lines: a heading per section and one line per entry, at most `LINE_WIDTH` columns.

    Args:
        all_sections: the `Section`s to list (`sections()`).
        verbose: also each entry's fields under its line, and the line itself in full (wrapped, not cut).
    """
    lines = []
    for section in all_sections:
        if verbose and lines:
            lines.append("")  # the short list reads without them, and fits a screen
        lines.append(section.title + ":")
        width = max(len(entry.name) for entry in section.entries)
        for entry in section.entries:
            head = f"  {entry.name:<{width}}  "
            if verbose:
                lines += _wrapped(head, entry.summary + entry.tail)
                fields = [(label, value) for label, value in entry.fields if not _said_by(entry.summary, value)]
                lines += _field_lines(fields, " " * len(head))
            else:
                lines.append(head + shorten(entry.summary, LINE_WIDTH - len(head) - len(entry.tail)) + entry.tail)
    if not verbose:
        lines += ["", "Details and full commands: `ganzoo list --verbose` for every name, `ganzoo show NAME` for one."]
    return lines


def _said_by(summary, value):
    """Whether a field's value is a part of the summary line ("paper: summary", a recipe's description), which
    `ganzoo list --verbose` does not repeat."""
    return isinstance(value, str) and (value == summary or summary.startswith(value + ": ")
                                       or summary.endswith(": " + value))


def show_lines(entry):
    """`ganzoo show NAME`'s lines: the entry's name and kind, then its fields, prose wrapped to `LINE_WIDTH`.

    Args:
        entry: an `Entry`.
    """
    return [f"{entry.name} ({entry.kind})", *_field_lines(entry.fields, "  ")]


def _field_lines(fields, indent):
    """"label: value" lines, the values in one column: prose wrapped to `LINE_WIDTH`, a list one item per line."""
    if not fields:
        return []
    width = max(len(label) for label, _ in fields) + 2
    lines = []
    for label, value in fields:
        if isinstance(value, list):  # commands and paths: whole, so that each copies as one line
            lines += [indent + f"{label + ':' if number == 0 else '':<{width}}" + item for number, item in enumerate(value)]
        else:
            lines += _wrapped(indent + f"{label + ':':<{width}}", str(value))
    return lines


def _wrapped(head, text):
    """`head` then `text`, wrapped to `LINE_WIDTH` columns under its first line's text."""
    wrapped = textwrap.wrap(text, LINE_WIDTH - len(head), break_long_words=False, break_on_hyphens=False) or [""]
    return [head + wrapped[0], *(" " * len(head) + rest for rest in wrapped[1:])]


# ---------------------------------------------------------------------------------------------- the entries


def sections():
    """The `Section`s of `ganzoo list`, in order, built from the zoo's data."""
    import saved_models
    import zoo
    from train import datasets, recipes, translation_data, translation_runner

    return [
        Section("Presets (ganzoo train PRESET; paper: what it builds; the paper's figure, ours)",
                [preset_entry(name) for name in zoo.available()]),
        Section("Image-to-image models and tasks (ganzoo train pix2pix|cyclegan --dataset TASK)", [
            *(translation_model_entry(name) for name in translation_runner.MODELS),
            *(translation_task_entry(name) for name in translation_data.OFFLINE_TASKS),
            Entry("image-to-image data", "<folder>", "pix2pix's A|B images, A/ and B/ folders, or CycleGAN's trainA/ "
                  "trainB/; cycle_gan/<name> (tensorflow-datasets)"),
        ]),
        Section("Datasets (ganzoo train PRESET --dataset NAME)", [
            *(dataset_entry(name) for name in datasets.dataset_names()),
            Entry("dataset", "<tfds name>", f"a tensorflow-datasets image dataset: {', '.join(datasets.TFDS_EXAMPLES)}, "
                  "... (downloads once)"),
            Entry("dataset", "<folder>", "MNIST IDX files (e.g. /path/to/mnist) or PNG/JPEG images, class subfolders "
                  "= labels"),
        ]),
        Section("Recipes (ganzoo train --recipe NAME)", [recipe_entry(name) for name in recipes.RECIPES]),
        Section("Pretrained models (ganzoo sample NAME --out grid.png; zoo.load_pretrained(NAME))",
                [pretrained_entry(model) for model in saved_models.index(saved_models.GENERATOR)]),
        Section("Pretrained translators (ganzoo translate NAME IMAGE... --out DIR)",
                [pretrained_entry(model) for model in saved_models.index(saved_models.TRANSLATOR)]),
    ]


def entries():
    """Every name `ganzoo show` knows: the listed ones, and the tensorflow-datasets examples."""
    from train import datasets

    listed = [entry for section in sections() for entry in section.entries if not entry.placeholder]
    return listed + [dataset_entry(name) for name in datasets.TFDS_EXAMPLES]


def _figure(text):
    """The first figure of a result's text, outside parentheses (`_FIGURE`); None if it has none."""
    match = _FIGURE.search(re.sub(r"\([^)]*\)", "", text or ""))
    return match.group().rstrip(".,") if match else None


def _options_text(options):
    return ", ".join(f"{key}={value}" for key, value in options.items())


def _uses(key, name):
    """[("recipes", [...]), ("pretrained", [...])]: the recipes and shipped models whose `key` is `name`."""
    import saved_models
    from train import recipes

    found = [("recipes", ", ".join(r for r, recipe in recipes.RECIPES.items() if recipe.get(key) == name)),
             ("pretrained", ", ".join(m["name"] for m in saved_models.index() if m.get(key) == name))]
    return [(label, names) for label, names in found if names]


def preset_entry(name):
    """A preset: its paper and summary on the line, with the paper's figure and ours where the paper has one.

    Args:
        name: one of `zoo.available()`.
    """
    from train import recipes
    from zoo.presets import describe

    info = describe(name)
    budget = recipes.PRESET_BUDGETS.get(name, recipes.DEFAULT_BUDGET)
    fields = [
        ("paper", info["paper"]),
        ("summary", info["summary"]),
        ("builds", info["builds"]),
        ("options", _options_text(info["options"])),
        ("budget", (f"{budget['steps']:,} generator steps in batches of {budget['batch_size']}, rounded up to whole "
                    "epochs (--epochs and --batch-size override it)")),
    ]
    if info["paper_result"]:
        fields += [("paper's result", info["paper_result"])]
    if info["paper_result"] or info["our_result"]:
        fields += [("ours", info["our_result"] or "not measured yet")]
    fields += _uses("preset", name)
    fields += [
        ("train", [f"ganzoo train {name}   # scikit-learn's 8x8 digits, offline",
                   f"ganzoo train {name} --dataset mnist   # MNIST (downloads; or a folder of its IDX files)"]),
        ("python", [f'zoo.create("{name}", data_shape=(28, 28, 1))']),
    ]
    paper_figure = _figure(info["paper_result"])
    tail = ""
    if paper_figure:
        tail = f"; paper {paper_figure}, ours {_figure(info['our_result']) or 'not measured yet'}"
    return Entry("preset", name, f"{info['paper']}: {info['summary']}", fields, tail)


def translation_model_entry(name):
    """pix2pix or CycleGAN: its paper, what it builds, the built-in tasks it trains on.

    Args:
        name: one of `train.translation_runner.MODELS`.
    """
    from train import translation_runner
    from train.cli.training import TRANSLATION_DEFAULT_DATASET

    paper, builds = TRANSLATOR_DESCRIPTIONS[name]
    tasks = [task for model, task in translation_runner.BUDGETS if model == name]
    papers = translation_runner.PAPER_BUDGET
    return Entry("image-to-image model", name, f"{paper}: {builds}", [
        ("paper", paper),
        ("builds", builds),
        ("tasks", ", ".join(tasks) + " (built in, `ganzoo show TASK`); or a folder of images"),
        ("budget", (f"the papers' {papers['epochs']} epochs of batch {papers['batch_size']} on a folder; each "
                    "built-in task has its own")),
        ("train", [f"ganzoo train {name} --dataset {TRANSLATION_DEFAULT_DATASET[name]}"]),
        ("python", [f'zoo.create_translator("{name}", image_shape)']),
    ])


def translation_task_entry(name):
    """A built-in image-to-image task: paired or not, its data, the model and budget it trains with.

    Args:
        name: one of `train.translation_data.OFFLINE_TASKS`.
    """
    from train import datasets, translation_data, translation_runner

    source, paired = translation_data.OFFLINE_TASKS[name]
    model = "pix2pix" if paired else "cyclegan"
    epochs, batch_size, options = translation_runner.budget(model, name)
    budget = f"{epochs} epochs of {batch_size}" + "".join(f", {key}={value}" for key, value in options.items())
    train = f"ganzoo train {model} --dataset {name}"
    if source in datasets.IDX_SOURCES:
        title, url = datasets.IDX_SOURCES[source]
        data = f"the {title} IDX files, in the folder --data-dir names or its {source}/ subfolder ({url})"
        train += f" --data-dir /path/to/{source}"
    else:
        data = "scikit-learn's 8x8 digits, upsampled to 16x16 (bundled, offline)"
    fields = [
        ("task", translation_data.task_description(name)),
        ("pairs", "paired: pix2pix learns from (A, B) pairs" if paired else "unpaired: CycleGAN, two sets of images"),
        ("data", data),
        ("budget", f"{model}: {budget}"),
        *_uses("dataset", name),
        ("train", [train]),
    ]
    summary = f"{'paired' if paired else 'unpaired'}, from {source}; {model}: {budget}"
    return Entry("image-to-image task", name, summary, fields)


def dataset_entry(name):
    """A dataset `--dataset NAME` takes: the bundled digits, a toy set or a tensorflow-datasets name.

    Args:
        name: "digits", one of `train.datasets.TOY_SETS`, or a tensorflow-datasets name.
    """
    from train import datasets

    if name == "digits":
        summary = datasets.DIGITS_DESCRIPTION
    elif name in datasets.TOY_SETS:
        summary = f"{datasets.TOY_SETS[name].description}, {datasets.TOY_SAMPLES:,} samples"
    else:
        summary = "a tensorflow-datasets image dataset: downloaded once, then read from its data directory"
    fields = [("description", summary)]
    if name in datasets.IDX_SOURCES:
        fields.append(("offline", datasets.idx_folder_advice(name)))
    fields += _uses("dataset", name)
    fields.append(("train", [f"ganzoo train dcgan --dataset {name}" if name not in datasets.TOY_SETS
                             else f"ganzoo train vanilla --dataset {name}"]))
    return Entry("dataset", name, summary, fields)


def recipe_entry(name):
    """A recipe: its description on the line; its preset, data and full command.

    Args:
        name: one of `train.recipes.RECIPES`.
    """
    from train import recipes

    recipe = recipes.get_recipe(name)
    return Entry("recipe", name, recipe["description"], [
        ("description", recipe["description"]),
        ("preset", recipe["preset"]),
        ("dataset", recipe["dataset"]),
        ("command", [recipes.recipe_command(name)]),
        ("same as", [f"ganzoo train --recipe {name}   # other flags override the recipe's"]),
    ])


def pretrained_entry(model):
    """A shipped model: what it is, its figures, files, and how to open and recreate it.

    Args:
        model: an entry of `saved_models.index()`.
    """
    import saved_models

    name, generator = model["name"], model["kind"] == saved_models.GENERATOR
    training = model.get("training") or {}
    trained = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in training.items() if value is not None)
    fields = [
        ("description", model["description"]),
        ("preset", model.get("preset")),
        ("dataset", model.get("dataset")),
    ]
    if generator:
        fields.append(("metrics", metrics_line(model["metrics"])))
        parzen = model["metrics"].get("parzen")
        if parzen:
            generated, real = parzen["generated"], parzen["real"]
            fields.append(("Parzen", (f"log-likelihood {generated['mean']:.1f} ± {generated['std_error']:.1f} "
                                      f"(real {real['mean']:.1f})")))
    else:
        fields += [("task", model["task"]), ("metrics", translator_figures(model["metrics"]))]
    fields += [
        ("protocol", model.get("protocol", "")),
        ("training", trained),
        ("files", [str(saved_models.path(name, kind)) for kind in saved_models.FILE_KINDS if kind in model["files"]]),
        ("recreate", list(model.get("recreate") or [])),
    ]
    if generator:
        fields.append(("open", [f"ganzoo sample {name} --out {name}.png",
                                f'zoo.load_pretrained("{name}")   # a zoo.GAN',
                                f'export.GeneratorSession.from_pretrained("{name}")   # onnxruntime, no TensorFlow']))
        summary = model["description"]
    else:
        fields.append(("open", [f"ganzoo translate {name} IMAGE... --out DIR",
                                f'zoo.load_pretrained("{name}")   # its Keras generator',
                                f'export.TranslatorSession.from_pretrained("{name}")   # onnxruntime, no TensorFlow']))
        summary = f"{model['model']} on {model['dataset']}: {model['task']}"
    kind = "pretrained generator" if generator else "pretrained translator"
    return Entry(kind, name, summary, [(label, value) for label, value in fields if value])


def translator_figures(metrics):
    """A shipped translator's task figures beside the identity's and the real data's, on one line.

    Args:
        metrics: its index entry's "metrics": {"model", "identity", "real"} rows of figures.
    """
    figures = []
    for key, title, fmt in (("l1", "L1", "{:.4f}"), ("class_accuracy", "class kept", "{:.1%}"),
                            ("ink_fraction", "ink share", "{:.3f}")):
        if metrics["model"].get(key) is not None:
            others = ", ".join(f"{row} {fmt.format(metrics[row][key])}" for row in ("identity", "real")
                               if metrics.get(row, {}).get(key) is not None)
            figures.append(f"{title} {fmt.format(metrics['model'][key])}" + (f" ({others})" if others else ""))
    return ", ".join(figures)


def metrics_line(metrics):
    """The `ganzoo evaluate` figures of a shipped generator beside the real data's, on one line.

    Args:
        metrics: its index entry's "metrics": "generated" and "real" figures, "num_classes".
    """
    model, real = metrics["generated"], metrics["real"]
    line = (f"classifier score {model['classifier_score']:.2f} (real {real['classifier_score']:.2f}), "
            f"Frechet distance {model['frechet_distance']:.2f}, class KL {model['class_kl']:.4f}, "
            f"{model['classes_covered']}/{metrics['num_classes']} classes")
    if model.get("conditional_accuracy") is not None:
        line += f", conditional accuracy {100 * model['conditional_accuracy']:.1f}%"
    return line
