"""The backends benchmark's table: each row against its own backend's plain step and against keras-io's step."""

from benchmarks import backends


def _row(backend, configuration, median):
    return {"backend": backend, "configuration": configuration, "batch": 64, "median": median, "low": median - 1,
            "high": median + 1, "rounds": [median]}


def test_table_gives_each_row_against_its_backends_plain_step_and_keras_io():
    result = {
        "command": "python -m benchmarks.backends", "date": "2026-12-03", "machine": "x86_64 test", "load_before": [0, 0, 0],
        "load_after": [0, 0, 0], "steps": 30, "rounds": 5,
        "rows": [
            _row("tensorflow", "keras-io two-tape step", 100.0),
            _row("tensorflow", "GAN.fit (dcgan preset)", 150.0),
            _row("jax", "guide's stateless step, jax.jit", 40.0),
            _row("jax", "GAN.fit (dcgan preset), XLA", 50.0),
            _row("torch", "guide's autograd step", 80.0),
            _row("torch", "GAN.fit (dcgan preset)", 60.0),
        ],
    }
    lines = {line.split(" | ")[2]: line for line in backends.render(result).splitlines() if line.startswith("| ") and "---" not in line}
    assert lines["GAN.fit (dcgan preset), XLA"].endswith("| 1.25x | 0.50x |")
    assert lines["guide's stateless step, jax.jit"].endswith("| 1.00x | 0.40x |")
    assert "| torch | 64 | GAN.fit (dcgan preset) | 60.0 | 59.0 - 61.0 | 0.75x | 0.60x |" in backends.render(result)
    assert "30 steps x 5 rounds" in backends.render(result)
