"""Training throughput on each Keras backend: `GAN.fit` beside the plain step each backend's Keras guide writes.

One worker process per backend (a process runs Keras on one backend), all on the same networks (the `dcgan`
preset's, Radford et al.'s widths, at 28x28x1), the same batch and Adam(2e-4, beta_1=0.5). Each worker builds and
warms up (traces, compiles) its configurations, then the orchestrator times them in rounds interleaved across the
workers, one configuration at a time, so the load of a shared machine falls on all of them alike; the table gives
medians and the range over rounds.

- TensorFlow: keras-io's DCGAN `train_step` (two tapes, D on fakes and reals concatenated) with `fit`, with and
  without XLA; `GAN.fit` with and without XLA.
- JAX: the plain step as Keras's "training loop from scratch in JAX" guide writes it (`stateless_call`,
  `jax.value_and_grad`, `optimizer.stateless_apply`, one `jax.jit`), in a Python loop, on the zoo's networks and
  (up to batch 64) on the same networks built from Keras's own Conv2DTranspose; `GAN.fit` (compiled).
- PyTorch: the GAN of Keras's "custom train_step in torch" guide (`zero_grad`, `backward`, `optimizer.apply`)
  with `fit`; `GAN.fit`.

With `--presets`, `GAN.fit` of those presets (their paper's networks at 28x28) on each backend as well, beside the
same preset on TensorFlow.

    python -m benchmarks.backends [--batches 64 256] [--steps 30] [--rounds 5] [--backends tensorflow jax torch]
                                  [--presets all | vanilla conditional ...] [--round-budget 60] [--cores 0 1]
                                  [--note "..."]
    python -m benchmarks.backends --render [--note "..."]   # benchmarks/training.md again from results/backends.json
"""

import argparse
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import threading
import time

from benchmarks import timing
from benchmarks.machine import cpu

ROOT = pathlib.Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "backends.json"
TABLE = ROOT / "training.md"  # the training-throughput page: every backend, every preset
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 100
WARM_UP_STEPS = 2
PRESET_ROW = re.compile(r"GAN\.fit \((\w+) preset\)(,? \+? ?XLA)?")
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
KERAS_LAYERS_MAX_BATCH = 64  # JAX's guide step on Keras's own Conv2DTranspose (5x slower) is timed up to this batch


# ----------------------------------------------------------------------------- the networks and the data


def preset_networks(keras_layers=False):
    """The dcgan preset's generator and discriminator (fresh copies, so every configuration has its own).
    `keras_layers`: with Keras's `Conv2DTranspose` and `Conv2D` where the zoo has its own (what a user copying a
    guide builds; they differ only in how JAX computes them, see `zoo.Conv2DTranspose`)."""
    import zoo

    gan = zoo.create("dcgan", data_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM, seed=0)
    return tuple(clone_network(model, keras_layers) for model in (gan.generator, gan.discriminator))


def clone_network(model, keras_layers=False):
    """A fresh copy of `model` (new weights); `keras_layers`: with Keras's `Conv2DTranspose` and `Conv2D` where the
    zoo has its own."""
    import keras

    import zoo

    kinds = {zoo.Conv2DTranspose: keras.layers.Conv2DTranspose, zoo.Conv2D: keras.layers.Conv2D} if keras_layers else {}
    return keras.models.clone_model(
        model, clone_function=lambda layer: kinds.get(type(layer), type(layer)).from_config(layer.get_config())
    )


def adam():
    import keras

    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def batches(batch_size, count=4):
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, (batch_size, *IMAGE_SHAPE)).astype("float32") for _ in range(count)]


def dataset(batch_size, labels=False):
    """What `fit` reads: the same 4 batches (with labels for a conditional model), repeated, as train.datasets'
    pipelines end: tf.data on TensorFlow, a Python generator of the same numpy batches on JAX and torch (as
    `ganzoo train` feeds them there; `input_pipeline` says which)."""
    import numpy as np

    images = np.concatenate(batches(batch_size))
    elements = (images, np.arange(len(images)) % 10) if labels else images
    if input_pipeline() == "tf.data":
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices(elements).batch(batch_size, drop_remainder=True)
        return data.cache().repeat().prefetch(tf.data.AUTOTUNE)
    # Tuples, (x,) or (x, y): what Keras's generator adapter takes.
    chunks = [tuple(e[i : i + batch_size] for e in (elements if labels else (elements,)))
              for i in range(0, len(images), batch_size)]

    def forever():  # a generator, which Keras's data adapters take (an itertools.cycle is not one)
        while True:
            yield from chunks

    return forever()


def input_pipeline():
    import keras

    return "tf.data" if keras.backend.backend() == "tensorflow" else "a Python generator of numpy batches"


def device_name(backend):
    """The device this worker's backend computes on, in words."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return "CPU" if device.platform == "cpu" else f"{device.device_kind} ({device.platform})"
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"


# ----------------------------------------------------------------------------- plain steps, one per backend


def _plain_dcgan(train_step):
    """A `keras.Model` with the preset's networks, two Adams and keras-io's loss, whose step is
    `train_step(model, real)`: what the TensorFlow and torch plain steps share."""
    import keras

    class PlainDCGAN(keras.Model):
        def __init__(self):
            super().__init__()
            self.generator, self.discriminator = preset_networks()
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
            self.built = True  # no call(): torch's fit would otherwise try to build the model by calling it

        def compile(self, **kwargs):
            super().compile(**kwargs)
            self.d_optimizer, self.g_optimizer = adam(), adam()
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.g_optimizer.build(self.generator.trainable_variables)

        def train_step(self, real):
            if isinstance(real, (tuple, list)):  # (x,) from a generator, unpacked as Keras's torch guide does
                real = real[0]
            return train_step(self, real)

    return PlainDCGAN()


def keras_io_dcgan():
    """keras-io's DCGAN `train_step` (TensorFlow, two tapes), on the preset's networks."""
    import keras
    import tensorflow as tf
    from keras import ops

    def train_step(self, real):
        n = ops.shape(real)[0]
        z = keras.random.uniform((n, LATENT_DIM), -1.0, 1.0, seed=self.seed_generator)
        combined = ops.concatenate([self.generator(z, training=True), real], axis=0)
        labels = ops.concatenate([ops.zeros((n, 1)), ops.ones((n, 1))], axis=0)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined, training=True))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        z = keras.random.uniform((n, LATENT_DIM), -1.0, 1.0, seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(ops.ones((n, 1)), self.discriminator(self.generator(z, training=True), training=True))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}

    return _plain_dcgan(train_step)


def torch_guide_dcgan():
    """The GAN of Keras's "custom train_step in torch" guide, on the preset's networks."""
    import keras
    import torch
    from keras import ops

    def train_step(self, real):
        n = ops.shape(real)[0]
        z = keras.random.uniform((n, LATENT_DIM), -1.0, 1.0, seed=self.seed_generator)
        combined = ops.concatenate([self.generator(z, training=True), real], axis=0)
        labels = ops.concatenate([ops.zeros((n, 1)), ops.ones((n, 1))], axis=0)
        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(combined, training=True))
        d_loss.backward()
        grads = [v.value.grad for v in self.discriminator.trainable_weights]
        with torch.no_grad():
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
        z = keras.random.uniform((n, LATENT_DIM), -1.0, 1.0, seed=self.seed_generator)
        self.zero_grad()
        g_loss = self.loss_fn(ops.ones((n, 1)), self.discriminator(self.generator(z, training=True), training=True))
        g_loss.backward()
        grads = [v.value.grad for v in self.generator.trainable_weights]
        with torch.no_grad():
            self.g_optimizer.apply(grads, self.generator.trainable_weights)
        return {"d_loss": d_loss, "g_loss": g_loss}

    return _plain_dcgan(train_step)


class JaxGuideLoop:
    """The plain JAX step of Keras's JAX guide: stateless calls, value_and_grad, stateless_apply, one jax.jit."""

    def __init__(self, batch_size, keras_layers=False):
        import jax
        import jax.numpy as jnp
        import keras

        generator, discriminator = preset_networks(keras_layers)
        d_optimizer, g_optimizer = adam(), adam()
        d_optimizer.build(discriminator.trainable_variables)
        g_optimizer.build(generator.trainable_variables)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        ones, zeros = jnp.ones((batch_size, 1)), jnp.zeros((batch_size, 1))

        def step(state, real, key):
            g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov = state
            key_d, key_g = jax.random.split(key)
            z = jax.random.uniform(key_d, (batch_size, LATENT_DIM), minval=-1.0, maxval=1.0)
            fake, g_ntv = generator.stateless_call(g_tv, g_ntv, z, training=True)
            combined = jnp.concatenate([fake, real])
            labels = jnp.concatenate([zeros, ones])

            def d_loss_fn(d_tv, d_ntv):
                logits, d_ntv = discriminator.stateless_call(d_tv, d_ntv, combined, training=True)
                return bce(labels, logits), d_ntv

            (d_loss, d_ntv), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_tv, d_ntv)
            d_tv, d_ov = d_optimizer.stateless_apply(d_ov, grads, d_tv)
            z = jax.random.uniform(key_g, (batch_size, LATENT_DIM), minval=-1.0, maxval=1.0)

            def g_loss_fn(g_tv, g_ntv, d_ntv):
                fake, g_ntv = generator.stateless_call(g_tv, g_ntv, z, training=True)
                logits, d_ntv = discriminator.stateless_call(d_tv, d_ntv, fake, training=True)
                return bce(ones, logits), (g_ntv, d_ntv)

            (g_loss, (g_ntv, d_ntv)), grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g_tv, g_ntv, d_ntv)
            g_tv, g_ov = g_optimizer.stateless_apply(g_ov, grads, g_tv)
            return (g_tv, g_ntv, d_tv, d_ntv, g_ov, d_ov), d_loss, g_loss

        values = lambda variables: [v.value for v in variables]
        self.state = (
            values(generator.trainable_variables), values(generator.non_trainable_variables),
            values(discriminator.trainable_variables), values(discriminator.non_trainable_variables),
            values(g_optimizer.variables), values(d_optimizer.variables),
        )
        self.step = jax.jit(step, donate_argnums=0)
        self.key = jax.random.key(0)
        self.batches = batches(batch_size)

    def run(self, steps):
        """Seconds the steps took."""
        import jax

        start = time.perf_counter()
        for i in range(steps):
            self.key, key = jax.random.split(self.key)
            self.state, d_loss, g_loss = self.step(self.state, self.batches[i % len(self.batches)], key)
        jax.block_until_ready((d_loss, g_loss))
        return time.perf_counter() - start


class FitRunner:
    """A keras.Model trained with `fit` for `steps` steps per call (what a user runs); `fit_options` go to every
    `fit` (e.g. `check_data=False`)."""

    def __init__(self, model, batch_size, jit_compile, **fit_options):
        import numpy as np

        self.model, self.fit_options = model, fit_options
        self.data = dataset(batch_size, labels=bool(getattr(model, "conditional", False)))
        model.compile(jit_compile=jit_compile)
        if input_pipeline() != "tf.data":  # fit cannot read a generator twice: the data-based starts, as ganzoo train
            samples = np.concatenate(batches(batch_size))
            if getattr(model, "output_bias_from_data", False):
                model.set_output_bias_from(samples)
            if hasattr(model, "initialize_from_data"):
                model.initialize_from_data(samples)

    def run(self, steps):
        """Seconds the steps took (not the call's set-up and tear-down: benchmarks/timing.py says why)."""
        return timing.fit_step_seconds(self.model, self.data, steps, **self.fit_options)


def configurations(backend, batch_size, presets=()):
    """{name: runner} for this worker's backend: the dcgan rows, then `GAN.fit` of each of `presets`."""
    import zoo

    def zoo_dcgan():
        return zoo.create("dcgan", data_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM, seed=0)

    found = _dcgan_configurations(backend, batch_size, zoo_dcgan)
    for preset in presets:
        # JAX's fit always compiles with XLA; torch's has no XLA. TensorFlow's runs with and without it.
        for xla in (False, True) if backend == "tensorflow" else (backend == "jax",):
            name = f"GAN.fit ({preset} preset)" + (" + XLA" if xla and backend == "tensorflow" else "")
            found[name] = lambda preset=preset, xla=xla: FitRunner(zoo.create(preset, data_shape=IMAGE_SHAPE, seed=0),
                                                                   batch_size, xla)
    return found


def _dcgan_configurations(backend, batch_size, zoo_dcgan):
    if backend == "tensorflow":
        return {
            "keras-io two-tape step": FitRunner(keras_io_dcgan(), batch_size, False),
            "keras-io two-tape step + XLA": FitRunner(keras_io_dcgan(), batch_size, True),
            "GAN.fit (dcgan preset)": FitRunner(zoo_dcgan(), batch_size, False),
            "GAN.fit (dcgan preset) + XLA": FitRunner(zoo_dcgan(), batch_size, True),
        }
    if backend == "jax":
        found = {
            "guide's stateless step, jax.jit": JaxGuideLoop(batch_size),
            "GAN.fit (dcgan preset), XLA": FitRunner(zoo_dcgan(), batch_size, True),
        }
        if batch_size <= KERAS_LAYERS_MAX_BATCH:
            found["guide's stateless step, jax.jit, keras.layers.Conv2DTranspose"] = JaxGuideLoop(batch_size, True)
        return found
    if backend == "torch":
        return {
            "guide's autograd step": FitRunner(torch_guide_dcgan(), batch_size, False),
            "GAN.fit (dcgan preset)": FitRunner(zoo_dcgan(), batch_size, False),
        }
    raise ValueError(f"unknown backend {backend!r}")


def worker(backend, batch_size, presets=(), core=None):
    """Build and warm up, say "ready" with the configurations' names, then time "NAME STEPS" lines. `core`: run
    on that CPU core only (set before the backend starts its threads)."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    sys.path.insert(0, str(ROOT.parent))
    runners, failed = {}, {}
    for name, runner in configurations(backend, batch_size, presets).items():
        try:  # a preset that fails here (say, under XLA) is reported in the table, not the end of the run
            runner = runner() if callable(runner) else runner
            runner.run(WARM_UP_STEPS)
            runners[name] = runner
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            failed[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    print(json.dumps({"ready": list(runners), "failed": failed, "device": device_name(backend),
                      "input": input_pipeline()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps({"seconds": runners[request["name"]].run(request["steps"])}), flush=True)


# ----------------------------------------------------------------------------- the orchestrator


def cpu_flags():
    info = cpu(("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"))
    return "" if info is None else f"{info['cpu']}, {info['logical_cores']} cores, {' '.join(info['flags'])}"


def measure(backends, batch_size, steps, rounds, presets=(), gpu=False, after_round=None, round_budget=None, core=None):
    """Rows of images/s per (backend, configuration), each with its device and input pipeline. `gpu`: leave the
    GPUs visible to the workers (by default they are hidden, for CPU figures on any machine). `after_round(rows)`
    is called with the rows so far after every round (so a long run that is stopped keeps its finished rounds).
    With a `round_budget` (seconds), a preset (not dcgan's rows, the comparisons) whose one step, timed once every
    worker is ready, says a round would take longer is reported by that step ("probed") and not timed in rounds.
    `core`: pin the workers to this CPU core, one thread each."""
    workers = {}
    for backend in backends:
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        if not gpu:
            env["CUDA_VISIBLE_DEVICES"] = ""
        if core is not None:
            env.update(ONE_THREAD)
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.backends", "--worker", backend, "--batch", str(batch_size),
             *(["--pin", str(core)] if core is not None else []), "--presets", *presets],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT.parent,
        )
        workers[backend] = process
    names, devices, unmeasured = [], {}, []  # unmeasured: the rows that failed or were only probed
    for backend, process in workers.items():  # built one after another's start: each waits for its "ready"
        ready = json.loads(_last_json_line(process))
        names += [(backend, name) for name in ready["ready"]]
        devices[backend] = {"device": ready["device"], "input": ready["input"]}
        unmeasured += [{"backend": backend, "configuration": name, "batch": batch_size, "failed": error, **devices[backend]}
                       for name, error in ready["failed"].items()]
    if round_budget:
        for backend, name in list(names):
            if _preset_of(name) not in (None, "dcgan"):
                step = _timed(workers[backend], name, 1)
                if step * steps > round_budget:
                    names.remove((backend, name))
                    unmeasured.append({"backend": backend, "configuration": name, "batch": batch_size,
                                       "probed": batch_size / step, **devices[backend]})
    seconds = {key: [] for key in names}
    for round_index in range(rounds):
        order = names[round_index % len(names):] + names[: round_index % len(names)]  # rotate who goes first
        for backend, name in order:
            seconds[(backend, name)].append(_timed(workers[backend], name, steps))
        print(f"batch {batch_size}: round {round_index + 1}/{rounds} done", file=sys.stderr, flush=True)
        if after_round:
            after_round(_rows(names, seconds, steps, batch_size, devices) + unmeasured)
    for process in workers.values():
        process.stdin.close()
        process.wait()
    return _rows(names, seconds, steps, batch_size, devices) + unmeasured


def _preset_of(configuration):
    """P of a `GAN.fit (P preset)` configuration (with or without XLA); None for the plain steps."""
    match = PRESET_ROW.fullmatch(configuration)
    return match[1] if match else None


def _preset_column(row):
    """The presets table's column of a `GAN.fit (P preset)` row: its backend, '+ XLA' for TensorFlow's XLA rows."""
    xla = PRESET_ROW.fullmatch(row["configuration"])[2] and row["backend"] == "tensorflow"
    return row["backend"] + (" + XLA" if xla else "")


def _timed(process, name, steps):
    process.stdin.write(json.dumps({"name": name, "steps": steps}) + "\n")
    process.stdin.flush()
    return json.loads(_last_json_line(process))["seconds"]


def _rows(names, seconds, steps, batch_size, devices):
    rows = []
    for backend, name in names:
        rates = [steps * batch_size / s for s in seconds[(backend, name)]]
        rows.append({"backend": backend, "configuration": name, "batch": batch_size, "median": statistics.median(rates),
                     "low": min(rates), "high": max(rates), "rounds": rates, **devices[backend]})
    return rows


def _last_json_line(process):
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("a benchmark worker stopped; run it alone to see why")
        if line.startswith("{"):
            return line


def _rounds_done(result):
    """'5 rounds', or what each batch size had where the run stopped before its planned rounds."""
    done = {}
    for row in (row for row in result["rows"] if "median" in row):
        done[row["batch"]] = min(done.get(row["batch"], len(row["rounds"])), len(row["rounds"]))
    if all(count == result["rounds"] for count in done.values()):
        return f"{result['rounds']} rounds"
    finished = ", ".join(f"batch {batch}: {count}" for batch, count in done.items())
    return f"{result['rounds']} rounds planned (the run was stopped; rounds measured: {finished})"


def render(result):
    lines = [
        "# Training throughput: every preset on every Keras backend",
        "",
        f"Produced by `{result['command']}` ({result['date']}). One worker process per backend, every configuration",
        "warmed up (traced, compiled), then timed in rounds interleaved across the workers, one configuration at a",
        f"time: {result['steps']} steps x {_rounds_done(result)}; images/s, median (range over rounds), timed from the first step's",
        "start to the end of training (not `fit`'s set-up and tear-down, whose tf.data wait `benchmarks/timing.py` describes).",
        "Networks: the `dcgan` preset's",
        "(Radford et al.'s widths at 28x28x1: G 7x7x256 -> 14x14x128 -> 28x28x1, D 128 -> 256 filters), Adam(2e-4, 0.5),",
        "the same in every dcgan row, with the zoo's `Conv2DTranspose` and `Conv2D` (Keras's, computed faster on JAX;",
        "the row `keras.layers.Conv2DTranspose` has Keras's own layers). The plain steps are each backend's Keras guide",
        "(see `benchmarks/backends.py`).",
        "Rows `GAN.fit (P preset)` train preset P's own networks (its paper's, at 28x28): compare them across backends.",
        "",
        f"Machine: {result['machine']}; load average {result['load_before']} -> {result['load_after']}. "
        + ("GPUs visible to the workers" if result.get("gpu") else "CPU only (GPUs hidden)")
        + "; each row names the device its backend computed on. Compare ratios within this table."
        + (" The batch sizes were measured at the same time, each on its own core ("
           + ", ".join(f"batch {batch}: core {core}" for batch, core in result["cores"].items())
           + "), its workers pinned there with one thread each: one-core figures." if result.get("cores") else "")
        + (f" {result['note']}" if result.get("note") else ""),
        "",
        "| backend | device | batch | configuration | images/s | range | vs this backend's plain step "
        "| vs keras-io two-tape (TF) | vs the same on TensorFlow |",
        "|---|---|---:|---|---:|---|---:|---:|---:|",
    ]
    rows = [row for row in result["rows"] if "median" in row]

    def ratio(row, other):
        return f"{row['median'] / other['median']:.2f}x" if other else "-"

    def find(batch, backend=None, configuration=None, test=None):
        return next((r for r in rows if r["batch"] == batch and (backend is None or r["backend"] == backend)
                     and (configuration is None or r["configuration"] == configuration) and (test is None or test(r))), None)

    unmeasured = [row for row in result["rows"] if "median" not in row]
    presets = {}  # preset -> {(batch, column): row}, for the presets' own table below
    for row in rows + unmeasured:
        if preset := _preset_of(row["configuration"]):
            presets.setdefault(preset, {})[(row["batch"], _preset_column(row))] = row
    for row in rows:
        if _preset_of(row["configuration"]) not in (None, "dcgan"):
            continue  # in the presets' table only
        plain = find(row["batch"], row["backend"], test=lambda r: "guide" in r["configuration"]
                     or r["configuration"] == "keras-io two-tape step")
        keras_io = find(row["batch"], configuration="keras-io two-tape step")
        same_on_tf = None
        if row["backend"] != "tensorflow":
            name = row["configuration"].replace(", XLA", "")
            same_on_tf = find(row["batch"], "tensorflow", name if "GAN.fit" in name else "keras-io two-tape step")
        lines.append(
            f"| {row['backend']} | {row.get('device', 'CPU')} | {row['batch']} | {row['configuration']} | {row['median']:.1f} | "
            f"{row['low']:.1f} - {row['high']:.1f} | {ratio(row, plain)} | {ratio(row, keras_io)} | {ratio(row, same_on_tf)} |"
        )
    for row in unmeasured:
        if "failed" in row:
            lines.append(f"| {row['backend']} | {row.get('device', 'CPU')} | {row['batch']} | {row['configuration']} | failed | "
                         f"{row['failed']} | - | - | - |")
        elif _preset_of(row["configuration"]) in (None, "dcgan"):
            lines.append(f"| {row['backend']} | {row.get('device', 'CPU')} | {row['batch']} | {row['configuration']} | "
                         f"~{row['probed']:.1f} | one step (over the round budget) | - | - | - |")
    if len(presets) > 1:
        lines += _presets_table(presets)
    return "\n".join(lines) + "\n"


def _presets_table(presets):
    """Each preset's `GAN.fit` (its paper's networks at 28x28) on every backend, images/s at each batch size."""
    columns = [c for c in ("tensorflow", "tensorflow + XLA", "jax", "torch")
               if any(column == c for cells in presets.values() for _, column in cells)]
    batches = sorted({batch for cells in presets.values() for batch, _ in cells})
    lines = [
        "",
        "## Every preset on every backend",
        "",
        "`GAN.fit` of each preset with its defaults (its paper's networks, k, losses and stabilisers; the batch here),",
        "images/s, median over the same interleaved rounds as above (the dcgan column repeats the rows above). JAX's",
        "`fit` always compiles with XLA; torch's has no XLA. Fastest backend in bold; ~N: one step after warm-up, where",
        "a round's steps would have taken longer than the run's round budget (not timed in rounds). Where TensorFlow +",
        "XLA is several times slower than TensorFlow without it, the cost is XLA:CPU's convolutions on small feature",
        "maps (docs/backends.md, \"JAX on a CPU\"); on JAX the zoo's `Conv2D` and `Conv2DTranspose` compute those",
        "another way (benchmarks/jax_convolutions.md measures each preset they change with Keras's layers and the zoo's).",
        "",
        "| preset | batch | " + " | ".join(columns) + " |",
        "|---|---:|" + "---:|" * len(columns),
    ]
    for preset, cells in presets.items():
        for batch in batches:
            found = {column: cells.get((batch, column)) for column in columns}
            if not any(found.values()):
                continue
            best = max((row["median"] for row in found.values() if row and "median" in row), default=None)
            text = ["-" if row is None else "failed" if "failed" in row else f"~{row['probed']:.1f}" if "probed" in row else
                    (f"**{row['median']:.1f}**" if row["median"] == best else f"{row['median']:.1f}") for row in found.values()]
            lines.append(f"| `{preset}` | {batch} | " + " | ".join(text) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--batches", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--presets", nargs="*", default=["all"], help="GAN.fit of these presets too, on every backend "
                        "('all': every preset; none: only the dcgan rows)")
    parser.add_argument("--gpu", action="store_true", help="let the workers use the GPUs (default: CPU only)")
    parser.add_argument("--out", help="write the JSON and table here instead of benchmarks/ (e.g. $OUT on a GPU "
                        "machine)")
    parser.add_argument("--note", help="how the machine was shared while measuring (e.g. pinned to one core), for the table")
    parser.add_argument("--render", action="store_true", help="only redraw the table from the JSON (with --note: set it)")
    parser.add_argument("--round-budget", type=float, default=60.0, help="seconds: a preset (not the dcgan rows) slower than this for a "
                        "round's steps (by one timed step after warm-up) is reported by that step instead of timed in rounds")
    parser.add_argument("--cores", nargs="+", type=int, help="measure the batch sizes at the same time, the i-th on "
                        "the i-th of these cores (its workers pinned there, one thread each); default: one after another")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--pin", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])  # `make bench` calls main()
    if args.worker:
        return worker(args.worker, args.batch, args.presets, args.pin)
    results, table = (RESULTS, TABLE) if not args.out else (pathlib.Path(args.out) / RESULTS.name, pathlib.Path(args.out) / TABLE.name)
    if args.render:
        result = json.loads(results.read_text())
        result["note"] = args.note if args.note is not None else result.get("note")
    else:
        result = measured(args, argv, after_round=lambda partial: _write(partial, results, table))
    _write(result, results, table)
    print(render(result))
    return 0


def _write(result, results, table):
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=1) + "\n")
    table.write_text(render(result))


def measured(args, argv, after_round=None):
    """The result of one run: every backend's rows at every batch size, with the run's command, date, machine and
    load. `after_round(partial result)` after every round, with the rows so far."""
    load_before = [round(x, 2) for x in os.getloadavg()]
    presets = zoo_presets() if args.presets == ["all"] else args.presets

    def result(rows):
        return {
            "command": " ".join(["python -m benchmarks.backends", *(argv or [])]).strip(),
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()} {cpu_flags()}",
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "steps": args.steps,
            "rounds": args.rounds,
            "gpu": args.gpu,
            "note": args.note,
            "round_budget": args.round_budget,
            "cores": {str(batch_size): core for batch_size, core in zip(args.batches, args.cores)} if args.cores else None,
            "rows": rows,
        }

    if args.cores and len(args.cores) < len(args.batches):
        raise SystemExit(f"--cores needs a core for each of the {len(args.batches)} batch sizes, got {args.cores}.")
    rows_by_batch = {batch_size: [] for batch_size in args.batches}
    lock = threading.Lock()

    def rows_so_far():
        return [row for batch_size in args.batches for row in rows_by_batch[batch_size]]

    def report(batch_size, rows):
        with lock:
            rows_by_batch[batch_size] = rows
            if after_round:
                after_round(result(rows_so_far()))

    def run(batch_size, core=None):
        rows = measure(args.backends, batch_size, args.steps, args.rounds, presets, args.gpu,
                       lambda partial: report(batch_size, partial), args.round_budget, core)
        report(batch_size, rows)

    if args.cores:  # one run: every batch size at the same time, on its own core, so all see the same load
        threads = [threading.Thread(target=run, args=(batch_size, core)) for batch_size, core in zip(args.batches, args.cores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for batch_size in args.batches:
            run(batch_size)
    return result(rows_so_far())


def zoo_presets():
    """Every preset but dcgan (whose rows are the comparisons with the plain steps)."""
    sys.path.insert(0, str(ROOT.parent))
    import zoo

    return [preset for preset in zoo.available() if preset != "dcgan"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
