"""What `ganzoo train`'s input costs on JAX and PyTorch: numpy epoch batches against tf.data.

On JAX and PyTorch `train.datasets.epoch_dataset` gives numpy batches (`train.batches.EpochBatches`, a
`keras.utils.PyDataset`), so training needs no TensorFlow; before, it gave the `tf.data` pipeline it gives on
TensorFlow (`train.datasets.tf_epoch_dataset`), which those backends read as numpy. Both here feed the same GAN
(the `dcgan` preset on the bundled 8x8 digits, `ganzoo train`'s default data) through `fit`, each backend in its
own process; warmed up, then timed in interleaved rounds, each round's ratio numpy / tf.data paired in the round.

Written to benchmarks/input_pipeline.md.

    python -m benchmarks.input_pipeline [--backends jax torch] [--batch 64] [--steps 30] [--rounds 7]
"""

import argparse
import datetime
import json
import os
import pathlib
import shlex
import subprocess
import sys

from benchmarks import backends
from benchmarks.step_costs import paired_cells, paired_row, write

ROOT = pathlib.Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "input_pipeline.json"
TABLE = ROOT / "input_pipeline.md"
REFERENCE = "tf.data (train.datasets.tf_epoch_dataset)"
NUMPY = "numpy batches (train.batches.EpochBatches)"


def worker(batch_size, steps, rounds):
    """Rows for this process's backend: images/s of `fit` on each input, and numpy's over tf.data's by round."""
    from benchmarks.timing import fit_step_seconds
    import zoo
    from train import datasets

    arrays = datasets.load_arrays("digits")
    gan = zoo.create("dcgan", data_shape=arrays.x.shape[1:], seed=0)
    gan.compile()
    epochs = -(-(steps + backends.WARM_UP_STEPS) // (len(arrays) // batch_size))  # enough for one call's steps
    inputs = {REFERENCE: datasets.tf_epoch_dataset, NUMPY: datasets.epoch_batches}
    for make in inputs.values():
        fit_step_seconds(gan, make(arrays, batch_size, 0, 0, epochs), backends.WARM_UP_STEPS)
    rates = {name: [] for name in inputs}
    for round_ in range(rounds):
        order = list(inputs.items()) if round_ % 2 == 0 else list(reversed(inputs.items()))
        for name, make in order:
            rates[name].append(steps * batch_size / fit_step_seconds(gan, make(arrays, batch_size, 0, 0, epochs), steps))
    return [paired_row(batch_size, name, values, rates[REFERENCE]) for name, values in rates.items()]


def render(result):
    lines = [
        "# What `ganzoo train`'s input costs on JAX and PyTorch",
        "",
        f"Produced by `{result['command']}` ({result['date']}). " + __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"{result['steps']} steps x {result['rounds']} rounds, batch {result['batch']}; images/s median (range over "
        "rounds); the ratio is the median over rounds of the row's images/s over tf.data's in the same round.",
        "",
        f"Machine: {result['machine']}; load average {result['load_before']} -> {result['load_after']}."
        + (f" {result['note']}." if result.get("note") else ""),
        "",
        "| backend | input | images/s | range | vs tf.data (per round) | range |",
        "|---|---|---:|---|---:|---|",
    ]
    for backend, rows in result["backends"].items():
        lines += [f"| {backend} | {row['configuration']} | {paired_cells(row)} |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--note", help="how the machine was shared while measuring, for the table")
    parser.add_argument("--out", help="write the JSON and table here instead of benchmarks/")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # one backend, JSON rows on stdout
    args = parser.parse_args(argv if argv is not None else [])
    if args.worker:
        print(json.dumps(worker(args.batch, args.steps, args.rounds)))
        return 0
    result = {"command": shlex.join(["python", "-m", "benchmarks.input_pipeline", *(argv or [])]),
              "date": datetime.date.today().isoformat(), "machine": backends.cpu_flags(),
              "load_before": [round(x, 2) for x in os.getloadavg()], "batch": args.batch, "steps": args.steps,
              "rounds": args.rounds, "note": args.note, "backends": {}}
    for backend in args.backends:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.input_pipeline", "--worker", "--batch", str(args.batch), "--steps",
             str(args.steps), "--rounds", str(args.rounds)],
            env={**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"},
            capture_output=True, text=True, check=True, cwd=ROOT.parent,
        )
        result["backends"][backend] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    write(result, render(result), RESULTS, TABLE, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
