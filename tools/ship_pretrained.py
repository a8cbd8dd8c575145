"""Ship a trained run as a pretrained model: `python tools/ship_pretrained.py RUN NAME --data FOLDER ...`.

A noise GAN's run writes into saved_models/: NAME.keras (the whole GAN, without optimizer state, so that it can
be sampled or fine-tuned), NAME.onnx and its metadata sidecar (exported with parity checked),
NAME_samples.png (100 samples, noise seed 0, one column per class), and NAME's entry in index.json
("kind": "generator") with the figures of `ganzoo evaluate` (5,000 samples, noise seed 0, beside real data).

A pix2pix or CycleGAN run (its config.json says "kind": "translation") is shipped as a translator
("kind": "translator"): `python tools/ship_pretrained.py RUN NAME --description ... --recreate ...
[--data-dir FOLDER]`. It writes NAME.keras, NAME.onnx and its sidecar through `export.export_translator`
(parity with Keras checked at the training size and twice it), NAME_samples.png (the first test images of each
class, each as input | output | target, translated by `export.TranslatorSession` from the ONNX file, so the grid
is exactly what the shipped file computes) and the index entry with the task figures (`ganzoo evaluate`'s
measures, `train.evaluation.translation`, taken on the ONNX file over the task's whole test split, beside the
identity and the real data). What NAME.keras holds is decided by size (`--keras-holds auto`): the whole model
without optimizer state where that adds at most `WHOLE_MODEL_MAX_EXTRA` to the exported generator's file (pix2pix:
its PatchGAN is tiny, and the whole model can be fine-tuned), else the exported generator alone (CycleGAN: its
second generator and two discriminators would triple the file; the A -> B generator is what the ONNX file and
`zoo.load_pretrained` serve).

`--card` alone only re-renders the model card from index.json. `--existing` re-measures a generator that is
already shipped (NAME.keras and NAME.onnx as they are) and only rewrites its samples and its index entry; RUN is
then not needed (give "-").
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import saved_models  # noqa: E402
from export import files  # noqa: E402

MODEL_CARD = "saved_models/README.md"
LICENSE = "Apache-2.0"
# A translator's .keras holds the whole model (without optimizer state) when that file is at most this much
# larger than the exported generator's alone; otherwise the generator alone (see the module docstring).
WHOLE_MODEL_MAX_EXTRA = 0.25
# The sample grid of a translator: the first SAMPLES_PER_CLASS test images of each class (a row per class), or
# the first SAMPLE_ROWS * SAMPLES_PER_CLASS test images where the task has no labels.
SAMPLES_PER_CLASS = 2
SAMPLE_ROWS = 10
GRID_SCALE = 2  # 32 px tiles drawn at 64 px
GRID_GAP, GRID_GROUP_GAP, GRID_GAP_VALUE = 2, 10, 128  # grey lines between tiles, wider between examples
# The source datasets of the offline tasks, for the card (their own licences, not the models').
DATA_SOURCES = {
    "fashion_mnist": "Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, Zalando Research; MIT licence)",
    "mnist": "MNIST (LeCun, Cortes and Burges; CC BY-SA 3.0, as Keras distributes it)",
    "digits": "scikit-learn's 8x8 digits (UCI optical recognition of handwritten digits; CC BY 4.0)",
}


def save_uncompiled_gan(run, path):
    """The run's GAN without its optimizers (a quarter of the size): what fine-tuning or sampling needs."""
    import zoo
    from train import files as train_files
    from train import run_folder

    gan, _ = run_folder.load(run)
    if not isinstance(gan, zoo.GAN):
        raise SystemExit(f"{run} holds a generator only; ship a run folder with gan.keras.")
    train_files.save_model(gan, path)  # loaded uncompiled: no optimizer variables to save
    return gan


def save_generator_checkpoint(checkpoint, path):
    """A generator checkpoint of a run (a .keras file holding the generator alone), saved as shipped."""
    from train import files as train_files
    from train import run_folder

    generator = run_folder.load_keras(checkpoint, compile=False)
    train_files.save_model(generator, path)
    return generator


def draw_samples(onnx_path, png_path):
    from export import GeneratorSession, save_grid

    session = GeneratorSession(onnx_path, providers="cpu")
    labels = np.arange(100) % session.num_classes if session.conditional else None
    save_grid(session.generate_images(100, labels=labels, seed=0), png_path, nrow=10)


def measure(onnx_path, data, n):
    from train.evaluation import evaluate

    report = evaluate(str(onnx_path), dataset=data, n=n, seed=0, verbose=False)
    keys = ("classifier_score", "frechet_distance", "class_kl", "classes_covered", "conditional_accuracy")
    return {
        "generated": {key: report["generated"].get(key) for key in keys},
        "real": {key: report["baseline"].get(key) for key in keys},
        "num_classes": len(report["baseline"]["class_histogram"]),
        "classifier_test_accuracy": report["classifier"]["test_accuracy"],
    }, report["protocol"] + f"; real: {report['baseline']['description']}"


def measure_parzen(onnx_path, data):
    """Goodfellow et al.'s Parzen-window figure of the ONNX file (`ganzoo evaluate --parzen`) beside real data's."""
    from train.evaluation import evaluate_parzen

    report = evaluate_parzen(str(onnx_path), dataset=data, seed=0, verbose=False)
    keep = ("mean", "std_error", "sigma")
    return {
        "generated": {key: report["generated"][key] for key in keep},
        "real": {key: report["baseline"][key] for key in keep},
        "protocol": report["protocol"],
    }


def _parameters(model):
    """{"generator": n, "discriminator": n, or None when only the generator is shipped}."""
    import zoo

    if isinstance(model, zoo.GAN):
        return {"generator": model.generator.count_params(), "discriminator": model.discriminator.count_params()}
    return {"generator": model.count_params(), "discriminator": None}


# ---------------------------------------------------------------------------------------------- translators


def is_translation_run(run):
    """Whether `run` is a pix2pix / CycleGAN run folder (its config.json says "kind": "translation")."""
    config = pathlib.Path(run) / "config.json"
    return config.is_file() and json.loads(config.read_text()).get("kind") == "translation"


def save_translator_keras(gan, path, holds="auto"):
    """Write the translator's .keras file; returns what it holds, "gan" or "generator", and why.

    "auto" writes the whole model without optimizer state (the run folder's GAN is loaded uncompiled) where
    that costs at most WHOLE_MODEL_MAX_EXTRA more than the exported generator alone, else the generator.
    """
    import tempfile

    from train import files as train_files

    generator = gan.sampling_generator  # the A -> B generator: what export_translator exports by default
    if holds == "auto":
        with tempfile.TemporaryDirectory() as folder:
            whole = train_files.save_model(gan, pathlib.Path(folder) / "whole.keras").stat().st_size
            alone = train_files.save_model(generator, pathlib.Path(folder) / "generator.keras").stat().st_size
        extra = whole / alone - 1
        holds = "gan" if extra <= WHOLE_MODEL_MAX_EXTRA else "generator"
        reason = (f"the whole model without optimizer state is {whole / 1e6:.2f} MB, {100 * extra:.0f}% more than "
                  f"the exported generator alone ({alone / 1e6:.2f} MB); the limit is "
                  f"{100 * WHOLE_MODEL_MAX_EXTRA:.0f}%")
    else:
        reason = f"--keras-holds {holds}"
    train_files.save_model(gan if holds == "gan" else generator, path)
    return holds, reason


def sample_rows(data):
    """Indices of the test images in the sample grid: [[row of SAMPLES_PER_CLASS indices], ...]."""
    if data.test_labels is None:
        count = min(len(data.test_a), SAMPLE_ROWS * SAMPLES_PER_CLASS)
        return [list(range(start, min(start + SAMPLES_PER_CLASS, count))) for start in range(0, count, SAMPLES_PER_CLASS)]
    labels = np.asarray(data.test_labels)
    return [np.flatnonzero(labels == label)[:SAMPLES_PER_CLASS].tolist() for label in np.unique(labels)]


def _pixels(images, channels):
    from export.sampling import to_uint8

    pixels = to_uint8(images)
    return np.repeat(pixels, channels // pixels.shape[-1], axis=-1) if pixels.shape[-1] != channels else pixels


def translation_grid(columns, rows):
    """One uint8 image: a row per entry of `rows` (test indices), each example as its `columns` side by side.

    Args:
        columns: [images (N, H, W, C) in [-1, 1]], e.g. [inputs, outputs, targets], all of the same N, H and W.
        rows: lists of indices into those arrays.
    """
    channels = max(images.shape[-1] for images in columns)
    columns = [_pixels(images, channels) for images in columns]
    height, width = columns[0].shape[1:3]
    per_row = max(len(row) for row in rows)
    group = len(columns) * width + (len(columns) - 1) * GRID_GAP
    grid_width = per_row * group + (per_row - 1) * GRID_GROUP_GAP + 2 * GRID_GAP
    grid_height = len(rows) * (height + GRID_GAP) + GRID_GAP
    grid = np.full((grid_height, grid_width, channels), GRID_GAP_VALUE, np.uint8)
    for r, row in enumerate(rows):
        top = GRID_GAP + r * (height + GRID_GAP)
        for e, index in enumerate(row):
            for c, images in enumerate(columns):
                left = GRID_GAP + e * (group + GRID_GROUP_GAP) + c * (width + GRID_GAP)
                grid[top : top + height, left : left + width] = images[index]
    return grid.repeat(GRID_SCALE, axis=0).repeat(GRID_SCALE, axis=1)


def draw_translations(session, data, png_path):
    """The sample grid of the ONNX translator `session` on `data`'s test images; returns its caption."""
    from export.sampling import to_pil

    rows = sample_rows(data)
    chosen = sorted(index for row in rows for index in row)
    outputs = np.zeros((len(data.test_a), *data.test_a.shape[1:3], session.channels_out), np.float32)
    outputs[chosen] = session.translate(data.test_a[chosen])
    target = data.test_b if data.paired else data.answers
    columns, names = [data.test_a, outputs], ["input", "the ONNX file's output"]
    if target is not None:
        columns.append(target)
        names.append("target" if data.paired else "the known answer")
    with files.atomic_target(png_path) as temporary:
        to_pil(translation_grid(columns, rows)).save(temporary, format="PNG")
    which = (f"the first {SAMPLES_PER_CLASS} test images of each class, a row per class"
             if data.test_labels is not None else f"the first {len(chosen)} test images")
    return f"{which}; each as {' | '.join(names)} (onnxruntime, CPU; deterministic)"


def measure_translator(session, data):
    """`ganzoo evaluate`'s task figures (`train.evaluation.translation`) of the ONNX file on the whole test split."""
    from train.evaluation.translation import evaluate_translation

    report = evaluate_translation(lambda images: session.translate(images, batch_size=256), data)
    return {key: report[key] for key in ("model", "identity", "real", "protocol") if key in report}


def translator_protocol(metrics, task, provider):
    """The protocol of a translator's figures as one line of text."""
    protocol = metrics["protocol"]
    text = [f"the whole {protocol['split']} split of {task}, {protocol['count']:,} "
            f"{'pairs' if protocol['paired'] else 'images'}, translated by the ONNX file (onnxruntime {provider}, "
            "inference mode)"]
    if protocol.get("l1_reference"):
        reference = protocol["l1_reference"].split(",")[0]
        text.append(f"L1 = mean absolute difference to {reference}, per pixel, images in [-1, 1]")
    if protocol.get("classifier"):
        accuracy = protocol.get("classifier_test_accuracy")
        share = f" (test accuracy {100 * accuracy:.2f}%)" if accuracy is not None else ""
        text.append(f"class kept = share of outputs that the {protocol['classifier']} evaluation classifier{share} "
                    "puts in the input's class")
    if protocol.get("style_statistic"):
        text.append("ink share = mean share of pixels above 0 (the stroke statistic; the real B test images: "
                    f"{metrics['model']['ink_fraction_real_b']:.3f})")
    text.append("identity = the input returned as it is; real = the right answer returned")
    return "; ".join(text)


def ship_translator(args):
    """Ship the pix2pix / CycleGAN run `args.run` as the translator `args.name`; returns its index entry."""
    import keras

    import zoo
    from export import TranslatorSession, export_translator
    from train import run_folder, translation_data

    folder = saved_models.FOLDER
    keras_path, onnx_path, png_path = (folder / f"{args.name}{suffix}" for suffix in (".keras", ".onnx", "_samples.png"))
    gan, config = run_folder.load(args.run)
    if not isinstance(gan, zoo.TranslationGAN):
        raise SystemExit(f"{args.run} holds {type(gan).__name__}, not a pix2pix or CycleGAN model: ship its gan.keras.")
    state = pathlib.Path(args.run) / run_folder.STATE_FILE
    if state.exists():  # a run stopped early ships the epoch its gan.keras holds
        config["epochs"] = json.loads(state.read_text()).get("epochs_done", config["epochs"])
    task = args.data or config["dataset"]
    data = translation_data.load_translation_data(
        task, data_dir=args.data_dir or config.get("data_dir"), image_size=config.get("image_size"),
        direction=config.get("direction", "AtoB"),
    )
    holds, reason = save_translator_keras(gan, keras_path, args.keras_holds)
    print(f"wrote {keras_path} ({keras_path.stat().st_size / 1e6:.2f} MB): {holds} ({reason})")
    training = {key: config[key] for key in ("epochs", "seed", "batch_size") if key in config}
    report = export_translator(gan, onnx_path, metadata={
        "preset": config["preset"], "dataset": task, "training_image_shape": list(config["data_shape"]),
        "training": training, "model_card": MODEL_CARD, "license": LICENSE,
    })
    print(report)
    session = TranslatorSession(onnx_path, providers="cpu")
    caption = draw_translations(session, data, png_path)
    metrics = measure_translator(session, data)
    metadata = session.metadata
    source = translation_data.OFFLINE_TASKS.get(task, (None, None))[0]
    generator = gan.sampling_generator
    others = [network for network in gan.generators if network is not generator]
    return {
        "name": args.name,
        "kind": saved_models.TRANSLATOR,
        "description": args.description,
        "model": report.model,
        "preset": config["preset"],
        "dataset": task,
        "task": data.description,
        "data": {
            "source": DATA_SOURCES.get(source, task),
            "paired": bool(data.paired),
            "train_examples": config.get("num_samples"),
            "test_examples": len(data.test_a),
            "fingerprint": config.get("dataset_fingerprint"),
        },
        "direction": report.direction,
        "generator": metadata["generator"],
        "image_shape": list(config["data_shape"]),
        "output_shape": list(config.get("output_shape") or data.target_shape),
        "size_multiple": metadata["size_multiple"],
        "keras_holds": holds,
        "keras_holds_why": reason,
        "options": config.get("options", {}),
        "files": {"keras": keras_path.name, "onnx": onnx_path.name, "samples": png_path.name},
        "onnx_precision": metadata.get("precision", "fp32"),
        "parity_max_abs_diff": report.max_abs_diff,
        "test_time_dropout": metadata["test_time_dropout"],
        "dropout_layers": {layer.name: float(layer.rate) for layer in generator.layers
                           if isinstance(layer, keras.layers.Dropout)},
        "training": {**training, "steps_per_epoch": config.get("steps_per_epoch"),
                     "steps": config["epochs"] * config["steps_per_epoch"],
                     "train_seconds": round(sum(run_folder.read_history(args.run).get("seconds", []))) or None},
        "parameters": {
            "generator": generator.count_params(),
            "discriminator": sum(d.count_params() for d in gan.discriminators) if holds == "gan" else None,
            "not_shipped": None if holds == "gan" else {
                network.name: network.count_params() for network in [*others, *gan.discriminators]},
        },
        "metrics": metrics,
        "protocol": translator_protocol(metrics, task, session.provider),
        "samples": caption,
        "recreate": [line.strip() for line in args.recreate.split(";") if line.strip()],
    }


def _with_kind(model):
    """The entry with its "kind" right after its name ("generator" where an older entry names none)."""
    kind = saved_models.kind_of(model)
    rest = {key: value for key, value in model.items() if key not in ("name", "kind")}
    return {"name": model["name"], "kind": kind, **rest}


def write_entry(entry):
    """Add `entry` to index.json, or replace the entry of that name where it stands; every entry gets its kind."""
    models = saved_models.index() if saved_models.INDEX.exists() else []
    names = [model["name"] for model in models]
    if entry["name"] in names:
        models[names.index(entry["name"])] = entry
    else:
        models.append(entry)
    models = [_with_kind(model) for model in models]
    files.write_text(json.dumps({"models": models}, indent=2) + "\n", saved_models.INDEX)


CARD_HEAD = """# Pretrained models (model card)

Models trained with this project's own commands (`ganzoo train`, `--seed 0`) and shipped with the package, so a
name resolves without network access: noise-to-image **generators** (GANs) and image-to-image **translators**
(pix2pix, CycleGAN). Each comes as a Keras file (`.keras`, needs TensorFlow: the whole GAN for the 28x28 models
and for pix2pix, ready to sample or to fine-tune; the generator alone for the 8x8 digits models and for CycleGAN)
and as ONNX (`.onnx` plus a `.metadata.json` sidecar, needs only numpy and onnxruntime):

    import zoo
    zoo.pretrained()                                   # names, kinds, figures, how each was made
    gan = zoo.load_pretrained("conditional_mnist")     # a zoo.GAN
    sevens = gan.generate(16, labels=7)
    unet = zoo.load_pretrained("pix2pix_edges2fashion")  # a translator: its Keras generator, images -> images
    items = unet(edge_maps, training=False)            # float32 (N, 32, 32, 1) in [-1, 1], as the ONNX file

    from export import GeneratorSession, TranslatorSession   # no TensorFlow
    session = GeneratorSession.from_pretrained("conditional_mnist")
    images = session.generate_images(16, labels=7)     # uint8
    translator = TranslatorSession.from_pretrained("cyclegan_thin2thick")
    thick = translator.translate(digits)               # uint8 (N, 32, 32, 1) in, uint8 out

    ganzoo sample conditional_mnist --label 7 --out sevens.png
    ganzoo translate pix2pix_edges2fashion edges/*.png --out items/
    ganzoo show conditional_mnist                      # its figures, files and how it was made

    import saved_models
    saved_models.names("translator")                   # or "generator"; names() gives both kinds

Licence: Apache-2.0, the project's (every ONNX file records it in its metadata). This card is rendered from
`index.json` by `tools/ship_pretrained.py`, which wrote the files, exported and parity-checked the ONNX, drew
the grids and ran the evaluation; no figure in its tables is typed by hand (`python tools/ship_pretrained.py
--card` re-renders it).
"""


def _mb(path):
    return f"{path.stat().st_size / 1e6:.2f}"


def _figure(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def _sizes(model):
    return f"{_mb(saved_models.path(model['name'], 'keras'))} / {_mb(saved_models.path(model['name'], 'onnx'))}"


def _budget(training):
    steps = f"{training['steps']:,} steps, " if training.get("steps") else ""
    return f"{steps}{training['epochs']} epochs of batch {training['batch_size']}, seed {training['seed']}"


def _generator_card(models):
    lines = ["## Generators", "",
             "| name | preset | dataset | generator / discriminator parameters | training | wall seconds (2 shared CPU cores) | "
             ".keras / .onnx MB | ONNX precision |",
             "|---|---|---|---|---|---:|---|---|"]
    for model in models:
        training, params = model["training"], model["parameters"]
        d_params = f"{params['discriminator']:,}" if params["discriminator"] else "not shipped"
        seconds = _figure(training.get("train_seconds"), 0)
        lines.append(f"| `{model['name']}` | {model['preset']} | {model['dataset']} | {params['generator']:,} / {d_params} "
                     f"| {_budget(training)} | {seconds} | {_sizes(model)} | {model['onnx_precision']} |")
    lines += ["", "Wall seconds are the runs' own, on a 2-core machine that was running other jobs too (the 28x28 "
              "runs two at a time): alone, a step of the dcgan_mbd_code_ema preset takes 75 ms there (10.6 minutes for 8,433 "
              "steps) and the conditional_dcgan_mbd preset's Fashion-MNIST run took 481 s.",
              "", "### Quality", "",
              "`ganzoo evaluate` on the ONNX file, beside the same figures for real data of the same dataset "
              "(the protocol of each dataset is below the table).", "",
              "| name | classifier score (real) | Frechet distance (real) | class KL (real) | classes covered | "
              "conditional accuracy (real) |", "|---|---:|---:|---:|---:|---:|"]
    for model in models:
        gen, real, k = model["metrics"]["generated"], model["metrics"]["real"], model["metrics"]["num_classes"]
        lines.append(
            f"| `{model['name']}` | {_figure(gen['classifier_score'], 2)} ({_figure(real['classifier_score'], 2)}) "
            f"| {_figure(gen['frechet_distance'], 2)} ({_figure(real['frechet_distance'], 2)}) "
            f"| {_figure(gen['class_kl'], 4)} ({_figure(real['class_kl'], 4)}) | {gen['classes_covered']} / {k} "
            f"| {_percent(gen['conditional_accuracy'])} ({_percent(real['conditional_accuracy'])}) |")
    parzen = [model for model in models if model["metrics"].get("parzen")]
    if parzen:
        lines += ["", "Goodfellow et al.'s Parzen-window log-likelihood (`ganzoo evaluate --parzen` on the ONNX file; "
                  f"{parzen[0]['metrics']['parzen']['protocol']}):", "",
                  "| name | Parzen log-likelihood | sigma | real train images as the samples | the paper's model |",
                  "|---|---:|---:|---:|---|"]
        from zoo import presets

        for model in parzen:
            gen, real = model["metrics"]["parzen"]["generated"], model["metrics"]["parzen"]["real"]
            published = presets.PRESETS.get(model["preset"], {}).get("paper_result") or "-"
            lines.append(f"| `{model['name']}` | {gen['mean']:.1f} ± {gen['std_error']:.1f} | {gen['sigma']:.3f} "
                         f"| {real['mean']:.1f} ± {real['std_error']:.1f} | {published} |")
    lines.append("")
    for dataset in dict.fromkeys(model["dataset"] for model in models):
        model = next(m for m in models if m["dataset"] == dataset)
        accuracy = model["metrics"]["classifier_test_accuracy"]
        lines.append(f"- **{dataset}** (evaluation classifier {100 * accuracy:.2f}% on the test split): {model['protocol']}.")
    lines.append("")
    return lines


# The translators' figures: (key in the metrics, column title, format).
TRANSLATOR_FIGURES = (("l1", "L1", lambda v: _figure(v, 4)), ("class_accuracy", "class kept", _percent),
                      ("ink_fraction", "ink share", lambda v: _figure(v, 3)))


def _translator_figures(metrics):
    """{row: {figure: text}} for the model, the identity and the real data."""
    return {row: {key: fmt(metrics[row].get(key)) for key, _, fmt in TRANSLATOR_FIGURES}
            for row in ("model", "identity", "real") if row in metrics}


def _direction(model):
    return {"ab": "A -> B", "ba": "B -> A"}.get(model["direction"], model["direction"])


def _shipped_parameters(model):
    params = model["parameters"]
    if params.get("discriminator") is not None:
        return f"{params['generator']:,} / {params['discriminator']:,}"
    return f"{params['generator']:,} / not shipped"


def _translator_card(models):
    lines = ["## Translators", "",
             "Image-to-image models: `TranslatorSession.from_pretrained(NAME).translate(images)`, "
             "`ganzoo translate NAME IMAGE... --out DIR`, `zoo.load_pretrained(NAME)` (the Keras generator the ONNX "
             "file was exported from).", "",
             "| name | model | task | generator / discriminator parameters | .keras holds | training | wall seconds "
             "(2 shared CPU cores) | .keras / .onnx MB | ONNX parity |",
             "|---|---|---|---|---|---|---:|---|---:|"]
    for model in models:
        training = model["training"]
        lines.append(f"| `{model['name']}` | {model['model']} ({_direction(model)}) | {model['dataset']} "
                     f"| {_shipped_parameters(model)} | {model['keras_holds']} | {_budget(training)} "
                     f"| {_figure(training.get('train_seconds'), 0)} | {_sizes(model)} "
                     f"| {model['parity_max_abs_diff']:.1e} |")
    lines += ["", "### Task figures", "",
              "`ganzoo evaluate`'s task measures (`train.evaluation.translation`) of the ONNX file on the task's whole "
              "test split; each model row beside the identity (the input returned as it is) and the real data (the "
              "right answer returned). L1 is lower-is-better (in [-1, 1] units); class kept and, for thin2thick, the "
              "ink share should come close to the real row's. The protocol of each is below the table.", "",
              "| name | row | " + " | ".join(title for _, title, _ in TRANSLATOR_FIGURES) + " |",
              "|---|---|" + "---:|" * len(TRANSLATOR_FIGURES)]
    for model in models:
        for row, texts in _translator_figures(model["metrics"]).items():
            label = f"`{model['name']}`" if row == "model" else ""
            lines.append(f"| {label} | {row} | " + " | ".join(texts[key] for key, _, _ in TRANSLATOR_FIGURES) + " |")
    lines.append("")
    for model in models:
        lines.append(f"- **{model['name']}**: {model['protocol']}.")
    lines.append("")
    return lines


def _generator_section(model):
    lines = [f"## `{model['name']}`", "", model["description"] + ".", "",
             f"![{model['name']} samples]({model['files']['samples']})", "",
             "Samples: 100, noise seed 0" + (", one column per class." if model["conditional"] else "."), "",
             "Re-create:", ""]
    lines += [f"    {line}" for line in model["recreate"]]
    lines.append("")
    return lines


def _dropout_text(model):
    dropout = model.get("dropout_layers") or {}
    if not dropout:
        return (f"Test-time dropout: {model['test_time_dropout']}. The ONNX file and the Keras generator called "
                "with `training=False` compute the same deterministic translation.")
    layers = "; ".join(f"`{name}`, rate {rate:g}" for name, rate in dropout.items())
    return (f"Test-time dropout: the generator has dropout in its decoder ({layers}), and Isola et al. keep it on at "
            "test time as pix2pix's only noise. The "
            "export runs the generator in inference mode instead: dropout off and BatchNorm on its moving statistics, "
            "so the ONNX file is deterministic, matches Keras's `translate` (the generator called with "
            "`training=False`) to 1e-4, and every figure above is of that mode. Calling the Keras generator with "
            "`training=True` turns the dropout on (and BatchNorm onto the batch's own statistics, the paper's "
            "test-time setting) for varied outputs: not what the ONNX file computes, and not measured here. The "
            f"metadata records it as `test_time_dropout`: \"{model['test_time_dropout']}\".")


def _translator_section(model):
    training, data, figures = model["training"], model["data"], _translator_figures(model["metrics"])
    shape = "x".join(str(side) for side in model["image_shape"])
    out_shape = "x".join(str(side) for side in model["output_shape"])
    examples = f"{data['train_examples']:,} " if data.get("train_examples") else ""
    kind = "pairs" if data["paired"] else "unpaired images per domain"
    holds = ("the whole model (generator and discriminator) without optimizer state: "
             "`keras.models.load_model(saved_models.path(NAME, 'keras'))` gives it to compile and fine-tune"
             if model["keras_holds"] == "gan" else
             f"the exported generator alone ({model['generator']}, A -> B); "
             + ", ".join(f"{name} ({count:,} parameters)" for name, count in model["parameters"]["not_shipped"].items())
             + " not shipped")
    rows = [f"{row} " + ", ".join(f"{title} {figures[row][key]}" for key, title, _ in TRANSLATOR_FIGURES
                                  if figures[row][key] != "-")
            for row in figures]
    seconds = training.get("train_seconds")
    lines = [f"## `{model['name']}`", "", model["description"] + ".", "",
             f"What it does: {model['task']} ({model['model']}, {_direction(model)}: {shape} in, {out_shape} out; "
             f"any size whose sides are multiples of {model['size_multiple']} is accepted, {shape.rsplit('x', 1)[0]} "
             "is what it learnt).", "",
             f"Data: `{model['dataset']}`, built offline from {data['source']}: {examples}{kind} for training "
             f"(its train split), {data['test_examples']:,} test images for the figures.", "",
             f"Training: {_budget(training)}"
             + "".join(f", {key}={value}" for key, value in model["options"].items() if key != "seed")
             + (f"; {seconds:,} wall seconds on 2 shared CPU cores" if seconds else "") + ".", "",
             f"The .keras file holds {holds} ({model['keras_holds_why']}).", "",
             f"Figures ({'; '.join(rows)}): {model['protocol']}.", "",
             _dropout_text(model), "",
             f"Licence: {LICENSE}, the project's (recorded in the ONNX metadata). The training data keeps its own: "
             f"{data['source']}.", "",
             f"![{model['name']} samples]({model['files']['samples']})", "",
             f"Samples: {model['samples']}.", "",
             "Re-create:", ""]
    lines += [f"    {line}" for line in model["recreate"]]
    lines.append("")
    return lines


def render_card():
    """Rewrite saved_models/README.md from index.json and the files themselves."""
    generators, translators = saved_models.index(saved_models.GENERATOR), saved_models.index(saved_models.TRANSLATOR)
    lines = [CARD_HEAD]
    if generators:
        lines += _generator_card(generators)
    if translators:
        lines += _translator_card(translators)
    for model in generators:
        lines += _generator_section(model)
    for model in translators:
        lines += _translator_section(model)
    files.write_text("\n".join(lines), saved_models.FOLDER / "README.md")


def ship_generator(args):
    """Ship the noise GAN run `args.run` (or, with --existing, the files already shipped); returns its entry."""
    folder = saved_models.FOLDER
    keras_path, onnx_path, png_path = (folder / f"{args.name}{suffix}" for suffix in (".keras", ".onnx", "_samples.png"))
    dataset_name = args.dataset_name or pathlib.Path(args.data).name
    if args.existing:
        import keras

        from export import GeneratorSession

        model = keras.models.load_model(keras_path, compile=False)
        metadata = GeneratorSession(onnx_path, providers="cpu").metadata
        holds, train_seconds, steps = "generator", args.train_seconds, None
    else:
        from train import run_folder

        config = run_folder.read_config(args.run)
        if args.checkpoint:
            # A generator checkpoint of the run (the papers' rows keep the best one on validation): shipped alone.
            model = save_generator_checkpoint(pathlib.Path(args.run) / args.checkpoint, keras_path)
            config["epochs"], holds = args.checkpoint_epoch, "generator"
        else:
            model, holds = save_uncompiled_gan(args.run, keras_path), "gan"
            # A run stopped before its planned epochs ships the epoch its gan.keras holds.
            state = pathlib.Path(args.run) / run_folder.STATE_FILE
            if state.exists():
                config["epochs"] = json.loads(state.read_text()).get("epochs_done", config["epochs"])
        # Exported from the run's own file, so that its config.json supplies the metadata.
        source = pathlib.Path(args.run) / args.checkpoint if args.checkpoint else keras_path
        report = run_folder.export(source, onnx_path, fp16=args.fp16, metadata={
            **run_folder.export_metadata(config),
            "dataset": dataset_name, "model_card": MODEL_CARD, "license": LICENSE,
        })
        print(report)
        metadata = report.metadata
        # Up to the shipped epoch: a checkpoint of a run that went on carries only its own epochs.
        train_seconds = round(sum(run_folder.read_history(args.run).get("seconds", [])[: config["epochs"]])) or None
        steps = config["epochs"] * config["steps_per_epoch"]
    draw_samples(onnx_path, png_path)
    metrics, protocol = measure(onnx_path, args.data, args.n)
    if args.parzen:
        metrics["parzen"] = measure_parzen(onnx_path, args.data)
    return {
        "name": args.name,
        "kind": saved_models.GENERATOR,
        "description": args.description,
        "preset": args.preset or metadata["preset"],
        "dataset": dataset_name,
        "conditional": metadata.get("num_classes") is not None,
        "keras_holds": holds,
        "options": json.loads(args.options),
        "files": {"keras": keras_path.name, "onnx": onnx_path.name, "samples": png_path.name},
        "onnx_precision": metadata.get("precision", "fp32"),
        "training": {**(metadata.get("training") or {}), "steps": steps, "train_seconds": train_seconds},
        "parameters": _parameters(model),
        "metrics": metrics,
        "protocol": protocol,
        "recreate": [line.strip() for line in args.recreate.split(";") if line.strip()],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", action="store_true", help="only re-render the model card from index.json")
    parser.add_argument("run", nargs="?", help="run folder with gan.keras, or - with --existing")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--data", help="generators: dataset to evaluate on (name or IDX folder); translators: the "
                        "task (default: the run's)")
    parser.add_argument("--data-dir", help="translators: the folder of the task's IDX files (default: the run's)")
    parser.add_argument("--dataset-name", help="the dataset's name in the metadata (default: --data's last part)")
    parser.add_argument("--description")
    parser.add_argument("--recreate", help="the commands that train the run (shell lines, ; separated)")
    parser.add_argument("--preset", help="preset (default: the run's)")
    parser.add_argument("--options", default="{}", help="JSON: create() options that rebuild a generator-only model")
    parser.add_argument("--fp16", action="store_true", help="ship the ONNX in float16")
    parser.add_argument("--checkpoint", help="ship this generator file of the run (e.g. best_generator.keras) alone, "
                        "instead of its whole GAN")
    parser.add_argument("--checkpoint-epoch", type=int, help="with --checkpoint: the epoch it holds")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--existing", action="store_true")
    parser.add_argument("--parzen", action="store_true", help="also Goodfellow et al.'s Parzen figure (MNIST)")
    parser.add_argument("--train-seconds", type=float, help="with --existing: the training time its card states")
    parser.add_argument("--keras-holds", choices=("auto", "gan", "generator"), default="auto",
                        help="translators: what NAME.keras holds (default: decided by size, see the docstring)")
    args = parser.parse_args(argv)
    if args.card:
        render_card()
        return
    translator = bool(args.run) and not args.existing and is_translation_run(args.run)
    required = [("RUN", args.run), ("NAME", args.name), ("--description", args.description),
                ("--recreate", args.recreate)]
    if not translator:
        required.append(("--data", args.data))
    if args.checkpoint:
        required.append(("--checkpoint-epoch", args.checkpoint_epoch))
    missing = [flag for flag, value in required if not value]
    if missing:
        parser.error(f"shipping a model needs {', '.join(missing)}")
    entry = ship_translator(args) if translator else ship_generator(args)
    write_entry(entry)
    print(json.dumps(entry["metrics"], indent=1))
    render_card()


if __name__ == "__main__":
    main()
