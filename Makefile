# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test bench install clean examples

# PyTorch's CPU build (about 750 MB; PyPI's default is a CUDA build of several GB), so that `make test` runs the
# torch backend's tests as well; where it can't be had, they skip. `make install TORCH_CPU=` leaves torch out.
TORCH_CPU ?= 2.13.0+cpu
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

install: $(STAMP)

# uv installs the stack (TensorFlow, JAX, ...) several times faster than pip; pip where uv can't be had. Compiled
# to bytecode as pip does: where Python may not write .pyc files (PYTHONDONTWRITEBYTECODE, read-only
# installs) every process would otherwise compile TensorFlow's sources again at import (the suite ran 1.35x slower).
# torch through pip, which honours pip's own configuration (find-links, constraints); one retry, since an
# unreachable PyTorch index cost a minute of pip's retries for every package torch depends on.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	($(PY) -m pip install --quiet uv && $(PY) -m uv pip install --quiet --compile-bytecode --python $(PY) -e ".[train,jax,dev]") \
		|| $(PY) -m pip install --quiet -e ".[train,jax,dev]"
	test -z "$(TORCH_CPU)" || $(PY) -m pip install --quiet --retries 1 --extra-index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_CPU)" \
		2>/dev/null || echo "torch $(TORCH_CPU) could not be installed: the torch backend's tests will skip"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ganzoo demo

# The model and training tests again on JAX (every preset trains with fit, saves, loads and trains on), and on
# PyTorch where it is installed (`make` installs its CPU build; its eager steps make the longer list cheap).
# tests/test_backends.py, in the first run, compares the backends' steps, files, resume and JAX's DataParallel.
# XLA's slower optimisations off: these tests check behaviour, and compiling is most of their time.
TRANSLATION_STEPS := tests/test_translation.py::test_pix2pix_step_is_the_hand_worked_step \
	tests/test_translation.py::test_cyclegan_step_is_the_hand_worked_step
JAX_TESTS := tests/test_presets.py::test_preset_trains_and_round_trips $(TRANSLATION_STEPS) \
	tests/test_layers.py::test_conv2d_transpose_gradients_on_jax_are_keras_layers_without_its_slow_convolution \
	tests/test_layers.py::test_conv2d_gradients_on_jax_are_keras_layers_without_its_slow_convolution \
	tests/test_layers.py::test_convolutions_are_keras_layers_on_every_backend tests/test_mixed_precision.py
TORCH_TESTS := tests/test_presets.py::test_preset_trains_and_round_trips tests/test_translation.py tests/test_gan.py tests/test_stabilisers.py tests/test_latent_code.py \
	tests/test_presets.py::test_conditional_samples_with_its_generators_dropout_on_seeded_by_the_noise_seed \
	tests/test_layers.py::test_convolutions_are_keras_layers_on_every_backend tests/test_mixed_precision.py

# Two pytest workers (pytest-xdist): most tests are small models whose time is Python overhead on one core, so a
# 2-core machine runs the suite in about three quarters of the time (650 s -> 484 s here). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test: $(STAMP) examples
	$(PYTEST)
	KERAS_BACKEND=jax JAX_DISABLE_MOST_OPTIMIZATIONS=1 $(PYTEST) $(JAX_TESTS)
	if $(PY) -c "import torch" 2>/dev/null; then KERAS_BACKEND=torch $(PYTEST) $(TORCH_TESTS); \
		else echo "torch is not installed: the torch backend's tests skip (pip install -e '.[torch]')"; fi

# What the browser and Node examples' tests need; each step may fail (no root, no network), and then
# those tests skip with the reason.
examples: examples/web/node_modules/.package-lock.json examples/node/node_modules/.package-lock.json
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		(apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null 2>&1 || \
		echo "no Chromium (apt-get install -y chromium failed): tests/test_web_example.py will skip"

examples/%/node_modules/.package-lock.json: examples/%/package-lock.json
	cd examples/$* && npm ci --no-audit --no-fund --loglevel=error || echo "npm ci failed in examples/$*: its test will skip"

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
