"""The `ganzoo` command: one entry point, one module per group of subcommands.

- `catalog`: list, show;
- `training`: train, demo;
- `export`: export (a run folder to ONNX), sample (from an .onnx file, without TensorFlow);
- `evaluate`: evaluate.

Each module defines `register(subparsers)`; none imports TensorFlow at module level, so
`ganzoo sample` keeps working in a serving environment without TensorFlow. Handlers raise
`UsageError` (see `errors`) for input the user has to change; `main` prints those, and a file
that cannot be written (`export.files.WriteError`) or a run folder or export target held by another
process (`export.files.LockedError`), as one line with exit status 2, and lets every other
exception through with its traceback. Flag values are checked as they are parsed (`values`).
"""

import argparse
import importlib
import sys

from train.cli.errors import UsageError

COMMAND_MODULES = (
    "train.cli.catalog",  # list, show
    "train.cli.training",  # train, demo
    "train.cli.export",  # export, sample
    "train.cli.evaluate",  # evaluate
    "train.cli.translate",  # translate (pix2pix / CycleGAN from an .onnx file, without TensorFlow)
)

__all__ = ["UsageError", "build_parser", "main"]

# Top-level modules only the training extra installs, and the one only a serving extra installs:
# a command that needs a missing one says which extra to install.
EXTRA_FOR_MODULE = {
    **dict.fromkeys(("tensorflow", "keras", "tensorflow_datasets", "onnx", "tf2onnx", "scipy", "sklearn",
                     "matplotlib", "tensorboard"), "train"),
    "onnxruntime": "serve",
    "jax": "jax",  # `ganzoo train --backend jax|torch`
    "torch": "torch",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (no usage block): `ganzoo CMD: error: ...`, exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="ganzoo", description="Train, export and sample GANs.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv=None):
    """Run `ganzoo` with `argv` (default: the command line); returns the exit status.

    Args:
        argv: the arguments after `ganzoo`, e.g. ["sample", "model.onnx", "--out", "grid.png"].
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    from export.files import LockedError, WriteError

    try:
        return args.func(args) or 0
    except (UsageError, WriteError, LockedError) as error:
        # A full disk, a path that cannot be written or a second writer: the user's to fix, in one line.
        print(f"ganzoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        extra = EXTRA_FOR_MODULE.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        print(f'ganzoo {args.command}: needs {error.name}, which is not installed: pip install "gan-zoo[{extra}]"',
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ganzoo {args.command}: interrupted", file=sys.stderr)
        return 130
