"""What `GAN.fit`'s TensorFlow step costs beside keras-io's two-tape DCGAN step, part by part.

On the `dcgan` preset's networks (benchmarks/backends.py's), the same batch and Adam: keras-io's step, the zoo's
`GAN.fit`, and `GAN.fit` with one of its two differences from keras-io's step undone at a time:

- D judges the real and the fake batch in two calls (Radford et al.'s code: separate batches, which BatchNorm
  normalises apart); keras-io concatenates them into one call. Row "D on one concatenated batch".
- The step updates four `Mean` trackers (d_loss, g_loss, D(x), D(G(z))) weighted by the batch; keras-io's none
  (the version benchmarks/backends.py times returns its two losses). Row "no metric updates".

Every configuration is warmed up, then timed in interleaved rounds in one process; each row's ratio is the median
over rounds of its images/s over keras-io's in the same round (rounds are paired, so a burst of load elsewhere moves
a ratio less than it moves the two rates), with the range over rounds. Written to benchmarks/step_costs.md.

    python -m benchmarks.step_costs [--batches 64 256] [--steps 30] [--rounds 9] [--note "pinned to one core"]
"""

import argparse
import datetime
import json
import os
import pathlib
import shlex
import statistics
import sys

from benchmarks import backends

ROOT = pathlib.Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "step_costs.json"
TABLE = ROOT / "step_costs.md"
REFERENCE = "keras-io two-tape step"


def configurations(batch_size):
    """{name: runner}: keras-io's step, GAN.fit, and GAN.fit with one difference from keras-io's step undone."""
    from keras import ops

    import zoo
    from zoo import losses

    class OneDiscriminatorCall(zoo.GAN):
        def _discriminator_loss(self, real, fake, labels, codes=None):  # the dcgan preset's case only
            n = ops.shape(real)[0]
            logits, _ = self._discriminate(ops.concatenate([real, fake], axis=0), labels)
            real_logits, fake_logits = logits[:n], logits[n:]
            d_loss = losses.LOSSES[self.loss][0](real_logits, fake_logits, self.label_smoothing)
            return self.d_loss_scale * d_loss, real_logits, (fake_logits, None)

    class NoMetricUpdates(zoo.GAN):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            for tracker in self.metrics:
                tracker.update_state = lambda *args, **kwargs: None

    def dcgan(cls=zoo.GAN):
        return cls.from_config(zoo.create("dcgan", data_shape=backends.IMAGE_SHAPE, latent_dim=backends.LATENT_DIM, seed=0).get_config())

    return {
        REFERENCE: backends.FitRunner(backends.keras_io_dcgan(), batch_size, False),
        "GAN.fit (dcgan preset)": backends.FitRunner(dcgan(), batch_size, False),
        "GAN.fit, D on one concatenated batch": backends.FitRunner(dcgan(OneDiscriminatorCall), batch_size, False),
        "GAN.fit, no metric updates": backends.FitRunner(dcgan(NoMetricUpdates), batch_size, False),
    }


def measure(batch_size, steps, rounds):
    return paired_rounds(configurations(batch_size), batch_size, steps, rounds, REFERENCE, f"batch {batch_size}")


def paired_rounds(runners, batch_size, steps, rounds, reference, label):
    """Warms every runner up, times them in `rounds` interleaved rounds of `steps` steps, and returns a `paired_row`
    per runner against the `reference` runner's rates; `label` starts the progress lines."""
    for runner in runners.values():
        runner.run(backends.WARM_UP_STEPS)
    rates = {name: [] for name in runners}
    for round_ in range(rounds):
        for name, runner in runners.items():
            rates[name].append(steps * batch_size / runner.run(steps))
        print(f"{label}: round {round_ + 1}/{rounds} done", flush=True)
    return [paired_row(batch_size, name, values, rates[reference]) for name, values in rates.items()]


def paired_row(batch_size, name, rates, reference_rates):
    """A row: the median of `rates` (images/s per round), and the median and range over rounds of each round's rate
    over the reference's rate in that round."""
    ratios = [rate / reference for rate, reference in zip(rates, reference_rates, strict=True)]
    return {"batch": batch_size, "configuration": name, "images_per_second": round(statistics.median(rates), 1),
            "rounds": [round(rate, 1) for rate in rates], "ratio": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)]}


def render(result):
    lines = [
        "# What GAN.fit's TensorFlow step costs beside keras-io's",
        "",
        f"Produced by `{result['command']}` ({result['date']}). " + "\n\n".join(__doc__.split("\n\n")[1:3]),
        "",
        "Each configuration warmed up, then timed in interleaved rounds in one process: "
        f"{result['steps']} steps x {result['rounds']} rounds; images/s median (range over rounds); the ratio is the "
        "median over rounds of the row's images/s over keras-io's in the same round (range over rounds).",
        "",
        f"Machine: {result['machine']}; load average {result['load_before']} -> {result['load_after']}."
        + (f" {result['note']}." if result.get("note") else ""),
        "",
        "| batch | configuration | images/s | range | vs keras-io two-tape (per round) | range |",
        "|---:|---|---:|---|---:|---|",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['batch']} | {row['configuration']} | {paired_cells(row)} |")
    return "\n".join(lines) + "\n"


def paired_cells(row):
    """A `paired_row`'s table cells: images/s | its range over rounds | the ratio | the ratio's range."""
    rounds, (low, high) = row["rounds"], row["ratio_range"]
    return (f"{row['images_per_second']:.1f} | {min(rounds):.1f} - {max(rounds):.1f} | {row['ratio']:.2f}x | "
            f"{low:.2f} - {high:.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", nargs="+", type=int, default=[64])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--note", help="how the machine was shared while measuring, for the table")
    parser.add_argument("--out", help="write the JSON and table here instead of benchmarks/")
    args = parser.parse_args(argv if argv is not None else [])
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # keras-io's step is TensorFlow's (two tapes)
    result = {"command": shlex.join(["python", "-m", "benchmarks.step_costs", *(argv or [])]),
              "date": datetime.date.today().isoformat(), "machine": backends.cpu_flags(),
              "load_before": [round(x, 2) for x in os.getloadavg()], "steps": args.steps, "rounds": args.rounds,
              "note": args.note, "rows": []}
    for batch_size in args.batches:
        result["rows"] += measure(batch_size, args.steps, args.rounds)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    write(result, render(result), RESULTS, TABLE, args.out)
    return 0


def write(result, page, results, table, out=None):
    """The result as JSON at `results` and its page at `table` (both in the folder `out` instead, when given);
    the page printed as well."""
    if out:
        results, table = pathlib.Path(out) / results.name, pathlib.Path(out) / table.name
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=1) + "\n")
    table.write_text(page)
    print(page)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
