"""examples/node: onnxruntime-node draws the same grid as the Python runtime (runs where `node` is)."""

import pathlib
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "node"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="no `node` on PATH"),
    pytest.mark.skipif(
        not (EXAMPLE / "node_modules" / "onnxruntime-node").is_dir(),
        reason="onnxruntime-node is not installed: run `npm ci` in examples/node (make test does)",
    ),
]


def _sample(tmp_path, *args):
    out = tmp_path / "node.png"
    result = subprocess.run([NODE, EXAMPLE / "sample.mjs", "--out", out, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return np.asarray(Image.open(out))


@pytest.mark.parametrize("name, n", [("conditional_dcgan_digits", 30), ("dcgan_digits", 16)])
def test_node_grid_matches_python_runtime(js_example_case, tmp_path, name, n):
    noise, expected = js_example_case(name, n, seed=5)
    drawn = _sample(tmp_path, "--model", ROOT / "saved_models" / f"{name}.onnx", "--input", noise)
    assert drawn.shape == (*expected.shape, 3)
    assert (drawn == drawn[..., :1]).all()  # grey digits, drawn as RGB
    assert np.abs(drawn[..., 0].astype(int) - expected).max() <= 1


def test_node_default_grid_is_one_column_per_class(tmp_path):
    drawn = _sample(tmp_path, "--seed", "1")  # noise from the metadata's prior, seeded PRNG
    tile, pad = 8 * 8, 2 * 8  # 8x8 digits at scale 8, padding 2
    assert drawn.shape == (10 * (tile + pad) + pad, 10 * (tile + pad) + pad, 3) and drawn.std() > 20
