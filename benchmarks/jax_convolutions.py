"""What the zoo's Conv2D and Conv2DTranspose save on JAX's CPU, beside Keras's own layers.

XLA:CPU computes two kinds of convolution at a tenth or less of the rate of the others: the kernel gradient of a
strided transposed convolution, and a transposed convolution (an lhs-dilated one) whose kernel is larger than the map
it reads: a 4x4 map under a 5x5 kernel, in WGAN-GP's generator going 4x4 -> 8x8 and in its critic's input gradient
going 4x4 -> 7x7, and AC-GAN's generator going 3x3 -> 7x7. The zoo's layers compute the same sums another way
(`zoo.Conv2DTranspose`, `zoo.Conv2D`: the adjoint's kernel gradient; the transposed convolution written out tap by
tap where the kernel is larger than the map); on TensorFlow and torch they are Keras's layers.

Two tables, on JAX (CPU), each configuration warmed up, then timed in interleaved rounds in one process:

- Layers: at the shapes of the presets' networks, batch 64, Keras's layer and the zoo's with the same weights:
  forward, input gradient and kernel gradient (each its own `jax.jit`; a gradient's time includes its forward
  pass), ms per call, median over rounds.
- Presets: `GAN.fit` of a preset with its networks' convolutions as Keras's layers and as the zoo's (otherwise the
  same model and weights), images/s; the ratio is the median over rounds of the zoo's images/s over Keras's in the
  same round (paired, as benchmarks/step_costs.py pairs them).

Each run stores its rows under its presets in results/jax_convolutions.json and the page shows every stored row with
the run it came from; compare within a row, not across runs.

    python -m benchmarks.jax_convolutions [--presets acgan wgan wgan_gp] [--batch 64] [--steps 30] [--rounds 5]
                                          [--skip-layers] [--core N] [--note "..."]
"""

import argparse
import datetime
import json
import os
import pathlib
import shlex
import statistics
import subprocess
import sys
import time

from benchmarks import backends, step_costs

ROOT = pathlib.Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "jax_convolutions.json"
TABLE = ROOT / "jax_convolutions.md"
KERAS_LAYERS = "Keras's Conv2D / Conv2DTranspose"  # the reference configuration of a preset's rows
LAYER_BATCH = 64
LAYER_REPEATS = 5  # calls per timing of a layer's part
# (kind, input shape without the batch, arguments): the presets' convolutions where the tap-by-tap form applies, and
# two of the dcgan preset's kinds, where it does not (the zoo's transposed convolution still takes its kernel gradient
# its own way).
LAYERS = [
    ("Conv2DTranspose", (3, 3, 384), dict(filters=192, kernel_size=5, strides=1, padding="valid")),  # acgan G
    ("Conv2DTranspose", (4, 4, 256), dict(filters=128, kernel_size=5, strides=2, padding="same")),  # wgan(_gp) G
    ("Conv2DTranspose", (7, 7, 128), dict(filters=64, kernel_size=5, strides=2, padding="same")),  # wgan(_gp) G
    ("Conv2DTranspose", (7, 7, 256), dict(filters=128, kernel_size=5, strides=2, padding="same")),  # dcgan G
    ("Conv2D", (14, 14, 64), dict(filters=128, kernel_size=5, strides=2, padding="same")),  # wgan(_gp), dcgan D
    ("Conv2D", (7, 7, 128), dict(filters=256, kernel_size=5, strides=2, padding="same")),  # wgan(_gp) D: 7x7 -> 4x4
]


def keras_layers_model(gan):
    """`gan` again, its networks' zoo Conv2D and Conv2DTranspose replaced by Keras's, with the same weights."""
    import keras

    config = gan.get_config()
    for network in ("generator", "discriminator"):
        config[network] = keras.saving.serialize_keras_object(
            backends.clone_network(getattr(gan, network), keras_layers=True)
        )
    twin = type(gan).from_config(config)
    twin.generator.set_weights(gan.generator.get_weights())
    twin.discriminator.set_weights(gan.discriminator.get_weights())
    return twin


def preset_rows(preset, batch_size, steps, rounds):
    """The preset's `GAN.fit` with Keras's layers and with the zoo's, timed in paired rounds."""
    import zoo

    gan = zoo.create(preset, data_shape=backends.IMAGE_SHAPE, seed=0)
    runners = {KERAS_LAYERS: backends.FitRunner(keras_layers_model(gan), batch_size, True),
               "zoo.Conv2D / zoo.Conv2DTranspose": backends.FitRunner(gan, batch_size, True)}
    rows = step_costs.paired_rounds(runners, batch_size, steps, rounds, KERAS_LAYERS, preset)
    return [{**row, "preset": preset} for row in rows]


def layer_rows(rounds, repeats=None):
    """Forward, input-gradient and kernel-gradient ms of each of LAYERS, Keras's layer and the zoo's."""
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    import zoo

    repeats = repeats or LAYER_REPEATS

    def timed(function, *arguments):
        jax.block_until_ready(function(*arguments))
        start = time.perf_counter()
        for _ in range(repeats):
            jax.block_until_ready(function(*arguments))
        return 1000 * (time.perf_counter() - start) / repeats

    rows = []
    for kind, shape, arguments in LAYERS:
        x = jnp.asarray(np.random.default_rng(0).normal(size=(LAYER_BATCH, *shape)).astype("float32"))
        ours = getattr(zoo, kind)(**arguments)
        ours.build(x.shape)
        theirs = getattr(keras.layers, kind)(**arguments)
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        parts = {}
        for who, layer in (("keras", theirs), ("zoo", ours)):
            def forward(kernel, x, layer=layer):  # the kernel as an argument, so that its gradient can be taken
                return layer.stateless_call([kernel, *[v.value for v in layer.trainable_variables[1:]]], [], x)[0]

            def loss(kernel, x, forward=forward):
                return jnp.sum(jnp.sin(forward(kernel, x)))

            parts[who] = {"forward": jax.jit(forward), "input gradient": jax.jit(jax.grad(loss, 1)),
                          "kernel gradient": jax.jit(jax.grad(loss, 0))}
        times = {(who, part): [] for who in parts for part in parts[who]}
        for _ in range(rounds):
            for who, functions in parts.items():
                for part, function in functions.items():
                    times[who, part].append(timed(function, ours.kernel.value, x))
        output = theirs.compute_output_shape(x.shape)[1:]
        rows.append({"layer": kind, "input": list(shape), "output": list(output),
                     "kernel_size": arguments["kernel_size"], "strides": arguments["strides"],
                     "ms": {f"{who} {part}": round(statistics.median(values), 1)
                            for (who, part), values in times.items()}})
        print(f"{kind} {shape}: done", flush=True)
    return rows


def commit():
    """The checkout's commit (short), for the page: which code a run measured; None outside a git checkout."""
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or None


def described(run):
    """A run's command, commit (where recorded) and date, for the page."""
    return f"`{run['command']}`" + (f" at {run['commit']}" if run.get("commit") else "") + f" ({run['date']})"


def machine(run):
    """A run's machine, load and note, for the page."""
    return (f"Machine: {run['machine']}; load average {run['load_before']} -> {run['load_after']}."
            + (f" {run['note']}." if run.get("note") else ""))


def render(result):
    lines = [
        "# The zoo's Conv2D and Conv2DTranspose on JAX's CPU, beside Keras's own layers",
        "",
        "\n\n".join(__doc__.split("\n\n")[1:4]),
        "",
    ]
    layers = result.get("layers")
    if layers:
        run = layers["run"]
        lines += [
            "## Layers",
            "",
            f"{described(run)}, {run['rounds']} rounds of {layers['repeats']} calls, batch {LAYER_BATCH}. "
            + machine(run),
            "",
            "| layer | map | kernel, stride | forward: Keras / zoo (ms) | input gradient | kernel gradient |",
            "|---|---|---|---:|---:|---:|",
        ]
        for row in layers["rows"]:
            ms = row["ms"]
            cells = " | ".join(f"{ms['keras ' + part]:.1f} / {ms['zoo ' + part]:.1f}"
                               for part in ("forward", "input gradient", "kernel gradient"))
            shape = lambda s: "x".join(map(str, s))
            lines.append(f"| {row['layer']} | {shape(row['input'])} -> {shape(row['output'])} | "
                         f"{row['kernel_size']}x{row['kernel_size']}, {row['strides']} | {cells} |")
        lines.append("")
    presets = result.get("presets", {})
    if presets:
        lines += [
            "## Presets",
            "",
            "| preset | batch | convolutions | images/s | range | vs Keras's layers (per round) | range | run |",
            "|---|---:|---|---:|---|---:|---|---|",
        ]
        runs = []
        for preset, entry in sorted(presets.items()):
            if entry["run"] not in runs:
                runs.append(entry["run"])
            for row in entry["rows"]:
                lines.append(f"| `{preset}` | {row['batch']} | {row['configuration']} | "
                             f"{step_costs.paired_cells(row)} | {runs.index(entry['run']) + 1} |")
        lines.append("")
        for number, run in enumerate(runs, 1):
            lines.append(f"Run {number}: {described(run)}, {run['steps']} steps x {run['rounds']} rounds. "
                         + machine(run))
            lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=["acgan", "wgan", "wgan_gp"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-layers", action="store_true", help="only the presets, not the layers table")
    parser.add_argument("--core", type=int, help="run on this CPU core only, one thread")
    parser.add_argument("--note", help="how the machine was shared while measuring, for the table")
    parser.add_argument("--out", help="write the JSON and table here instead of benchmarks/")
    parser.add_argument("--render", action="store_true", help="only redraw the page from the JSON")
    args = parser.parse_args(argv if argv is not None else [])
    results = pathlib.Path(args.out) / RESULTS.name if args.out else RESULTS
    measured, layers = {}, None
    if not args.render:
        if args.core is not None:
            os.sched_setaffinity(0, {args.core})
            os.environ.update(backends.ONE_THREAD)
        os.environ["KERAS_BACKEND"] = "jax"  # what these layers change; before Keras is imported
        run = {"command": shlex.join(["python", "-m", "benchmarks.jax_convolutions", *(argv or [])]),
               "commit": commit(), "date": datetime.date.today().isoformat(), "machine": backends.cpu_flags(),
               "load_before": [round(x, 2) for x in os.getloadavg()], "steps": args.steps, "rounds": args.rounds,
               "note": args.note}
        measured = {preset: preset_rows(preset, args.batch, args.steps, args.rounds) for preset in args.presets}
        layers = None if args.skip_layers else layer_rows(args.rounds)
        run["load_after"] = [round(x, 2) for x in os.getloadavg()]
    # Read now, not before measuring: a run of other presets may have stored its rows meanwhile.
    result = json.loads(results.read_text()) if results.exists() else {}
    for preset, rows in measured.items():
        result.setdefault("presets", {})[preset] = {"run": run, "rows": rows}
    if layers is not None:
        result["layers"] = {"run": run, "repeats": LAYER_REPEATS, "rows": layers}
    step_costs.write(result, render(result), RESULTS, TABLE, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
