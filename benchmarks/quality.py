"""Quality benchmark: mode coverage on ring8 / grid25, the lecture example's gaussian1d, and image metrics on MNIST and
Fashion-MNIST, per preset, beside published and real-data reference numbers.

    python -m benchmarks.run quality                       # everything, default budgets (CPU)
    python -m benchmarks.quality --part toy --seeds 5      # one part; budgets are flags (see --help)

The whole benchmark runs its independent parts (toy + gaussian1d + inception, then each image dataset) as
worker processes at once (`--jobs`, default one per part) and sharing the cores among them: small networks use
one core far better than two (here two 1-thread DCGANs at once train 1.33x faster in total than one on both cores).

Each part trains through the zoo API (`zoo.create`, `compile`, `fit`), evaluates with `train.evaluation`
and writes benchmarks/results/quality_<part>.json; the markdown table benchmarks/quality.md is then
rendered from every quality_*.json present, so no number in it is typed by hand. Sample figures go to
benchmarks/figures/.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

import numpy as np

from export import files

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIGURES = ROOT / "benchmarks" / "figures"
TABLE = ROOT / "benchmarks" / "quality.md"
SHARED_DATA = ROOT.parent / "shared" / "data"

# ----------------------------------------------------------------------------------------- what is run

# 2-D mixtures: the MLP backbone scaled down for CPU (PacGAN used G 4x400, D 3x200 maxout), a 2-d
# Gaussian latent as in PacGAN, Adam(lr, beta_1=0.5) for both players.
TOY_NETWORK = dict(backbone="mlp", activation="relu", dropout=0.0, data_shape=(2,), latent_dim=2, prior="normal", g_units=(128, 128, 128), d_units=(128, 128))
TOY_VARIANTS = {
    "vanilla": ("vanilla", {}),
    "minibatch": ("minibatch", {"minibatch_kernels": 10, "minibatch_dim": 5}),
    "minibatch + feature matching": ("minibatch", {"minibatch_kernels": 10, "minibatch_dim": 5, "feature_matching": True}),
    # The option against collapse that the published rows measure: PacGAN4 (D judges 4 samples at once).
    "vanilla + pack 4": ("vanilla", {"pack": 4}),
    # InfoGAN's categorical code with as many values as grid25 has modes (zoo.LatentCode reads it from the
    # first 25 noise entries, so the noise grows to 27-d): G can jump between modes instead of bridging them.
    "vanilla + latent code 25": ("vanilla", {"latent_code": 25, "latent_dim": 27}),
}
# Rows that train longer than the budget, by this factor: with its code, G learns which mode each code value
# draws; at 6,000 steps two of five grid25 seeds still had 4-6 modes unclaimed (21 and 19 of 25). At 18,000
# steps all five had 25 with 2 threads, but seed 1 stopped at 23 in a 1-thread run (other float sums); at
# 24,000 that seed has all 25 (100% high quality).
TOY_STEPS_FACTOR = {"vanilla + latent code 25": 4}
TOY_LEARNING_RATE = 1e-3  # cosine-decayed to TOY_FINAL_LR_FRACTION of itself over the run's steps
TOY_FINAL_LR_FRACTION = 0.01
DEFAULT_TOY_VARIANTS = ("vanilla", "minibatch", "vanilla + pack 4", "vanilla + latent code 25")

# The lecture example's Example 1, verbatim.
GAUSSIAN1D = dict(data_shape=(1,), latent_dim=1, g_units=(5, 5), d_units=(10, 10), activation="tanh", dropout=0.0,
                  prior="normal", ema_decay=0.999)
GAUSSIAN1D_LEARNING_RATE = 1e-3  # as the `example1-gaussian1d` recipe (train/recipes.py)

# Images, three kinds of row. (1) The zoo's tuned presets (those of the shipped 28x28 models) with their defaults
# and the budget `ganzoo train PRESET` gives them (train.recipes.budget); the papers' presets are measured against
# their papers in benchmarks/papers.py. (2) Each stabiliser alone on a plain 16-filter DCGAN (dcgan_mbd_code_ema
# without its three additions), all at the same --image-steps budget, beside the plain DCGAN itself. (3) The
# combination dcgan_mbd_code_ema uses, at that same budget.
PLAIN_DCGAN = {"backbone": "dcgan", "filters": 16, "minibatch_kernels": 0, "latent_code": 0, "ema_decay": 0}
DIFFAUGMENT_POLICY = "color,translation,cutout"


def _image_row(preset, options=None, budget="steps", d_lr=None, g_lr=None):
    """One image row: `budget` is "preset" (the preset's `ganzoo train` budget) or "steps" (--image-steps);
    `d_lr` / `g_lr` replace the shared learning rate (TTUR)."""
    return {"preset": preset, "options": dict(options or {}), "budget": budget, "d_lr": d_lr, "g_lr": g_lr}


IMAGE_VARIANTS = {
    "dcgan_mbd_code_ema": _image_row("dcgan_mbd_code_ema", budget="preset"),
    "conditional_dcgan_mbd": _image_row("conditional_dcgan_mbd", budget="preset"),
    "plain DCGAN": _image_row("dcgan_mbd_code_ema", PLAIN_DCGAN),
    "+ minibatch discrimination": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "minibatch_kernels": 32}),
    "+ InfoGAN code 10": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "latent_code": 10}),
    "+ moving average 0.999": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "ema_decay": 0.999}),
    "+ hinge loss": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "loss": "hinge"}),
    "+ least squares loss": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "loss": "least_squares"}),
    "+ WGAN-GP": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "loss": "wasserstein_gp"}),
    "+ spectral norm": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "spectral_norm": True}),
    "+ R1 penalty 10": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "r1_weight": 10.0}),
    "+ DiffAugment": _image_row("dcgan_mbd_code_ema", {**PLAIN_DCGAN, "diffaugment": DIFFAUGMENT_POLICY}),
    # Heusel et al. 2017's two time-scale rule, with the rates SAGAN (Zhang et al. 2019) used.
    "+ TTUR": _image_row("dcgan_mbd_code_ema", PLAIN_DCGAN, d_lr=4e-4, g_lr=1e-4),
    "minibatch + code + average (dcgan_mbd_code_ema)": _image_row("dcgan_mbd_code_ema"),
}
IMAGE_LEARNING_RATE = 2e-4  # `ganzoo train`'s default, Adam(beta_1=0.5)
IMAGE_SEED = 0  # every row; --image-seeds adds other seeds of the preset rows, in files tagged _seedN
PRESET_ROWS = tuple(name for name, row in IMAGE_VARIANTS.items() if row["budget"] == "preset")


def seed_tag(seed):
    """The suffix of a seed's image results and figures: none for IMAGE_SEED's full run."""
    return "" if seed == IMAGE_SEED else f"_seed{seed}"


IMAGE_DATASETS = {"mnist": SHARED_DATA / "mnist", "fashion_mnist": SHARED_DATA / "fashion_mnist"}

PACGAN_NOTE = (
    "PacGAN (Lin et al. 2018, Table 1): G 4x400 ReLU+BN, D 3x200 LinearMaxout, 2-d Gaussian noise, "
    "2,500 samples; published means, not rerun here"
)


def _slug(variant):
    return re.sub(r"[^a-z0-9]+", "_", variant.lower()).strip("_")


def _set_seed(seed):
    import keras

    keras.utils.set_random_seed(seed)


# Every run compiles its train step with XLA and runs STEPS_PER_EXECUTION steps per call: the same
# updates as plain `fit` (tests/test_xla.py), with far less per-step overhead on a CPU.
JIT_COMPILE = True
STEPS_PER_EXECUTION = 50


def _compile_options(steps):
    """The compile settings of a `steps`-step run (recorded in every budget as they were used): the most
    steps per execution, up to STEPS_PER_EXECUTION, that divide `steps`, so the run makes exactly `steps`."""
    per_execution = max(d for d in range(1, STEPS_PER_EXECUTION + 1) if steps % d == 0)
    return {"jit_compile": JIT_COMPILE, "steps_per_execution": per_execution}


def _train(preset, options, x, y, steps, batch_size, learning_rate, seed, final_lr_fraction=None, d_lr=None, g_lr=None):
    """Train a fresh GAN for exactly `steps` updates on shuffled batches; returns (gan, seconds, last losses).

    With `final_lr_fraction` both learning rates follow a cosine decay to that fraction of
    `learning_rate` at the last step (the toy sets need the late small steps to land on their 0.01-wide modes).
    `d_lr` / `g_lr`, when given, replace `learning_rate` for that player.
    """
    import keras
    import tensorflow as tf

    import zoo

    def rate(value):
        if final_lr_fraction is None:
            return value
        return keras.optimizers.schedules.CosineDecay(value, steps, alpha=final_lr_fraction)

    _set_seed(seed)
    gan = zoo.create(preset, seed=seed, **options)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(rate(d_lr or learning_rate), beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(rate(g_lr or learning_rate), beta_1=0.5),
        **_compile_options(steps),
    )
    elements = (x, y.astype("int32")) if gan.conditional else x
    data = (
        tf.data.Dataset.from_tensor_slices(elements)
        .shuffle(len(x), seed=seed)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    start = time.time()
    history = gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.time() - start
    last = {k: float(v[-1]) for k, v in history.history.items()}
    return gan, seconds, last



def _machine():
    import keras
    import tensorflow as tf

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "gpu": bool(tf.config.list_physical_devices("GPU")),
        "threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "all"),  # a worker of --jobs gets its share
    }


def _write(part, payload):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"quality_{part}.json"
    files.write_text(json.dumps(payload, indent=2, default=float), path)
    print(f"wrote {path}", flush=True)


# ----------------------------------------------------------------------------------------- parts


def run_toy(seeds, steps, batch_size, datasets_=("ring8", "grid25"), variants=None):
    from train import datasets, evaluation, plots

    variants = variants or list(DEFAULT_TOY_VARIANTS)
    rows = []
    for dataset in datasets_:
        x = datasets.load_arrays(dataset, split="train").x
        modes, std = datasets.toy_modes(dataset)
        for variant in variants:
            preset, extra = TOY_VARIANTS[variant]
            variant_steps = steps * TOY_STEPS_FACTOR.get(variant, 1)
            runs = []
            for seed in range(seeds):
                gan, seconds, last = _train(
                    preset, {**TOY_NETWORK, **extra}, x, None, variant_steps, batch_size, TOY_LEARNING_RATE, seed,
                    final_lr_fraction=TOY_FINAL_LR_FRACTION,
                )
                report = evaluation.evaluate(gan, dataset, seed=seed, verbose=False, description=f"{variant} seed {seed}")
                g = report["generated"]
                runs.append(
                    {
                        "seed": seed,
                        "train_seconds": round(seconds, 1),
                        "modes_captured": g["modes_captured"],
                        "high_quality": g["high_quality"],
                        "mode_kl": g["mode_kl"] if np.isfinite(g["mode_kl"]) else None,
                        "last_losses": last,
                    }
                )
                print(
                    f"{dataset} {variant} seed {seed}: {g['modes_captured']}/{g['num_modes']} modes, "
                    f"{g['high_quality']:.1f}% high quality, KL {g['mode_kl']:.3f} ({seconds:.0f} s)",
                    flush=True,
                )
                if seed == 0:
                    FIGURES.mkdir(parents=True, exist_ok=True)
                    plots.plot_toy2d(
                        modes, std, gan.generate(2500, seed=0),
                        FIGURES / f"quality_{dataset}_{_slug(variant)}.png",
                        title=f"{dataset}: {variant}, seed 0, {variant_steps} steps",
                    )
            rows.append(
                {
                    "dataset": dataset,
                    "variant": variant,
                    "preset": preset,
                    "options": {**TOY_NETWORK, **extra},
                    "steps": variant_steps,
                    "runs": runs,
                    **_summary(runs, ("modes_captured", "high_quality", "mode_kl", "train_seconds")),
                }
            )
            baseline = report["baseline"]
        _real = {k: baseline[k] for k in ("modes_captured", "high_quality", "mode_kl")}
        rows.append({"dataset": dataset, "variant": "real data (test split)", "real": _real})
    return {
        "protocol": report["protocol"],
        "budget": {
            "steps": steps,
            "batch_size": batch_size,
            "learning_rate": TOY_LEARNING_RATE,
            "optimizer": f"Adam(beta_1=0.5) for G and D, lr cosine-decayed from {TOY_LEARNING_RATE:g} "
            f"to {TOY_LEARNING_RATE * TOY_FINAL_LR_FRACTION:g}",
            "seeds": list(range(seeds)),
            **_compile_options(steps),
        },
        "pacgan_published": _pacgan_rows(),
        "pacgan_note": PACGAN_NOTE,
        "rows": rows,
    }


def _merged_toy_rows(payload):
    """`payload` with the rows of the last toy run that it did not redo, when both ran on the same budget."""
    order = {dataset: i for i, dataset in enumerate(("ring8", "grid25"))}
    variants = {variant: i for i, variant in enumerate(TOY_VARIANTS)}
    return _merged_rows(RESULTS / "quality_toy.json", payload, ("steps", "batch_size", "seeds"),
                        lambda row: (order.get(row["dataset"], 9), variants.get(row["variant"], len(variants))))


def _merged_image_rows(path, payload):
    """`payload` with the rows of the last run of this dataset that it did not redo (same budget), in table order;
    rows of variants the benchmark no longer has (renamed or merged since) are dropped."""
    order = {variant: i for i, variant in enumerate(IMAGE_VARIANTS)}
    return _merged_rows(path, payload, IMAGE_BUDGET_KEYS, lambda row: order.get(row["variant"], len(order)),
                        same=("num_samples",), known={*IMAGE_VARIANTS, REAL_ROW})


IMAGE_BUDGET_KEYS = ("steps", "batch_size", "seed")


def _same_budget(previous, payload, budget_keys, same=()):
    return all(previous.get(k) == payload.get(k) for k in same) and all(
        previous["budget"].get(k) == payload["budget"].get(k) for k in budget_keys)


def missing_image_rows(path, payload, variants=None):
    """The rows of `variants` (default all) that the results at `path` lack for the budget of `payload`: what
    --only-missing runs, so a whole run cut short (a session's end) goes on where it stopped."""
    wanted = list(variants or IMAGE_VARIANTS)
    if not path.exists():
        return wanted
    previous = json.loads(path.read_text())
    if not _same_budget(previous, payload, IMAGE_BUDGET_KEYS, same=("num_samples",)):
        return wanted
    done = {row["variant"] for row in previous["rows"]}
    return [variant for variant in wanted if variant not in done]


def _merged_rows(path, payload, budget_keys, sort_key, same=(), known=None):
    """`payload` with the previous rows it did not redo (only those whose variant is in `known`, when given), and
    `merged` saying whether any were kept (the table says so)."""
    if not path.exists():
        return {**payload, "merged": False}
    previous = json.loads(path.read_text())
    if not _same_budget(previous, payload, budget_keys, same):
        return {**payload, "merged": False}
    redone = {(row["dataset"], row["variant"]) for row in payload["rows"]}
    kept = [row for row in previous["rows"] if (row["dataset"], row["variant"]) not in redone
            and (known is None or row["variant"] in known)]
    return {**payload, "rows": sorted(kept + payload["rows"], key=sort_key), "merged": bool(kept)}


def _pacgan_rows():
    from train.evaluation.metrics import PACGAN_PUBLISHED

    return PACGAN_PUBLISHED


def _summary(runs, keys):
    """Mean and std over seeds. KL is infinite for a run with no high-quality sample: such runs are
    left out of the KL mean and counted in `undefined`."""
    out = {}
    for key in keys:
        values = np.array([np.nan if r[key] is None else r[key] for r in runs], dtype="float64")
        finite = values[np.isfinite(values)]
        out[key] = {
            "mean": float(finite.mean()) if finite.size else None,
            "std": float(finite.std()) if finite.size else None,
            "undefined": int(values.size - finite.size),
        }
    return out


def run_gaussian1d(steps, batch_size, seed=0):
    from train import datasets, evaluation, plots

    data = datasets.load_arrays("gaussian1d", split="train").x
    gan, seconds, last = _train("vanilla", GAUSSIAN1D, data, None, steps, batch_size, GAUSSIAN1D_LEARNING_RATE, seed)
    report = evaluation.evaluate(gan, "gaussian1d", n=10_000, seed=seed, verbose=True, description="Example 1")
    grid = np.linspace(-3.0, 5.0, 400, dtype="float32")[:, None]
    from keras import ops

    discriminator = np.asarray(ops.sigmoid(gan.discriminator(grid, training=False))).reshape(-1)
    FIGURES.mkdir(parents=True, exist_ok=True)
    figure = FIGURES / "quality_gaussian1d.png"
    plots.plot_gaussian1d(
        data[:10_000], gan.generate(10_000, seed=seed), grid.reshape(-1), discriminator, figure,
        title=f"Example 1 after {steps} steps (batch {batch_size})",
    )
    return {
        "protocol": report["protocol"],
        "budget": {"steps": steps, "batch_size": batch_size, "learning_rate": GAUSSIAN1D_LEARNING_RATE, "seed": seed,
                   "train_seconds": round(seconds, 1)},
        "options": GAUSSIAN1D,
        "generated": report["generated"],
        "baseline": report["baseline"],
        "figure": str(figure.relative_to(ROOT)),
        "last_losses": last,
    }


def image_row_budget(variant, num_samples, steps, batch_size):
    """(steps, batch size, D and G learning rates) of image row `variant` on a training set of `num_samples`."""
    from train import recipes

    row = IMAGE_VARIANTS[variant]
    if row["budget"] == "preset":  # exactly what `ganzoo train PRESET` runs: whole epochs of the preset's budget
        epochs, batch_size = recipes.budget(row["preset"], num_samples)
        steps = epochs * (num_samples // batch_size)
    return steps, batch_size, row["d_lr"] or IMAGE_LEARNING_RATE, row["g_lr"] or IMAGE_LEARNING_RATE


def run_images(steps, batch_size, n, seed=IMAGE_SEED, datasets_=None, variants=None, on_row=None, classifier_epochs=3, tag=""):
    """Train and evaluate each image row; `on_row(payload)` is called after every row (partial results)."""
    import zoo
    from export import sampling
    from train import datasets, evaluation, files

    rows = []
    classifiers = {}
    report = {}

    def payload():
        return {
            "protocol": report["protocol"].split("; ", 1)[1] if report else "",
            "num_samples": n,
            "budget": {"steps": steps, "batch_size": batch_size, "learning_rate": IMAGE_LEARNING_RATE,
                       "optimizer": "Adam(beta_1=0.5) for G and D", "seed": seed,
                       "jit_compile": JIT_COMPILE},
            "classifiers": classifiers,
            "rows": rows,
        }

    for dataset, folder in (datasets_ or IMAGE_DATASETS).items():
        if not pathlib.Path(folder).is_dir():
            print(f"skipping {dataset}: no data at {folder}", flush=True)
            continue
        train = datasets.load_arrays(str(folder), split="train")
        baseline = None
        for variant in variants or list(IMAGE_VARIANTS):
            preset = IMAGE_VARIANTS[variant]["preset"]
            options = {"data_shape": train.x.shape[1:], **IMAGE_VARIANTS[variant]["options"]}
            if zoo.presets.PRESETS[preset]["options"].get("num_classes"):
                options["num_classes"] = len(train.class_names or range(10))
            row_steps, row_batch, d_lr, g_lr = image_row_budget(variant, len(train.x), steps, batch_size)
            gan, seconds, last = _train(preset, options, train.x, train.y, row_steps, row_batch, IMAGE_LEARNING_RATE,
                                        seed, d_lr=d_lr, g_lr=g_lr)
            report = evaluation.evaluate(gan, str(folder), n=n, seed=seed, classifier_epochs=classifier_epochs,
                                         verbose=True, description=f"{variant} on {dataset}")
            classifiers[dataset] = report["classifier"]
            baseline = report["baseline"]
            images = report["generated_images"]
            FIGURES.mkdir(parents=True, exist_ok=True)
            figure = FIGURES / f"quality_{dataset}_{_slug(variant)}{tag}.png"
            if gan.conditional:  # one row per class, in class order
                labels = np.repeat(np.arange(gan.num_classes), 10)
                images = gan.generate(len(labels), labels=labels, seed=seed)
            files.save_image(sampling.image_grid(images[:100], nrow=10, padding=1, min_cell=56), figure)
            print(f"{dataset} {variant}: trained {row_steps} steps in {seconds:.0f} s", flush=True)
            rows.append(
                {
                    "dataset": dataset,
                    "variant": variant,
                    "preset": preset,
                    "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()},
                    "budget": IMAGE_VARIANTS[variant]["budget"],
                    "steps": row_steps,
                    "batch_size": row_batch,
                    "d_learning_rate": d_lr,
                    "g_learning_rate": g_lr,
                    **_compile_options(row_steps),
                    "train_seconds": round(seconds, 1),
                    "generated": report["generated"],
                    "figure": str(figure.relative_to(ROOT)),
                    "last_losses": last,
                }
            )
            if on_row:
                on_row({**payload(), "rows": rows + [_real_row(dataset, baseline)]})
        rows.append(_real_row(dataset, baseline))
    return payload()


REAL_ROW = "real data (train subset)"


def _real_row(dataset, baseline):
    return {"dataset": dataset, "variant": REAL_ROW, "generated": baseline}


def inception_status():
    """Whether FID/KID can be computed here (InceptionV3 ImageNet weights), and why not."""
    from train.evaluation import load_inception

    try:
        load_inception()
        return {"status": "available"}
    except RuntimeError as error:
        return {"status": "unavailable", "reason": str(error)}


# ----------------------------------------------------------------------------------------- the table


def _pm(summary, digits=1, scale=1.0):
    if summary["mean"] is None:
        return "undefined"
    text = f"{summary['mean'] * scale:.{digits}f} ± {summary['std'] * scale:.{digits}f}"
    if summary.get("undefined"):
        text += f" ({summary['undefined']} run(s) without high-quality samples left out)"
    return text


def render():
    """benchmarks/quality.md from every results/quality_*.json present."""
    parts = {p.stem.removeprefix("quality_"): json.loads(p.read_text()) for p in sorted(RESULTS.glob("quality_*.json"))}
    lines = [
        "# Quality benchmark",
        "",
        "Generated by `python -m benchmarks.run quality` (benchmarks/quality.py) from benchmarks/results/quality_*.json;",
        "do not edit by hand. Figures: benchmarks/figures/.",
        "",
    ]
    machine = next((p["machine"] for p in parts.values() if "machine" in p), None)
    if machine:
        lines += [f"Machine: {machine['cpu_count']} CPU cores, GPU: {machine['gpu']}, TensorFlow {machine['tensorflow']}, "
                  f"Keras {machine['keras']}. Times are wall-clock seconds on that machine, which may be shared"
                  + (f"; each part ran in a worker process with {machine['threads']} thread(s) beside the others (--jobs)"
                     if machine.get("threads", "all") != "all" else "") + ".", ""]
    toy = parts.get("toy")
    if toy:
        b = toy["budget"]
        lines += [
            "## Mode coverage: ring8 and grid25",
            "",
            f"Protocol: {re.sub(r'noise seed [0-9]+', 'noise seed = the run seed', toy['protocol'])}.",
            "",
            f"Budget per run: {b['steps']} steps of batch {b['batch_size']}, {b['optimizer']}{_compiled_text(b)}; "
            f"seeds {b['seeds'][0]}-{b['seeds'][-1]} ({len(b['seeds'])} runs per row, mean ± std over seeds). "
            f"Networks: {_toy_network_text()}.",
            "",
            "| dataset | model | modes captured | high-quality % | KL(modes ‖ uniform) | train time / run (s) |",
            "|---|---|---|---|---|---|",
        ]
        for row in toy["rows"]:
            k = 8 if row["dataset"] == "ring8" else 25
            if "real" in row:
                r = row["real"]
                lines.append(f"| {row['dataset']} | {row['variant']} | {r['modes_captured']} / {k} | "
                             f"{r['high_quality']:.1f} | {r['mode_kl']:.3f} | – |")
                for name, published in toy["pacgan_published"][row["dataset"]].items():
                    lines.append(f"| {row['dataset']} | {name} (PacGAN, published) | {published['modes']} / {k} | – | – | – |")
                continue
            longer = f" ({row['steps']:,} steps)" if row.get("steps", b["steps"]) != b["steps"] else ""
            lines.append(
                f"| {row['dataset']} | {row['variant']}{longer} | {_pm(row['modes_captured'])} / {k} | "
                f"{_pm(row['high_quality'])} | {_pm(row['mode_kl'], 3)} | {row['train_seconds']['mean']:.0f} |"
            )
        lines += ["", f"Published rows: {toy['pacgan_note']}."
                  + (" Rows from more than one run (a partial rerun with --toy-variants)." if toy.get("merged") else ""), ""]
        figs = sorted(FIGURES.glob("quality_ring8_*.png")) + sorted(FIGURES.glob("quality_grid25_*.png"))
        if figs:
            lines += ["Seed-0 samples: " + ", ".join(f"[{f.stem.removeprefix('quality_')}](figures/{f.name})" for f in figs), ""]
    g1 = parts.get("gaussian1d")
    if g1:
        g, r, b = g1["generated"], g1["baseline"], g1["budget"]
        lines += [
            "## The lecture example's Example 1: gaussian1d",
            "",
            f"`zoo.create(\"vanilla\", {', '.join(f'{k}={v!r}' for k, v in g1['options'].items())})` "
            "(the `example1-gaussian1d` recipe's network, N(0, 1) noise, samples from the moving-average generator), "
            f"{b['steps']} steps of batch {b['batch_size']}, Adam(lr {b['learning_rate']:g}, beta_1 0.5), seed {b['seed']}, "
            f"{b['train_seconds']:.0f} s. Protocol: {g1['protocol']}.",
            "",
            "| | mean | std | KS statistic |",
            "|---|---|---|---|",
            f"| target N(1, 1) | 1 | 1 | 0 |",
            f"| generated | {g['mean']:.3f} | {g['std']:.3f} | {g['ks']:.3f} |",
            f"| real test sample ({r['num_samples']}) | {r['mean']:.3f} | {r['std']:.3f} | {r['ks']:.3f} |",
            "",
            f"![gaussian1d]({_figure_link(g1)})",
            "",
        ]
    image_parts = sorted(
        (key for key in parts if key.startswith("images_") and parts[key]["budget"].get("seed", IMAGE_SEED) == IMAGE_SEED),
        key=lambda key: list(IMAGE_DATASETS).index(parts[key]["rows"][0]["dataset"])
        if parts[key]["rows"] and parts[key]["rows"][0]["dataset"] in IMAGE_DATASETS else 99,
    )
    if image_parts:
        lines += [
            "## Images: MNIST and Fashion-MNIST",
            "",
            f"Metrics: {re.sub(r' [(]test accuracy [^)]*[)]', '', parts[image_parts[0]]['protocol'])}. The real-data row is the same number of train images "
            "through the same metrics (its 'conditional acc.' is the classifier's accuracy on their labels). "
            "These are the metrics of `ganzoo evaluate`, with its cached evaluation classifier.",
            "",
        ]
        classifiers = {k: v for key in image_parts for k, v in parts[key]["classifiers"].items()}
        for name, info in classifiers.items():
            lines.append(f"- Evaluation classifier for {name}: test accuracy {100 * info['test_accuracy']:.2f}% "
                         f"on {info['num_test']} test images ({info['epochs']} epochs on {info['num_train']} train images).")
        inception = parts.get("inception") or {}
        if inception.get("status") != "available":
            reason = inception.get("reason", "not checked (run --part inception)")
            lines += ["", f"FID/KID (InceptionV3): unavailable on this machine, so not in the table — {reason}. "
                      "Online, `ganzoo evaluate SOURCE --inception` adds them."]
        lines += ["", _image_rows_text(), ""]
        lines += [f"Targets (the `ganzoo train PRESET` rows): {TARGETS_TEXT}."]
    for key in image_parts:
        images = parts[key]
        b = images["budget"]
        dataset = images["rows"][0]["dataset"]
        missing = [v for v in IMAGE_VARIANTS if v not in {row["variant"] for row in images["rows"]}]
        lines += [
            "",
            f"### {dataset}",
            "",
            f"Each row: one run (seed {b['seed']}) on the train split, batch {b['batch_size']}, {b['optimizer']}, "
            f"lr {b['learning_rate']:g} unless the row says otherwise, the train step XLA-compiled (the same updates "
            f"as `ganzoo train`, faster on a CPU); {images['num_samples']} generated images evaluated (noise seed "
            f"{b['seed']}; conditional rows request labels balanced over the classes). The preset rows train for the "
            f"preset's `ganzoo train` budget; the others for {b['steps']:,} steps. "
            + ("Rows from more than one run (a partial rerun with --image-variants or --only-missing)."
               if images.get("merged") else f"Whole run: {images.get('wall_seconds', 0) / 60:.0f} min.")
            + (f" **Not run yet: {', '.join(missing)}** (`python -m benchmarks.quality --part images --image-datasets "
               f"{dataset} --only-missing` adds them)." if missing else ""),
            "",
            "| model | steps | classifier score | Frechet dist. (test) | class KL | classes covered | conditional acc. | train time (s) | target | samples |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        real = next((r["generated"] for r in images["rows"] if r["variant"] == REAL_ROW), None)
        short = []
        for row in images["rows"]:
            g = row["generated"]
            acc = f"{100 * g['conditional_accuracy']:.1f}%" if "conditional_accuracy" in g else "–"
            fig = f"[grid]({_figure_link(row)})" if "figure" in row else "–"
            seconds = f"{row['train_seconds']:.0f}" if "train_seconds" in row else "–"
            steps = f"{row['steps']:,}" if "steps" in row else "–"
            target = image_target(row, real) if row.get("budget") == "preset" and real else "–"
            lines.append(
                f"| {row['variant']} | {steps} | {g['classifier_score']:.2f} | {g['frechet_distance']:.2f} | "
                f"{g['class_kl']:.3f} | {g['classes_covered']} / 10 | {acc} | {seconds} | {target} | {fig} |"
            )
            if target.startswith("missed"):
                short.append(f"- {row['variant']}: {SHORT_OF_TARGET_REASONS.get(row['variant'], 'reason not known yet')}.")
        if short:
            lines += ["", "Why the rows that miss their target miss it:", "", *short]
        lines += ["", "The '+' rows and the combination row have no target: they train for the same "
                  f"{b['steps']:,} steps, under every preset's budget, to compare the stabilisers with each other."]
    lines += _seed_summary(parts)
    lines.append("")
    files.write_text("\n".join(lines) + "\n", TABLE)
    print(f"wrote {TABLE}", flush=True)


def _figure_link(result):
    """The link from the table to a result's figure (results record it relative to the repository)."""
    return f"figures/{pathlib.Path(result['figure']).name}"


def _seed_summary(parts):
    """The table of the preset rows over seeds (mean ± std, targets met), when a seed besides IMAGE_SEED ran."""
    runs = {}  # (dataset, variant) -> {seed: (row, real data's metrics)}
    for key, part in parts.items():
        name = re.fullmatch(r"images_(.+?)(_seed[0-9]+)?", key)
        if not name or name.group(1) not in IMAGE_DATASETS:
            continue
        real = next((row["generated"] for row in part["rows"] if row["variant"] == REAL_ROW), None)
        for row in part["rows"]:
            if row.get("budget") == "preset" and row["variant"] in IMAGE_VARIANTS and real:
                runs.setdefault((row["dataset"], row["variant"]), {})[part["budget"]["seed"]] = (row, real)
    if not any(len(seeds) > 1 for seeds in runs.values()):
        return []
    others = sorted({seed for seeds in runs.values() for seed in seeds} - {IMAGE_SEED})
    lines = [
        "", "### Preset rows over seeds", "",
        "Each preset row at its `ganzoo train` budget, once per seed (the seed of the weights, of the data order "
        "and of the evaluated noise), as in the tables above; mean ± std over the seeds (population std), the classes "
        "covered per seed, and in how many seeds the row meets its target. Seed 0 is the run of the tables above; "
        f"other seeds come from `python -m benchmarks.quality --part images --image-seeds {' '.join(map(str, others))}`, "
        "a command of their own unless the whole benchmark was run with `--image-seeds` (it then runs them too).",
        "",
        "| dataset | model | seeds | classifier score | Frechet dist. (test) | class KL | classes covered | conditional acc. | target met | samples |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = lambda item: (list(IMAGE_DATASETS).index(item[0][0]), list(IMAGE_VARIANTS).index(item[0][1]))
    for (dataset, variant), seeds in sorted(runs.items(), key=order):
        ordered = [seeds[seed] for seed in sorted(seeds)]
        metrics = [row["generated"] for row, _ in ordered]

        def stat(key, digits, scale=1.0):
            values = np.array([m[key] for m in metrics], dtype="float64") * scale
            return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"

        accuracy = f"{stat('conditional_accuracy', 1, 100)}%" if all("conditional_accuracy" in m for m in metrics) else "–"
        met = sum(image_target(row, real).startswith("met") for row, real in ordered)
        grids = " ".join(f"[{seed}]({_figure_link(seeds[seed][0])})"
                         for seed in sorted(seeds) if "figure" in seeds[seed][0]) or "–"
        lines.append(
            f"| {dataset} | {variant} | {', '.join(map(str, sorted(seeds)))} | {stat('classifier_score', 2)} | "
            f"{stat('frechet_distance', 2)} | {stat('class_kl', 3)} | {', '.join(str(m['classes_covered']) for m in metrics)} | "
            f"{accuracy} | {met} / {len(ordered)} | {grids} |"
        )
    return lines


def _compiled_text(budget):
    if not budget.get("jit_compile"):
        return ""
    return f", train step XLA-compiled, {budget['steps_per_execution']} steps per execution"


def _options_text(options):
    shown = {k: v for k, v in options.items() if k != "data_shape"}
    return ", ".join(f"{k}={v!r}" for k, v in shown.items()) or "defaults"


TARGETS_TEXT = (
    "MNIST: classifier score >= 8.5, Frechet distance <= 5, all 10 classes with class KL <= 0.02, and >= 95% "
    "conditional accuracy for `conditional`; Fashion-MNIST: classifier score within 15% of the real data's"
)


# Why a preset row stays short of its target, printed under its table when it does (a row that misses with no
# reason here says so). The evidence behind each is in benchmarks/quality.md.
SHORT_OF_TARGET_REASONS = {}  # variant -> why; none misses at present


def image_target(row, real):
    """'met', or what misses the targets of TARGETS_TEXT, for a preset row against its dataset's real row."""
    g = row["generated"]
    if row["dataset"] != "mnist":
        gap = 1 - g["classifier_score"] / real["classifier_score"]
        return f"met ({100 * gap:.1f}% below real)" if gap <= 0.15 else f"missed: score {100 * gap:.1f}% below real"
    checks = [
        (g["classifier_score"] >= 8.5, f"score {g['classifier_score']:.2f} < 8.5"),
        (g["frechet_distance"] <= 5, f"FD {g['frechet_distance']:.1f} > 5"),
        (g["class_kl"] <= 0.02, f"class KL {g['class_kl']:.3f} > 0.02"),
        (g["classes_covered"] == 10, f"{g['classes_covered']} classes"),
    ]
    if "conditional_accuracy" in g:
        checks.append((g["conditional_accuracy"] >= 0.95, f"accuracy {100 * g['conditional_accuracy']:.1f}% < 95%"))
    misses = [text for ok, text in checks if not ok]
    return "met" if not misses else "missed: " + "; ".join(misses)


def _image_rows_text():
    plain = _options_text({k: v for k, v in PLAIN_DCGAN.items() if k != "backbone"})
    parts = []
    for name, row in IMAGE_VARIANTS.items():
        if row["budget"] == "preset":
            text = "the preset's defaults"
        elif row["options"] == PLAIN_DCGAN and not (row["d_lr"] or row["g_lr"]):
            text = f"`zoo.create(\"dcgan_mbd_code_ema\", {plain})`"
        elif name.startswith("+"):
            extra = {k: v for k, v in row["options"].items() if PLAIN_DCGAN.get(k, object()) != v}
            rates = f"D lr {row['d_lr']:g}, G lr {row['g_lr']:g}" if row["d_lr"] else ""
            text = ", ".join(t for t in (_options_text(extra) if extra else "", rates) if t)
        else:
            text = f"`{row['preset']}` defaults at the shared budget"
        parts.append(f"{name}: {text}")
    return ("Rows: " + "; ".join(parts) + ". Each '+' row adds one stabiliser to the plain DCGAN; minibatch "
            "discrimination has B=32 kernels of C=5; the DiffAugment policy is "
            f"{DIFFAUGMENT_POLICY!r}, applied to real and fake images before D.")


def _toy_network_text():
    n = TOY_NETWORK
    minibatch = TOY_VARIANTS["minibatch"][1]
    pack = TOY_VARIANTS["vanilla + pack 4"][1]["pack"]
    return (f"MLP G {list(n['g_units'])} ReLU, D {list(n['d_units'])} ReLU, latent {n['latent_dim']}-d {n['prior']}; "
            f"minibatch rows add minibatch discrimination (B={minibatch['minibatch_kernels']} kernels, "
            f"C={minibatch['minibatch_dim']}) after D's last hidden layer; "
            f"'pack {pack}' rows are PacGAN{pack}: D takes {pack} samples joined into one "
            f"{pack * n['data_shape'][0]}-d input (`pack={pack}`)")


# ----------------------------------------------------------------------------------------- main


def worker_argvs(args):
    """The whole benchmark as independent worker command lines, longest first: each image dataset, then the
    toy, gaussian1d and inception parts together; every budget flag of `args` is passed on unchanged."""
    budget = ["--seeds", str(args.seeds), "--toy-steps", str(args.toy_steps), "--toy-batch", str(args.toy_batch),
              "--gaussian-steps", str(args.gaussian_steps), "--gaussian-batch", str(args.gaussian_batch),
              "--image-steps", str(args.image_steps), "--image-batch", str(args.image_batch),
              "--image-samples", str(args.image_samples), "--classifier-epochs", str(args.classifier_epochs),
              "--image-tag", args.image_tag, "--image-seeds", *map(str, args.image_seeds)]
    if args.toy_variants:
        budget += ["--toy-variants", *args.toy_variants]
    if args.image_variants:
        budget += ["--image-variants", *args.image_variants]
    images = [["--part", "images", "--image-datasets", dataset, *budget] for dataset in args.image_datasets or IMAGE_DATASETS]
    return images + [["--part", "toy", "--part", "gaussian1d", "--part", "inception", *budget]]


def run_workers(argvs, jobs):
    """Run `python -m benchmarks.quality ARGV` for each of `argvs`, `jobs` at a time, the CPU cores split among
    them; returns the exit codes."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads}

    def run(argv):
        print(f"worker ({threads} thread(s)): python -m benchmarks.quality {' '.join(argv)}", flush=True)
        return subprocess.run([sys.executable, "-m", "benchmarks.quality", *argv], cwd=ROOT, env=env).returncode

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(run, argvs))


def parser():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", action="append", choices=("toy", "gaussian1d", "images", "inception", "render"),
                        help="run only these parts (repeatable; default: all, then render)")
    parser.add_argument("--seeds", type=int, default=5, help="toy runs per row (default 5)")
    parser.add_argument("--toy-steps", type=int, default=6000, help="training steps per toy run (default 6000)")
    parser.add_argument("--toy-batch", type=int, default=100, help="toy batch size (default 100, as PacGAN)")
    parser.add_argument("--toy-variants", nargs="+", choices=list(TOY_VARIANTS), help="toy rows (default: vanilla, minibatch, vanilla + pack 4)")
    parser.add_argument("--gaussian-steps", type=int, default=7810, help="gaussian1d steps (default 7810: the recipe's 10 epochs)")
    parser.add_argument("--gaussian-batch", type=int, default=128, help="gaussian1d batch size (default 128)")
    parser.add_argument("--image-steps", type=int, default=3000, help="training steps of each image row that does not use its preset's budget (default 3000)")
    parser.add_argument("--image-batch", type=int, default=64, help="image batch size (default 64)")
    parser.add_argument("--image-samples", type=int, default=5000, help="generated images evaluated (default 5000)")
    parser.add_argument("--classifier-epochs", type=int, default=3,
                        help="evaluation classifier epochs when it is not cached yet (default 3, as `ganzoo evaluate`)")
    parser.add_argument("--image-tag", default="",
                        help="suffix for the results file and figures (e.g. _long for a second budget)")
    parser.add_argument("--image-datasets", nargs="+", choices=list(IMAGE_DATASETS),
                        help="image datasets (default all; each writes results/quality_images_<dataset>.json)")
    parser.add_argument("--image-variants", nargs="+", choices=list(IMAGE_VARIANTS),
                        help=f"image rows (default: all at seed {IMAGE_SEED}, the preset rows at other seeds)")
    parser.add_argument("--image-seeds", nargs="+", type=int, default=[IMAGE_SEED],
                        help=f"image seeds, one after the other (default {IMAGE_SEED}); a seed other than {IMAGE_SEED} "
                        "writes quality_images_<dataset>_seed<N>.json, summarised over seeds in the table")
    parser.add_argument("--only-missing", action="store_true",
                        help="image rows: run only those the dataset's results lack at this budget, keeping the rest")
    parser.add_argument("--jobs", type=int,
                        help="worker processes for the whole benchmark (default: one per part, 3; 1 runs it all in this process)")
    return parser


def main(argv=None):
    args = parser().parse_args(argv if argv is not None else [])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parts = args.part or ["toy", "gaussian1d", "images", "inception"]
    if not args.part:  # the whole benchmark: the table must come from this run alone
        for stale in [*RESULTS.glob("quality_*.json"), *FIGURES.glob("quality_*.png")]:
            stale.unlink()
        argvs = worker_argvs(args)
        jobs = len(argvs) if args.jobs is None else args.jobs
        if jobs > 1:
            failed = [" ".join(a) for a, code in zip(argvs, run_workers(argvs, jobs)) if code]
            render()
            if failed:
                print(f"failed workers: {failed}", file=sys.stderr, flush=True)
            return 1 if failed else 0
    for part in parts:
        if part == "render":
            continue
        start = time.time()
        if part == "toy":
            payload = run_toy(args.seeds, args.toy_steps, args.toy_batch, variants=args.toy_variants)
            if args.toy_variants:
                payload = _merged_toy_rows(payload)
        elif part == "inception":
            payload = inception_status()
        elif part == "gaussian1d":
            payload = run_gaussian1d(args.gaussian_steps, args.gaussian_batch)
        else:
            for dataset, seed in [(d, s) for d in args.image_datasets or list(IMAGE_DATASETS) for s in args.image_seeds]:
                start = time.time()
                tag = args.image_tag + seed_tag(seed)
                path = RESULTS / f"quality_images_{dataset}{tag}.json"
                variants = args.image_variants or (None if seed == IMAGE_SEED else list(PRESET_ROWS))
                if args.only_missing:
                    budget = {"num_samples": args.image_samples,
                              "budget": {"steps": args.image_steps, "batch_size": args.image_batch, "seed": seed}}
                    variants = missing_image_rows(path, budget, variants)
                    print(f"{dataset} seed {seed}: rows to run: {variants or 'none'}", flush=True)
                    if not variants:
                        continue

                def save(payload, path=path, part=f"images_{dataset}{tag}", start=start, partial=bool(variants)):
                    payload["machine"] = _machine()
                    payload["wall_seconds"] = round(time.time() - start, 1)
                    if partial:  # a partial rerun keeps the other rows of the last run
                        payload = _merged_image_rows(path, payload)
                    _write(part, payload)
                    render()

                run_images(
                    args.image_steps, args.image_batch, args.image_samples, seed=seed,
                    datasets_={dataset: IMAGE_DATASETS[dataset]}, variants=variants, on_row=save,
                    classifier_epochs=args.classifier_epochs, tag=tag,
                )
            continue
        payload["machine"] = _machine()
        payload["wall_seconds"] = round(time.time() - start, 1)
        _write(part, payload)
        render()
    if parts == ["render"]:
        render()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
