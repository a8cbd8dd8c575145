"""TensorFlow's training options (XLA, `update=`, mixed precision, input checks, MirroredStrategy): train-step
throughput (images/s) on 28x28 data beside a plain Keras DCGAN, written to benchmarks/training_options.md.
(Every preset on every backend, with each backend's plain step: benchmarks/backends.py, benchmarks/training.md.)

The reference is keras-io's DCGAN in its own style (a `keras.Model` with a two-tape `train_step`,
one D call on real + fake, binary cross-entropy; `benchmarks.backends.keras_io_dcgan`), on the *same*
generator and discriminator networks as the `dcgan` preset, the same batches (`benchmarks.backends.dataset`),
in the same process, so the ratio shows what our
abstractions cost or save. Options that change the cost are measured each on their own, then
together: XLA (jit_compile), `update="reuse_fake"` (one G forward pass per step, PyTorch's DCGAN
example), `update="fused"` (one forward pass of G and D for both updates), mixed precision.
The "input checks off" rows are `fit(check_data=False)`: what `GAN.fit`'s data checks
(`zoo.checks`: finite, in range, whole labels, batch by batch in the input pipeline) cost.

Every configuration is warmed up (traced, compiled), then the configurations are timed in
interleaved rounds (the median is reported), which keeps a shared machine's load from favouring
whichever ran first. A second process measures MirroredStrategy on 2 logical devices (the same
cores: for correctness, not speed).

    python -m benchmarks.training [--batches 64 256] [--steps 8] [--rounds 3] [--quick]
    python -m benchmarks.training --input-checks [--rounds 9]   # only the checks' cost, kept beside the table
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

from benchmarks import backends
from benchmarks.step_costs import paired_row
from export import files

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "training.json"
TABLE = ROOT / "training_options.md"
IMAGE_SHAPE, LATENT_DIM = backends.IMAGE_SHAPE, backends.LATENT_DIM  # the networks keras_io_dcgan builds
SLOW_OPTION_MAX_BATCH = 64  # mixed precision on a CPU is measured at this batch size only
PRESETS = ("vanilla", "dcgan", "conditional", "minibatch")
CHECKED_PRESETS = ("dcgan", "conditional")  # measured again with fit(check_data=False)
# DCGAN option sets: name -> (update, jit_compile, mixed precision)
DCGAN_OPTIONS = {
    "xla": ("alternating", True, False),
    "reuse_fake": ("reuse_fake", False, False),
    "fused": ("fused", False, False),
    "mixed_precision": ("alternating", False, True),
    "reuse_fake+xla": ("reuse_fake", True, False),
    "fused+xla": ("fused", True, False),
}


def zoo_gan(preset, update="alternating", mixed_precision=False):
    """`zoo.create(preset)` on 28x28 data with GAN's `update` option."""
    import zoo
    from train.distribute import mixed_precision as policy_scope

    with policy_scope(mixed_precision):
        gan = zoo.create(preset, data_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM)
        if update != "alternating":
            gan = zoo.GAN.from_config({**gan.get_config(), "update": update})
    return gan


class Timed(backends.FitRunner):
    """One model on one batch size: warmed up once, then timed `steps` steps per round, its images/s kept."""

    def __init__(self, name, model, batch_size, jit_compile=False, check_data=None):
        super().__init__(model, batch_size, jit_compile, **({} if check_data is None else {"check_data": check_data}))
        self.name, self.batch_size = name, batch_size
        super().run(1)  # trace, compile, warm up
        self.images_per_s = []

    def run(self, steps):
        self.images_per_s.append(steps * self.batch_size / super().run(steps))

    def median(self):
        return statistics.median(self.images_per_s)


def measure(batch_sizes, steps, rounds, presets, options):
    import keras
    import tensorflow as tf

    rows = []
    for batch_size in batch_sizes:
        keras.utils.set_random_seed(0)
        # keras-io's two-tape step on the dcgan preset's networks, as benchmarks/backends.py times it.
        configs = [Timed("plain keras dcgan (reference)", backends.keras_io_dcgan(), batch_size)]
        configs.append(Timed("plain keras dcgan + xla", backends.keras_io_dcgan(), batch_size, jit_compile=True))
        for preset in presets:
            configs.append(Timed(preset, zoo_gan(preset), batch_size))
            if preset in CHECKED_PRESETS:
                configs.append(Timed(f"{preset}, input checks off", zoo_gan(preset), batch_size, check_data=False))
        for name in options:
            update, jit_compile, mixed = DCGAN_OPTIONS[name]
            if mixed and batch_size > SLOW_OPTION_MAX_BATCH and not tf.config.list_physical_devices("GPU"):
                continue  # 16-bit matmuls are emulated on CPUs without bfloat16 units: several times slower
            configs.append(Timed(f"dcgan {name}", zoo_gan("dcgan", update, mixed), batch_size, jit_compile))
        rows += _timed_rows(configs, batch_size, steps, rounds)
    return rows


def _timed_rows(configs, batch_size, steps, rounds):
    """Interleaved rounds over `configs`; one row each, its ratio against the first."""
    for round_ in range(rounds):
        for config in configs:
            config.run(steps)
        print(f"  batch {batch_size} round {round_ + 1}/{rounds}", flush=True)
    rows = []
    for config in configs:  # each round's rate over the reference's in that round: load bursts move both
        row = paired_row(batch_size, config.name, config.images_per_s, configs[0].images_per_s)
        rows.append({"batch_size": batch_size, "config": config.name, "images_per_s": row["images_per_second"],
                     "all_rounds": row["rounds"], "vs_plain_keras_dcgan": row["ratio"], "ratio_range": row["ratio_range"]})
        print(f"  {config.name:32s} {row['images_per_second']:9.1f} img/s  x{row['ratio']:.2f}", flush=True)
    return rows


def measure_input_checks(batch_size, steps, rounds, presets=CHECKED_PRESETS):
    """Only what the data checks cost: each checked preset with and without them, interleaved.

    Rows: {"preset", "checked", "unchecked" (images/s, medians), "round_costs" (1 - checked / unchecked
    in each round), "cost" (their median: rounds are paired, so a burst of load elsewhere, which
    hits one pair, moves it less than it moves the two rates' medians), "check_ms_per_batch"
    (the checks alone, see `_pipeline_cost`), "step_ms"}.
    """
    import keras

    keras.utils.set_random_seed(0)
    rows = []
    for preset in presets:
        pair = [Timed(f"{preset}", zoo_gan(preset), batch_size), Timed(f"{preset}, input checks off", zoo_gan(preset), batch_size, check_data=False)]
        _timed_rows(pair, batch_size, steps, rounds)
        checked, unchecked = pair[0].median(), pair[1].median()
        pipeline = _pipeline_cost(pair[1].model, pair[1].data)
        round_costs = [1 - a / b for a, b in zip(pair[0].images_per_s, pair[1].images_per_s)]
        rows.append({
            "batch_size": batch_size,
            "preset": preset,
            "checked": round(checked, 1),
            "unchecked": round(unchecked, 1),
            "cost": round(statistics.median(round_costs), 4),
            "round_costs": [round(c, 4) for c in round_costs],
            "check_ms_per_batch": pipeline,
            "step_ms": round(1000 * batch_size / unchecked, 2),
        })
    return rows


def _pipeline_cost(gan, data, batches=300, rounds=7):
    """Milliseconds the checks add per batch to the input pipeline alone (no training): a figure the
    machine's load hardly moves, unlike the step rates above. Median over interleaved rounds."""
    from zoo import checks

    checked = checks.checked_dataset(data, checks.output_range(gan.generator), gan.num_classes)
    costs = []
    for _ in range(rounds):
        seconds = []
        for pipeline in (checked, data):
            iterator = iter(pipeline)
            next(iterator)
            start = time.perf_counter()
            for _ in range(batches):
                next(iterator)
            seconds.append(time.perf_counter() - start)
        costs.append(1000 * (seconds[0] - seconds[1]) / batches)
    return round(statistics.median(costs), 4)


def two_devices(batch_size, steps, rounds):
    """In a fresh process: zoo's dcgan on 1 device and under MirroredStrategy on 2 logical CPUs."""
    command = [sys.executable, "-m", "benchmarks.training", "--two-devices-worker", str(batch_size), str(steps), str(rounds)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT.parent, timeout=3600)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _two_devices_worker(batch_size, steps, rounds):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from train.distribute import get_strategy

    strategy = get_strategy("mirrored")
    one = Timed("dcgan, 1 device", zoo_gan("dcgan"), batch_size)
    with strategy.scope():
        gan = zoo_gan("dcgan")
        two = Timed("dcgan, MirroredStrategy on 2 logical CPUs", gan, batch_size)
    for _ in range(rounds):
        one.run(steps)
        two.run(steps)
    print(json.dumps({"batch_size": batch_size, "one_device": round(one.median(), 1), "two_logical_devices": round(two.median(), 1)}))


def environment():
    import keras
    import tensorflow as tf

    return {
        "device": "GPU" if tf.config.list_physical_devices("GPU") else "CPU",
        "cpu_count": os.cpu_count(),
        "cpu": backends.cpu_flags(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def write_table(result):
    runs = "; ".join(
        f"`{run['command']}` ({run['steps']} steps x {run['rounds']} rounds, batches {run['batches']}, "
        f"load average {run['load_average_at_start']} -> {run['load_average_at_end']})"
        for run in result["runs"]
    )
    lines = [
        "# TensorFlow training options",
        "",
        "Every preset on TensorFlow, JAX and PyTorch, beside each backend's plain step: [training.md](training.md).",
        "",
        "Train-step images/s on 28x28x1 data (median of interleaved rounds), produced by "
        "`python -m benchmarks.training` (`make bench`). Ratio: against the plain Keras DCGAN (keras-io's "
        "two-tape `train_step` on the same networks) at the same batch size, in the same process: the median over "
        "rounds of the row's images/s over the plain DCGAN's in the same round (range over rounds where measured).",
        "",
        f"Machine: {result['environment']['device']}, "
        f"{result['environment'].get('cpu') or str(result['environment']['cpu_count']) + ' cores'}, shared with other "
        f"jobs (compare ratios, not absolute rates). Runs: {runs}.",
        "",
        "| batch | configuration | images/s | vs plain Keras DCGAN | range |",
        "|---:|---|---:|---:|---|",
    ]
    for row in result["rows"]:
        spread = " - ".join(f"{r:.2f}" for r in row["ratio_range"]) if row.get("ratio_range") else "-"
        lines.append(f"| {row['batch_size']} | {row['config']} | {row['images_per_s']:.1f} | "
                     f"{row['vs_plain_keras_dcgan']:.2f}x | {spread} |")
    if result.get("input_checks"):
        check = result["input_checks"]
        lines += [
            "",
            f"Cost of `GAN.fit`'s input checks (`{check['command']}`: {check['steps']} steps x {check['rounds']} "
            f"interleaved rounds, load average {check['load_average']}; cost = 1 - checked / unchecked per round, "
            "median over the rounds; the per-round figures show how much the shared machine's load moves them, "
            "and the time of the checks alone in the input pipeline (prefetched, so it overlaps the step) beside "
            "the step's):",
            "",
            "| batch | preset | checked images/s | unchecked images/s | cost | cost per round | checks alone, ms/batch | step, ms |",
            "|---:|---|---:|---:|---:|---|---:|---:|",
        ]
        for row in check["rows"]:
            rounds = ", ".join(f"{c:+.1%}" for c in row["round_costs"])
            lines.append(
                f"| {row['batch_size']} | {row['preset']} | {row['checked']:.1f} | {row['unchecked']:.1f} | "
                f"{row['cost']:+.1%} | {rounds} | {row.get('check_ms_per_batch', float('nan')):.3f} | {row.get('step_ms', float('nan')):.1f} |"
            )
    lines += ["", "MirroredStrategy on 2 logical CPU devices (they share the same cores: reported for correctness only):", ""]
    if not result["two_logical_devices"]:
        lines.append("- not measured in this run (`--no-two-devices`)")
    for entry in result["two_logical_devices"]:
        if "error" in entry:
            lines.append(f"- failed: {entry['error'][-300:]}")
        else:
            lines.append(
                f"- batch {entry['batch_size']}: one device {entry['one_device']} images/s, "
                f"2 logical devices {entry['two_logical_devices']} images/s"
            )
    files.write_text("\n".join(lines) + "\n", TABLE)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per configuration and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--presets", nargs="+", help=f"default: all ({', '.join(PRESETS)}); with --input-checks "
                        f"{', '.join(CHECKED_PRESETS)}")
    parser.add_argument("--options", nargs="*", default=list(DCGAN_OPTIONS))
    parser.add_argument("--quick", action="store_true", help="2 steps, 1 round: a smoke run")
    parser.add_argument("--merge", action="store_true", help="keep the saved rows of other batch sizes")
    parser.add_argument("--no-two-devices", action="store_true", help="skip the 2-logical-device run")
    parser.add_argument("--two-devices-batch", type=int, help="batch size of the 2-logical-device run")
    parser.add_argument("--two-devices-worker", nargs=3, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--input-checks", action="store_true",
                        help="measure only what GAN.fit's input checks cost (kept beside the saved table)")
    args = parser.parse_args(argv if argv is not None else [])
    if args.two_devices_worker:
        return _two_devices_worker(*args.two_devices_worker)
    if args.input_checks:
        return _input_checks(args, argv)
    args.presets = args.presets or list(PRESETS)
    if args.quick:
        args.steps, args.rounds = 2, 1
    result = {"environment": environment(), "runs": [], "rows": [], "two_logical_devices": []}
    if args.merge and RESULTS.exists():  # keep an earlier run's other batch sizes
        earlier = json.loads(RESULTS.read_text())
        result["runs"] = earlier["runs"]
        result["rows"] = [row for row in earlier["rows"] if row["batch_size"] not in args.batches]
        result["two_logical_devices"] = earlier["two_logical_devices"] if args.no_two_devices else []
        if earlier.get("input_checks"):
            result["input_checks"] = earlier["input_checks"]
    run = {
        "command": "python -m benchmarks.training " + " ".join(argv if argv is not None else []),
        "batches": args.batches,
        "steps": args.steps,
        "rounds": args.rounds,
        "load_average_at_start": result["environment"]["load_average_at_start"],
    }
    result["runs"].append(run)
    for batch_size in args.batches:  # written after each batch size, so a long run keeps what it measured
        result["rows"] += measure([batch_size], args.steps, args.rounds, args.presets, args.options)
        run["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        _write(result)
    if not args.no_two_devices:
        result["two_logical_devices"] = [two_devices(args.two_devices_batch or min(args.batches), args.steps, args.rounds)]
        run["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        _write(result)
    print(f"wrote {RESULTS.relative_to(ROOT.parent)} and {TABLE.relative_to(ROOT.parent)}")
    return 0


def _input_checks(args, argv):
    result = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"environment": environment(), "runs": [], "rows": [], "two_logical_devices": []}
    load = [round(x, 2) for x in os.getloadavg()]
    rows = []
    for batch_size in args.batches:
        rows += measure_input_checks(batch_size, args.steps, args.rounds, args.presets or CHECKED_PRESETS)
    result["input_checks"] = {
        "command": "python -m benchmarks.training " + " ".join(argv if argv is not None else []),
        "steps": args.steps,
        "rounds": args.rounds,
        "load_average": [load, [round(x, 2) for x in os.getloadavg()]],
        "rows": rows,
    }
    _write(result)
    print(json.dumps(rows, indent=1))
    return 0


def _write(result):
    result["rows"].sort(key=lambda row: row["batch_size"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    files.write_text(json.dumps(result, indent=2) + "\n", RESULTS)
    write_table(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
