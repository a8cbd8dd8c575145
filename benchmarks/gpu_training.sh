#!/usr/bin/env bash
# Training throughput on a GPU machine with JAX and PyTorch but no TensorFlow or Keras (issue 25): the `dcgan`
# preset's networks with GAN.fit beside each backend's plain guide step (benchmarks/backends.py --gpu), batch 64
# and 256, 5 interleaved rounds of 30 steps. The zoo needs no TensorFlow (zoo/tf_optional.py); Keras and the
# dependencies that machine lacks travel as wheels in .device/wheels (git-ignored, about 10 MB without numpy).
#
#   bash benchmarks/gpu_training.sh prepare           # here, with a package index: download the wheels
#   bash benchmarks/gpu_training.sh run "$OUT"        # there (device tool, carry [".device"]): install, measure
#
# The table and JSON land in the folder given to `run` (training.md / backends.json, each row naming its device).
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=.device/wheels
case "${1:-}" in
  prepare)
    PYTHON_VERSION=${PYTHON_VERSION:-3.12}  # the device machine's
    KERAS_VERSION=$(python3 -c "import importlib.metadata as m; print(m.version('keras'))" 2>/dev/null || echo 3.15.1)
    mkdir -p "$WHEELS"
    python3 -m pip download "keras==$KERAS_VERSION" --no-deps --only-binary=:all: -d "$WHEELS" --quiet
    # Keras's dependencies for that Python, numpy aside (JAX and PyTorch bring it).
    python3 -m pip download absl-py rich namex h5py optree packaging --only-binary=:all: -d "$WHEELS" --quiet \
      --python-version "$PYTHON_VERSION" --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
    rm -f "$WHEELS"/numpy-*.whl
    du -sh "$WHEELS"
    ;;
  run)
    OUT_DIR=${2:?give the folder for the table, e.g. \$OUT}
    python -m pip install --quiet --no-index --find-links "$WHEELS" keras
    python -c "import jax, torch, keras; print('jax', jax.__version__, jax.devices(), '| torch', torch.__version__, torch.cuda.is_available(), '| keras', keras.__version__)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    python -m benchmarks.backends --backends jax torch --gpu --batches 64 256 --steps 30 --rounds 5 --presets --out "$OUT_DIR"
    cat "$OUT_DIR/training.md"
    ;;
  *)
    echo "usage: $0 prepare | run OUT_DIR" >&2
    exit 2
    ;;
esac
