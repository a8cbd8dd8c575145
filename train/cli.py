"""The `ganzoo` command: one entry point, one module per group of subcommands.

Each module below defines `register(subparsers)`; it must not import TensorFlow at module level,
so `ganzoo sample` keeps working in a serving environment without TensorFlow.
"""

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "train.cli_train",  # list, train, demo
    "export.cli",  # export, sample
    "train.cli_evaluate",  # evaluate
)


# Top-level modules only the training extra installs, and the one only a serving extra installs:
# a command that needs a missing one says which extra to install.
EXTRA_FOR_MODULE = {
    **dict.fromkeys(("tensorflow", "keras", "tensorflow_datasets", "onnx", "tf2onnx", "scipy", "sklearn",
                     "matplotlib", "tensorboard"), "train"),
    "onnxruntime": "serve",
}


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""


def build_parser():
    parser = argparse.ArgumentParser(prog="ganzoo", description="Train, export and sample GANs.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:  # a missing dependency, not a missing command module
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (UsageError, ValueError, FileNotFoundError) as error:
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


if __name__ == "__main__":
    sys.exit(main())
