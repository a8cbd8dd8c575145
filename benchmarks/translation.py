"""Image-to-image models (pix2pix, CycleGAN): task figures of trained runs, training speed, and the exported
generators' speed beside Keras.

1. Quality: for each run folder given (`ganzoo train pix2pix|cyclegan ...`), `ganzoo evaluate`'s task figures
   (`train.evaluation.translation`) on the task's whole test split, beside the identity's and the real data's,
   with the training budget and seconds per step read from the run's own history.
2. Serving: each paper's generator for that image size (pix2pix: the U-Net down to 1x1, 64 filters; CycleGAN:
   the ResNet generator, 6 blocks below 256 px, 9 from 256), exported with `export.export_translator` and timed
   through `export.TranslatorSession` (onnxruntime, CPU) against the Keras model in a `tf.function`
   (inference mode, as the export), at 32, 64, 128 and 256 px, batch 1 and `--batch`. The methods take turns
   within each round; the figures are medians over rounds. Weights are freshly initialised: speed does not
   depend on them.

Writes benchmarks/results/translation.json and benchmarks/translation.md.
Run: python -m benchmarks.translation --runs RUN_FOLDER ... [--sizes 32 64 128 256] [--rounds 5]
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "translation.json"
REPORT = ROOT / "benchmarks" / "translation.md"
SIZES = (32, 64, 128, 256)


def cpu_flags():
    from benchmarks.backends import cpu_flags as flags

    return flags()


# --------------------------------------------------------------------------- quality of trained runs


def run_quality(run_dir):
    """The task figures of a run folder's model, with its budget and its training speed."""
    import keras

    from train import files, run_folder, translation_data
    from train.evaluation.translation import evaluate_translation

    run_dir = pathlib.Path(run_dir)
    config = files.read_json(run_dir / run_folder.CONFIG_FILE)
    state = files.read_json(run_dir / run_folder.STATE_FILE)
    model = run_folder.load_keras(run_dir / run_folder.GAN_FILE)
    data = translation_data.load_translation_data(
        config["dataset"], data_dir=config.get("data_dir"), image_size=config.get("image_size"),
        direction=config.get("direction", "AtoB"), max_train=config.get("max_train"),
    )
    started = time.perf_counter()
    report = evaluate_translation(model.translate, data)
    seconds = state["history"].get("seconds", [])
    step_seconds = statistics.median(seconds) / config["steps_per_epoch"] if seconds else None
    return {
        "run": run_dir.name,
        "translator": config["preset"],
        "task": data.name,
        "description": data.description,
        "options": config["options"],
        "budget": {"epochs": state.get("epochs_done"), "batch_size": config["batch_size"],
                   "steps_per_epoch": config["steps_per_epoch"], "train_examples": config["num_samples"]},
        "backend": config.get("backend", "tensorflow"),
        "seconds_per_step": step_seconds,
        "images_per_second": None if not step_seconds else config["batch_size"] / step_seconds,
        "evaluation_seconds": round(time.perf_counter() - started, 1),
        "generator_parameters": int(model.sampling_generator.count_params()),
        "keras": keras.__version__,
        **report,
    }


# --------------------------------------------------------------------------- serving speed


def paper_generator(name, size, channels=3):
    import zoo

    model = zoo.create_translator(name, (size, size, channels), seed=0)
    return model


def serving_speed(sizes, batch, rounds, channels=3, log=print):
    """Rows of (model, size, batch, method, median images/s, median ms per call)."""
    import numpy as np
    import tensorflow as tf

    from export import TranslatorSession, export_translator

    rows = []
    folder = pathlib.Path(tempfile.mkdtemp(prefix="translation-bench-"))
    for name in ("pix2pix", "cyclegan"):
        for size in sizes:
            model = paper_generator(name, size, channels)
            generator = model.sampling_generator
            path = folder / f"{name}_{size}.onnx"
            export_translator(model, path)
            session = TranslatorSession(path, providers="cpu")
            keras_call = tf.function(lambda x, g=generator: g(x, training=False), reduce_retracing=True)
            methods = {"keras tf.function": lambda x: keras_call(x).numpy(), "onnxruntime": session.translate}
            for n in sorted({1, int(batch)}):
                images = np.random.default_rng(0).uniform(-1, 1, (n, size, size, channels)).astype("float32")
                for method in methods.values():  # warm-up: tracing, session arenas
                    method(images)
                times = {method: [] for method in methods}
                for _ in range(rounds):
                    for method, call in methods.items():  # taking turns, so load hits both alike
                        started = time.perf_counter()
                        call(images)
                        times[method].append(time.perf_counter() - started)
                for method, values in times.items():
                    seconds = statistics.median(values)
                    rows.append({"model": name, "size": size, "batch": n, "method": method,
                                 "images_per_second": n / seconds, "ms_per_call": 1000 * seconds,
                                 "parameters": int(generator.count_params())})
                    log(f"{name} {size}px batch {n} {method}: {n / seconds:.1f} images/s")
    return rows


# --------------------------------------------------------------------------- report


def markdown(report):
    lines = [
        "# Image-to-image: pix2pix and CycleGAN",
        "",
        f"Written by `python -m benchmarks.translation` on {report['date']}; machine: {report['machine']}; "
        f"load average {report['load_before']} -> {report['load_after']}.",
        "",
        "## Task figures (`ganzoo evaluate RUN`, the task's whole test split)",
        "",
        "L1: mean absolute difference to the target (paired) or to the known answer (unpaired), images in [-1, 1]. "
        "Class kept: the task's evaluation classifier puts the output in the input's class. Ink: the share of "
        "pixels above 0 (the stroke statistic of the thickening task). Each model row sits beside the identity "
        "(output = input) and the real data (output = the right answer). s/step: the run's median epoch time over "
        "its steps, as the run recorded it (runs trained while other work shared the cores give upper bounds).",
        "",
        "| run | model (options) | budget | row | L1 | class kept | ink (real B) |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for run in report["quality"]:
        budget = run["budget"]
        text = (f"{budget['epochs']} epochs x {budget['steps_per_epoch']} steps of {budget['batch_size']} "
                f"({budget['train_examples']:,} examples), {run['seconds_per_step']:.3f} s/step")
        options = ", ".join(f"{k}={v}" for k, v in run["options"].items() if k != "seed")
        for row in ("model", "identity", "real"):
            figures = run.get(row)
            if not figures:
                continue
            cell = lambda key, fmt: fmt.format(figures[key]) if key in figures else "-"  # noqa: E731
            ink = "-" if "ink_fraction" not in figures else f"{figures['ink_fraction']:.3f} ({figures['ink_fraction_real_b']:.3f})"
            first = row == "model"
            lines.append(
                f"| {run['run'] if first else ''} | {run['translator'] + ' (' + options + ')' if first else ''} | "
                f"{text if first else ''} | {row} | {cell('l1', '{:.4f}')} | {cell('class_accuracy', '{:.1%}')} | {ink} |"
            )
    lines += seed_spread(report["quality"])
    if report["quality"]:
        lines += ["", "Protocol per run: " + "; ".join(
            f"{run['run']}: {json.dumps(run['protocol'])}" for run in report["quality"])]
    if report["serving"]:
        lines += [
            "",
            "## Serving: the exported generator (onnxruntime, CPU) beside Keras (`tf.function`, inference mode)",
            "",
            f"The papers' generators at each size, random weights; medians of {report['rounds']} interleaved rounds.",
            "",
            "| model | size | parameters | batch | Keras images/s | ORT images/s | ORT / Keras |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        keyed = {(r["model"], r["size"], r["batch"], r["method"]): r for r in report["serving"]}
        for (model, size, batch, method), row in keyed.items():
            if method != "onnxruntime":
                continue
            keras_row = keyed[(model, size, batch, "keras tf.function")]
            lines.append(
                f"| {model} | {size} | {row['parameters'] / 1e6:.2f} M | {batch} | "
                f"{keras_row['images_per_second']:.1f} | {row['images_per_second']:.1f} | "
                f"{row['images_per_second'] / keras_row['images_per_second']:.2f}x |"
            )
    return "\n".join(lines) + "\n"


def seed_spread(quality):
    """Markdown rows: mean +- standard deviation over the runs that differ only in their seed (2 or more)."""
    groups = {}
    for run in quality:
        options = {k: v for k, v in run["options"].items() if k != "seed"}
        key = json.dumps([run["translator"], run["task"], options, run["budget"]], sort_keys=True)
        groups.setdefault(key, []).append(run)
    lines = []
    for runs in groups.values():
        if len(runs) < 2:
            continue
        if not lines:
            lines = ["", "### Over seeds (runs that differ only in their seed; mean +- standard deviation)", "",
                     "| model (options) | task | seeds | L1 | class kept | ink |", "|---|---|---|---:|---:|---:|"]
        first = runs[0]
        options = ", ".join(f"{k}={v}" for k, v in first["options"].items() if k != "seed")

        def spread(key, fmt):
            values = [run["model"][key] for run in runs if key in run["model"]]
            if len(values) < len(runs):
                return "-"
            return f"{fmt.format(statistics.mean(values))} +- {fmt.format(statistics.stdev(values))}"

        seeds = ", ".join(str(run["options"].get("seed")) for run in runs)
        lines.append(f"| {first['translator']} ({options}) | {first['task']} | {seeds} | {spread('l1', '{:.4f}')} | "
                     f"{spread('class_accuracy', '{:.1%}')} | {spread('ink_fraction', '{:.3f}')} |")
    return lines


def train_offline_digits(folder, seed=0, log=print):
    """`make bench`'s own runs: pix2pix on edges2digits and CycleGAN on thin2thick_digits at their budgets
    (`ganzoo list`), minutes on 2 cores; the MNIST tasks' runs are longer and given with --runs."""
    from train import cli

    runs = []
    for model, task in (("pix2pix", "edges2digits"), ("cyclegan", "thin2thick_digits")):
        out = pathlib.Path(folder) / f"{model}-{task}"
        log(f"training {model} on {task} in {out}")
        if cli.main(["train", model, "--dataset", task, "--seed", str(seed), "--out", str(out), "--quiet"]) != 0:
            raise RuntimeError(f"training {model} on {task} failed")
        runs.append(out)
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="*", help="run folders of trained pix2pix / CycleGAN models (default: train "
                        "both on the bundled digits' tasks first)")
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES), help="image sides for the serving rows")
    parser.add_argument("--batch", type=int, default=8, help="the larger batch of the serving rows (and 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per configuration")
    parser.add_argument("--no-serving", action="store_true", help="skip the serving rows")
    args = parser.parse_args(argv if argv is not None else [])  # benchmarks.run calls main() with no arguments
    from export import files

    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = args.runs if args.runs is not None else train_offline_digits(tempfile.mkdtemp(prefix="translation-runs-"))
    quality = [run_quality(run) for run in runs]
    serving = [] if args.no_serving else serving_speed(args.sizes, args.batch, args.rounds)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} {cpu_flags()}",
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "rounds": args.rounds,
        "quality": quality,
        "serving": serving,
    }
    files.write_text(json.dumps(report, indent=2), RESULTS)
    files.write_text(markdown(report), REPORT)
    print(f"wrote {REPORT} and {RESULTS}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
