"""The TensorFlow-free install, as a serving user makes it: the wheel with `[serve]` in a fresh venv.

Builds the project's wheel, installs it with its serving dependencies only (wheels cached in
$GANZOO_CACHE/wheels, default ~/.cache/ganzoo/wheels, so later runs need no network), and checks
that nothing of the training stack came along, `pip check` passes, `ganzoo sample` draws what the
runtime here draws, and the training commands say in one line what they need.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from export import GeneratorSession, save_grid

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAVED = ROOT / "saved_models"
CACHE = pathlib.Path(os.environ.get("GANZOO_CACHE", "~/.cache/ganzoo")).expanduser() / "wheels"
TRAINING_ONLY = ("tensorflow", "keras", "onnx", "tf2onnx", "scipy", "sklearn", "matplotlib")
TRAINING_COMMANDS = {
    "train": ["train", "dcgan", "--epochs", "1"],
    "list": ["list"],
    "demo": ["demo", "--epochs", "1"],
    "export": ["export", str(SAVED / "dcgan_digits.keras"), "--out", "x.onnx"],
    "evaluate": ["evaluate", str(SAVED / "dcgan_digits.onnx"), "--dataset", "digits"],
}


def _run(command, cwd, check=True, timeout=300):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode:
        raise AssertionError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def serve_venv(tmp_path_factory):
    """A fresh venv holding only the gan-zoo wheel and its [serve] dependencies; yields its bin folder."""
    tmp = tmp_path_factory.mktemp("install")
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", ROOT], tmp, check=False)
    if build.returncode:
        pytest.skip(f"cannot build the wheel (PyPI unreachable for the build backend?): {build.stderr.strip()[-300:]}")
    (wheel,) = (tmp / "dist").glob("gan_zoo-*.whl")
    # No pip inside (ensurepip costs seconds): this environment's pip installs into it with --python.
    _run([sys.executable, "-m", "venv", "--without-pip", tmp / "venv"], tmp)
    pip = [sys.executable, "-m", "pip", "--python", tmp / "venv" / "bin" / "python", "--disable-pip-version-check", "-q"]
    requirement = f"{wheel}[serve]"
    offline = [*pip, "install", "--no-compile", "--no-index", "--find-links", CACHE, requirement]
    if _run(offline, tmp, check=False).returncode:
        CACHE.mkdir(parents=True, exist_ok=True)
        download = _run([*pip, "download", "-d", CACHE, requirement], tmp, check=False)
        if download.returncode:
            pytest.skip(f"PyPI is unreachable, cannot fetch the serving dependencies: {download.stderr.strip()[-300:]}")
        _run(offline, tmp)
    return tmp / "venv" / "bin"


def test_serve_install_has_no_training_stack(serve_venv, tmp_path):
    probe = "import importlib.util as u; print(' '.join(m for m in %r if u.find_spec(m)))" % (TRAINING_ONLY,)
    assert _run([serve_venv / "python", "-c", probe], tmp_path).stdout.strip() == ""
    _run([sys.executable, "-m", "pip", "--python", serve_venv / "python", "check"], tmp_path)
    location = _run([serve_venv / "python", "-c", "import export; print(export.__file__)"], tmp_path).stdout
    assert "site-packages" in location  # the installed wheel, not this checkout


@pytest.mark.parametrize("name, label", [("dcgan_digits", None), ("conditional_dcgan_digits", "7")])
def test_serve_install_samples_like_the_runtime_here(serve_venv, tmp_path, name, label):
    model = SAVED / f"{name}.onnx"
    command = [serve_venv / "ganzoo", "sample", model, "--n", "16", "--seed", "3", "--out", tmp_path / "venv.png"]
    printed = _run(command + (["--label", label] if label else []), tmp_path).stdout
    assert "wrote" in printed and "CPUExecutionProvider" in printed
    images = GeneratorSession(model).generate(16, labels=None if label is None else int(label), seed=3)
    reference = np.asarray(Image.open(save_grid(images, tmp_path / "here.png")), np.int16)
    drawn = np.asarray(Image.open(tmp_path / "venv.png"), np.int16)
    assert drawn.shape == reference.shape and np.abs(drawn - reference).max() <= 1


def test_serve_install_finds_pretrained_models_by_name(serve_venv, tmp_path):
    probe = "from export import GeneratorSession as S; print(S.from_pretrained('conditional_mnist').path)"
    assert "site-packages" in _run([serve_venv / "python", "-c", probe], tmp_path).stdout  # shipped in the wheel
    command = [serve_venv / "ganzoo", "sample", "conditional_mnist", "--label", "7", "--n", "16", "--seed", "3"]
    _run(command + ["--out", tmp_path / "venv.png"], tmp_path)
    session = GeneratorSession.from_pretrained("conditional_mnist")
    reference = np.asarray(Image.open(save_grid(session.generate_images(16, labels=7, seed=3), tmp_path / "here.png")))
    drawn = np.asarray(Image.open(tmp_path / "venv.png"))
    assert np.abs(drawn.astype(np.int16) - reference).max() <= 1


@pytest.mark.parametrize("command", sorted(TRAINING_COMMANDS))
def test_serve_install_training_commands_say_what_they_need(serve_venv, tmp_path, command):
    result = _run([serve_venv / "ganzoo", *TRAINING_COMMANDS[command]], tmp_path, check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ganzoo {command}: needs ") and 'pip install "gan-zoo[train]"' in lines[0]
