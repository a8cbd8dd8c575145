"""ONNX export of GAN Zoo generators and translators, and a TensorFlow-free runtime to serve them.

    from export import export_generator            # needs TensorFlow (imported on first use)
    report = export_generator("runs/dcgan", "dcgan.onnx")

    from export import GeneratorSession, save_grid  # numpy + onnxruntime only
    images = GeneratorSession("dcgan.onnx").generate(64, seed=0)

    from export import export_translator, TranslatorSession  # pix2pix, CycleGAN
    export_translator(model, "pix2pix.onnx")
    outputs = TranslatorSession("pix2pix.onnx").translate(pixels)

Importing this package never imports TensorFlow: `export_generator`, `export_translator` and their
reports load `export.exporter` / `export.translation` lazily (PEP 562), so a serving environment
needs no TensorFlow installed. The sessions load `export.runtime` (onnxruntime) the same way, so
training, which writes its files through `export.files`, needs no onnxruntime.
"""

import importlib

_LAZY = {
    "GeneratorSession": "export.runtime",
    "TranslatorSession": "export.runtime",
    "save_grid": "export.runtime",
    "export_generator": "export.exporter",
    "ExportReport": "export.exporter",
    "export_translator": "export.translation",
    "TranslatorExportReport": "export.translation",
}

__all__ = [
    "ExportReport",
    "GeneratorSession",
    "TranslatorExportReport",
    "TranslatorSession",
    "export_generator",
    "export_translator",
    "save_grid",
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'export' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
