"""`make bench`: every benchmark, each writing JSON to benchmarks/results/ and a markdown table to benchmarks/.

Usage: python -m benchmarks.run [NAME ...]   (default: all; names below)
"""

import importlib
import sys

BENCHMARKS = {
    "inference": "benchmarks.inference",  # ONNX Runtime vs TensorFlow generator latency/throughput
    "training": "benchmarks.training",  # TensorFlow's training options vs a plain Keras DCGAN: training_options.md
    "backends": "benchmarks.backends",  # every preset's GAN.fit on TensorFlow / JAX / PyTorch vs their plain steps: training.md
    "step_costs": "benchmarks.step_costs",  # GAN.fit's TensorFlow step vs keras-io's, part by part: step_costs.md
    "jax_convolutions": "benchmarks.jax_convolutions",  # the zoo's Conv2D / Conv2DTranspose vs Keras's on JAX's CPU
    "input_pipeline": "benchmarks.input_pipeline",  # numpy epoch batches vs tf.data on JAX / PyTorch: input_pipeline.md
    "quality": "benchmarks.quality",  # mode coverage and image metrics per preset
    "translation": "benchmarks.translation",  # pix2pix / CycleGAN task figures, exported generators' speed
}


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== benchmark: {name}", flush=True)
        importlib.import_module(BENCHMARKS[name]).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
