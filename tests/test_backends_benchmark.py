"""The backends benchmark's table: each dcgan row against its own backend's plain step and keras-io's step, and
every row against the same configuration on TensorFlow."""

import argparse
import threading

from benchmarks import backends


def _row(backend, configuration, median):
    return {"backend": backend, "configuration": configuration, "batch": 64, "median": median, "low": median - 1,
            "high": median + 1, "rounds": [median] * 5, "device": "NVIDIA H200 (gpu)" if backend == "jax" else "CPU"}


def test_table_gives_each_row_against_its_backends_plain_step_and_keras_io():
    result = {
        "command": "python -m benchmarks.backends", "date": "2026-12-03", "machine": "x86_64 test", "load_before": [0, 0, 0],
        "load_after": [0, 0, 0], "steps": 30, "rounds": 5, "note": "Every worker pinned to core 0.",
        "rows": [
            _row("tensorflow", "keras-io two-tape step", 100.0),
            _row("tensorflow", "GAN.fit (dcgan preset)", 150.0),
            _row("jax", "guide's stateless step, jax.jit", 40.0),
            _row("jax", "GAN.fit (dcgan preset), XLA", 50.0),
            _row("torch", "guide's autograd step", 80.0),
            _row("torch", "GAN.fit (dcgan preset)", 60.0),
            _row("tensorflow", "GAN.fit (vanilla preset)", 1000.0),
            _row("jax", "GAN.fit (vanilla preset)", 500.0),
        ],
    }
    table = backends.render(result)
    # Keyed by backend, batch and configuration (the device column aside).
    lines = {tuple(line.split(" | ")[i] for i in (0, 2, 3)): line for line in table.splitlines()
             if line.startswith("| ") and "---" not in line}
    assert lines[("| jax", "64", "GAN.fit (dcgan preset), XLA")].endswith("| 1.25x | 0.50x | 0.33x |")
    assert lines[("| jax", "64", "guide's stateless step, jax.jit")].endswith("| 1.00x | 0.40x | 0.40x |")
    assert lines[("| torch", "64", "GAN.fit (dcgan preset)")] == "| torch | CPU | 64 | GAN.fit (dcgan preset) | 60.0 | 59.0 - 61.0 | 0.75x | 0.60x | 0.40x |"
    assert lines[("| jax", "64", "GAN.fit (dcgan preset), XLA")].startswith("| jax | NVIDIA H200 (gpu) | 64 |")
    assert lines[("| tensorflow", "64", "GAN.fit (dcgan preset)")].endswith("| 1.50x | 1.50x | - |")
    # Every preset, dcgan included, in a table of its own: a column per backend, the fastest in bold.
    assert "| `vanilla` | 64 | **1000.0** | 500.0 | - |" in table
    assert "| `dcgan` | 64 | 150.0 | 50.0 | 60.0 |" in table.replace("**", "")
    assert not any(key[2] == "GAN.fit (vanilla preset)" for key in lines)
    assert "30 steps x 5 rounds;" in table
    assert "Compare ratios within this table. Every worker pinned to core 0." in table


def test_table_lists_failed_and_probed_configurations_and_says_when_a_run_stopped_early():
    result = {
        "command": "python -m benchmarks.backends", "date": "2026-12-06", "machine": "x86_64 test", "load_before": [0, 0, 0],
        "load_after": [0, 0, 0], "steps": 30, "rounds": 5, "note": None,
        "rows": [
            _row("tensorflow", "keras-io two-tape step", 100.0),
            {**_row("tensorflow", "GAN.fit (dcgan preset)", 150.0), "rounds": [150.0, 151.0, 149.0]},
            {"backend": "tensorflow", "configuration": "GAN.fit (wgan preset) + XLA", "batch": 64, "device": "CPU",
             "failed": "InvalidArgumentError: no XLA kernel"},
            _row("tensorflow", "GAN.fit (wgan preset)", 30.0),
            {"backend": "jax", "configuration": "GAN.fit (wgan preset)", "batch": 64, "device": "CPU", "probed": 2.5},
        ],
    }
    table = backends.render(result)
    assert "| tensorflow | CPU | 64 | GAN.fit (wgan preset) + XLA | failed | InvalidArgumentError: no XLA kernel |" in table
    assert "5 rounds planned (the run was stopped; rounds measured: batch 64: 3)" in table
    # Too slow for the round budget: its one step after warm-up, marked as such.
    assert "| `wgan` | 64 | **30.0** | failed | ~2.5 |" in table


def test_one_run_measures_each_batch_size_at_the_same_time_on_its_own_core(monkeypatch):
    both_started = threading.Barrier(2, timeout=10)  # each batch waits for the other: they run at the same time
    calls, reports = [], []

    def fake_measure(backends_, batch_size, steps, rounds, presets, gpu, after_round, round_budget, core):
        calls.append((batch_size, core, tuple(presets), round_budget))
        both_started.wait()
        rows = [{**_row("tensorflow", "keras-io two-tape step", float(batch_size)), "batch": batch_size}]
        after_round(rows)  # as after each round: the table so far holds every batch size's rows
        return rows

    monkeypatch.setattr(backends, "measure", fake_measure)
    monkeypatch.setattr(backends, "cpu_flags", lambda: "test")
    argv = ["--batches", "64", "256", "--cores", "0", "1", "--presets", "vanilla"]
    result = backends.measured(argparse.Namespace(
        backends=["tensorflow"], batches=[64, 256], steps=30, rounds=5, presets=["vanilla"], gpu=False, note=None,
        round_budget=60.0, cores=[0, 1]), argv, after_round=lambda partial: reports.append(partial))
    assert sorted(calls) == [(64, 0, ("vanilla",), 60.0), (256, 1, ("vanilla",), 60.0)]
    assert [row["batch"] for row in result["rows"]] == [64, 256]  # in the command's order, whichever finished first
    assert result["cores"] == {"64": 0, "256": 1}
    assert "each on its own core (batch 64: core 0, batch 256: core 1)" in backends.render(result)
    assert len(reports) == 4 and [row["batch"] for row in reports[-1]["rows"]] == [64, 256]


def test_without_tensorflow_fit_reads_the_same_batches_from_a_generator(monkeypatch):
    """On a machine with JAX or torch alone the workers feed `fit` a Python generator of the same 4 batches."""
    import numpy as np

    monkeypatch.setattr(backends, "input_pipeline", lambda: "a Python generator of numpy batches")
    data = backends.dataset(8, labels=True)
    first = [next(data) for _ in range(5)]
    expected = backends.batches(8)
    for got, want in zip(first, [*expected, expected[0]]):
        np.testing.assert_array_equal(got[0], want)
        assert got[1].shape == (8,)
    assert backends.device_name("tensorflow") == "CPU"  # this machine has no GPU
    # fit takes the generator: the plain step, and presets that start from the data (G's output bias, D's
    # weight-normalised layers), which cannot read a generator twice.
    import zoo

    for model in (backends.keras_io_dcgan(), zoo.create("vanilla", data_shape=backends.IMAGE_SHAPE, seed=0),
                  zoo.create("minibatch", data_shape=backends.IMAGE_SHAPE, seed=0)):
        assert backends.FitRunner(model, 8, jit_compile=False).run(2) > 0


def test_fit_step_seconds_times_the_steps_not_the_calls_set_up_and_tear_down():
    """The clock runs from the first step's start to the end of training: a slow start (before the first step) and a
    slow tear-down (after training ends) are left out, as the tf.data iterator's wait is (benchmarks/timing.py)."""
    import time

    import keras
    import numpy as np

    from benchmarks import timing

    class Sleeper(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, *args):  # (data), or (state, data) on JAX
            time.sleep(0.05)
            return ({"loss": 0.0}, args[0]) if keras.backend.backend() == "jax" else {"loss": 0.0}

    class SlowEnds(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            time.sleep(0.3)

    model = Sleeper()
    model.build((None, 2))
    model.compile(optimizer="sgd", run_eagerly=True)  # the sleep runs in every step, not once while tracing
    data = np.zeros((64, 2), "float32")
    original_fit = model.fit

    def fit_with_slow_ends(*args, callbacks=(), **kwargs):
        history = original_fit(*args, callbacks=[SlowEnds(), *callbacks], **kwargs)
        time.sleep(0.3)  # as the iterator's deletion can, after training has ended
        return history

    model.fit = fit_with_slow_ends
    start = time.perf_counter()
    seconds = timing.fit_step_seconds(model, data, steps=4, batch_size=8)
    whole_call = time.perf_counter() - start
    assert 0.2 <= seconds < 0.4
    assert whole_call - seconds >= 0.6


def test_step_costs_pair_each_round_with_keras_ios_round():
    """Worked by hand: rates 100, 90, 120 against keras-io's 100, 100, 100 give per-round ratios 1.0, 0.9, 1.2, median
    1.0; and 90, 100, 45 against 100, 50, 50 give 0.9, 2.0, 0.9, median 0.9, where the rates' medians (90 / 50) would
    say 1.8: each round is compared with keras-io's same round."""
    from benchmarks.step_costs import paired_row

    row = paired_row(64, "GAN.fit", [100.0, 90.0, 120.0], [100.0, 100.0, 100.0])
    assert row == {"batch": 64, "configuration": "GAN.fit", "images_per_second": 100.0, "rounds": [100.0, 90.0, 120.0],
                   "ratio": 1.0, "ratio_range": [0.9, 1.2]}
    assert paired_row(64, "x", [90.0, 100.0, 45.0], [100.0, 50.0, 50.0])["ratio"] == 0.9  # not median / median = 1.8


def test_paired_rounds_warm_up_then_interleave_and_pair_with_the_reference():
    """Fake runners that take fixed seconds per round: each is warmed up once, then timed once a round in the given
    order, and its rows are paired with the reference's rounds (32 steps x 64 images / 2 s = 1024 images/s)."""
    from benchmarks import backends, step_costs

    calls = []

    class Runner:
        def __init__(self, name, seconds):
            self.name, self.seconds = name, iter(seconds)

        def run(self, steps):
            calls.append((self.name, steps))
            return next(self.seconds) if steps != backends.WARM_UP_STEPS else 0.0

    runners = {"reference": Runner("reference", [2.0, 2.0, 4.0]), "other": Runner("other", [1.0, 4.0, 1.0])}
    rows = step_costs.paired_rounds(runners, 64, 32, 3, "reference", "test")
    warm = backends.WARM_UP_STEPS
    assert calls == [("reference", warm), ("other", warm)] + [("reference", 32), ("other", 32)] * 3
    assert rows[0]["rounds"] == [1024.0, 1024.0, 512.0] and rows[0]["ratio"] == 1.0
    assert rows[1]["rounds"] == [2048.0, 512.0, 2048.0]
    assert rows[1]["ratio"] == 2.0 and rows[1]["ratio_range"] == [0.5, 4.0]
