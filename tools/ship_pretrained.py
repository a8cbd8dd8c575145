"""Ship a trained run as a pretrained model: `python tools/ship_pretrained.py RUN NAME --data FOLDER ...`.

Writes into saved_models/: NAME.keras (the whole GAN, without optimizer state, so that it can be
sampled or fine-tuned), NAME.onnx and its metadata sidecar (exported with parity checked),
NAME_samples.png (100 samples, noise seed 0, one column per class), and NAME's entry in
index.json with the figures of `ganzoo evaluate` (5,000 samples, noise seed 0, beside real data).

`--card` alone only re-renders the model card from index.json. `--existing` re-measures a model that is already shipped (NAME.keras and NAME.onnx as they are) and
only rewrites its samples and its index entry; RUN is then not needed (give "-").
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


def write_entry(entry):
    """Add `entry` to index.json, or replace the entry of that name where it stands."""
    models = saved_models.index() if saved_models.INDEX.exists() else []
    names = [model["name"] for model in models]
    if entry["name"] in names:
        models[names.index(entry["name"])] = entry
    else:
        models.append(entry)
    files.write_text(json.dumps({"models": models}, indent=2) + "\n", saved_models.INDEX)


CARD_HEAD = """# Pretrained generators (model card)

Generators trained with this project's own commands (`ganzoo train`, `--seed 0`) and shipped with the
package, so a name resolves without network access. Each comes as a Keras file (`.keras`, needs
TensorFlow: the whole GAN for the 28x28 models, ready to sample or to fine-tune; the generator alone
for the 8x8 digits models) and as ONNX (`.onnx` plus a `.metadata.json` sidecar, needs only numpy and
onnxruntime):

    import zoo
    zoo.pretrained()                                   # names, figures, how each was made
    gan = zoo.load_pretrained("conditional_mnist")     # a zoo.GAN
    sevens = gan.generate(16, labels=7)

    from export import GeneratorSession                # no TensorFlow
    session = GeneratorSession.from_pretrained("conditional_mnist")
    images = session.generate_images(16, labels=7)     # uint8

    ganzoo sample conditional_mnist --label 7 --out sevens.png
    ganzoo list                                        # the names, with their figures

Licence: Apache-2.0, the project's. This card is rendered from `index.json` by `tools/ship_pretrained.py`,
which wrote the files, exported and parity-checked the ONNX, drew the grids and ran the evaluation; no figure
in its tables is typed by hand (`python tools/ship_pretrained.py --card` re-renders it).
"""


def _mb(path):
    return f"{path.stat().st_size / 1e6:.2f}"


def _figure(value, digits):
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def render_card():
    """Rewrite saved_models/README.md from index.json and the files themselves."""
    models = saved_models.index()
    lines = [CARD_HEAD, "## Models", "",
             "| name | preset | dataset | generator / discriminator parameters | training | wall seconds (2 shared CPU cores) | "
             ".keras / .onnx MB | ONNX precision |",
             "|---|---|---|---|---|---:|---|---|"]
    for model in models:
        training, params = model["training"], model["parameters"]
        steps = f"{training['steps']:,} steps, " if training.get("steps") else ""
        budget = f"{steps}{training['epochs']} epochs of batch {training['batch_size']}, seed {training['seed']}"
        d_params = f"{params['discriminator']:,}" if params["discriminator"] else "not shipped"
        seconds = _figure(training.get("train_seconds"), 0)
        sizes = f"{_mb(saved_models.path(model['name'], 'keras'))} / {_mb(saved_models.path(model['name'], 'onnx'))}"
        lines.append(f"| `{model['name']}` | {model['preset']} | {model['dataset']} | {params['generator']:,} / {d_params} "
                     f"| {budget} | {seconds} | {sizes} | {model['onnx_precision']} |")
    lines += ["", "Wall seconds are the runs' own, on a 2-core machine that was running other jobs too (the 28x28 "
              "runs two at a time): alone, a step of the dcgan_mbd_code_ema preset takes 75 ms there (10.6 minutes for 8,433 "
              "steps) and the conditional_dcgan_mbd preset's Fashion-MNIST run took 481 s.",
              "", "## Quality", "",
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
                  "| name | Parzen log-likelihood | sigma | real train images as the samples |", "|---|---:|---:|---:|"]
        for model in parzen:
            gen, real = model["metrics"]["parzen"]["generated"], model["metrics"]["parzen"]["real"]
            lines.append(f"| `{model['name']}` | {gen['mean']:.1f} ± {gen['std_error']:.1f} | {gen['sigma']:.3f} "
                         f"| {real['mean']:.1f} ± {real['std_error']:.1f} |")
    lines.append("")
    for dataset in dict.fromkeys(model["dataset"] for model in models):
        model = next(m for m in models if m["dataset"] == dataset)
        accuracy = model["metrics"]["classifier_test_accuracy"]
        lines.append(f"- **{dataset}** (evaluation classifier {100 * accuracy:.2f}% on the test split): {model['protocol']}.")
    lines.append("")
    for model in models:
        lines += [f"## `{model['name']}`", "", model["description"] + ".", "",
                  f"![{model['name']} samples]({model['files']['samples']})", "",
                  "Samples: 100, noise seed 0" + (", one column per class." if model["conditional"] else "."), "",
                  "Re-create:", ""]
        lines += [f"    {line}" for line in model["recreate"]]
        lines.append("")
    files.write_text("\n".join(lines), saved_models.FOLDER / "README.md")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", action="store_true", help="only re-render the model card from index.json")
    parser.add_argument("run", nargs="?", help="run folder with gan.keras, or - with --existing")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--data", help="dataset to evaluate on (name or IDX folder)")
    parser.add_argument("--dataset-name", help="the dataset's name in the metadata (default: --data's last part)")
    parser.add_argument("--description")
    parser.add_argument("--recreate", help="the commands that train the run (shell lines, ; separated)")
    parser.add_argument("--preset", help="preset (default: the run's)")
    parser.add_argument("--options", default="{}", help="JSON: create() options that rebuild a generator-only model")
    parser.add_argument("--fp16", action="store_true", help="ship the ONNX in float16")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--existing", action="store_true")
    parser.add_argument("--parzen", action="store_true", help="also Goodfellow et al.'s Parzen figure (MNIST)")
    parser.add_argument("--train-seconds", type=float, help="with --existing: the training time its card states")
    args = parser.parse_args(argv)
    if args.card:
        render_card()
        return
    missing = [flag for flag, value in (("RUN", args.run), ("NAME", args.name), ("--data", args.data),
                                        ("--description", args.description), ("--recreate", args.recreate)) if not value]
    if missing:
        parser.error(f"shipping a model needs {', '.join(missing)}")

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

        model = save_uncompiled_gan(args.run, keras_path)
        config = run_folder.read_config(args.run)
        # A run stopped before its planned epochs ships the epoch its gan.keras holds.
        state = pathlib.Path(args.run) / run_folder.STATE_FILE
        if state.exists():
            config["epochs"] = json.loads(state.read_text()).get("epochs_done", config["epochs"])
        report = run_folder.export(keras_path, onnx_path, fp16=args.fp16, metadata={
            **run_folder.export_metadata(config),
            "dataset": dataset_name, "model_card": MODEL_CARD, "license": "Apache-2.0",
        })
        print(report)
        metadata = report.metadata
        holds = "gan"
        train_seconds = round(sum(run_folder.read_history(args.run).get("seconds", []))) or None
        steps = config["epochs"] * config["steps_per_epoch"]
    draw_samples(onnx_path, png_path)
    metrics, protocol = measure(onnx_path, args.data, args.n)
    if args.parzen:
        metrics["parzen"] = measure_parzen(onnx_path, args.data)
    entry = {
        "name": args.name,
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
    write_entry(entry)
    print(json.dumps(entry["metrics"], indent=1))
    render_card()


if __name__ == "__main__":
    main()
