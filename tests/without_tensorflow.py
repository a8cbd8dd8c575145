"""TensorFlow made absent from this process, as on a machine without its wheels (a GPU box with JAX or PyTorch
alone): `import tensorflow` raises ModuleNotFoundError, `importlib.util.find_spec` returns None and nothing named
tensorflow enters `sys.modules`, as where it is not installed. (A None in `sys.modules` would refuse the import
too, but Keras takes any "tensorflow" key there as TensorFlow being in use.)

    python -c "import sys; sys.path.insert(0, 'tests'); import without_tensorflow; without_tensorflow.refuse(); ..."
"""

import sys

PACKAGES = ("tensorflow", "tf2onnx", "tensorflow_datasets", "tf_keras")


class _Hiding:
    """A `sys.meta_path` finder that finds nothing of `PACKAGES` and defers to the finder it wraps for the rest."""

    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in PACKAGES:
            return None
        find = getattr(self.finder, "find_spec", None)
        return None if find is None else find(name, path, target)

    def __getattr__(self, attribute):
        return getattr(self.finder, attribute)


def refuse():
    """Hide TensorFlow's packages from every import in this process; call it before anything imports Keras."""
    assert "keras" not in sys.modules, "refuse TensorFlow before Keras is imported"
    assert not any(name.partition(".")[0] in PACKAGES for name in sys.modules), "TensorFlow is already imported"
    sys.meta_path[:] = [finder if isinstance(finder, _Hiding) else _Hiding(finder) for finder in sys.meta_path]
