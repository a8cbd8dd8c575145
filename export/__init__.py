"""ONNX export of GAN Zoo generators and a TensorFlow-free runtime to serve them.

    from export import export_generator            # needs TensorFlow (imported on first use)
    report = export_generator("runs/dcgan", "dcgan.onnx")

    from export import GeneratorSession, save_grid  # numpy + onnxruntime only
    images = GeneratorSession("dcgan.onnx").generate(64, seed=0)

Importing this package never imports TensorFlow: `export_generator` and `ExportReport` load
`export.exporter` lazily (PEP 562), so a serving environment needs no TensorFlow installed.
"""

import importlib

from export.runtime import GeneratorSession, save_grid

_LAZY = {
    "export_generator": "export.exporter",
    "ExportReport": "export.exporter",
}

__all__ = ["ExportReport", "GeneratorSession", "export_generator", "save_grid"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'export' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
