"""Generator inference on this CPU: the fastest TensorFlow paths against the exported ONNX files, in one process.

For the DCGAN at 28x28 with 16 and 64 filters (random weights: speed does not depend on them) and every
noise-to-image model shipped in saved_models/, measures batch 1, 64 and 1024 for:
  - `tf.function` and `tf.function` with XLA (`jit_compile=True`): the fastest TensorFlow paths;
  - ORT fp32 as tf2onnx converts it (no rewrite), ORT fp32 as `ganzoo export` writes it, ORT int8
    (`ganzoo export --int8`).
Protocol: each method runs `STEPS[batch]` calls in a row (after one untimed call), the methods take turns, and
this repeats for `ROUNDS` rounds; the figure is the median round's time per call. A block of calls per turn
keeps one method's thread pool (spinning after its call) from slowing the next method's first call.

The machine's own fp32 and int8 peaks are measured in the same run, with a large GEMM through onnxruntime
(MatMul, and MatMulInteger u8 x s8), so each row's useful GFLOP/s (2 x the multiply-adds of the Dense, Conv2D
and Conv2DTranspose layers as Keras defines them) is also a fraction of what this CPU does.

Each shipped model's fp32 and int8 files are also evaluated with `ganzoo evaluate`'s classifier
score and Frechet distance on 5,000 samples (noise seed 0), the criterion of an int8 export.

Writes benchmarks/results/inference.json and benchmarks/inference.md.
Run: python -m benchmarks.inference [--skip-quality] [--rounds 5] [--models NAME ...]   (about 25 minutes on 2 cores)
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import tempfile
import time

from benchmarks.machine import cpu
from export import files

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "inference.json"
REPORT = ROOT / "benchmarks" / "inference.md"
SAVED_MODELS = ROOT / "saved_models"
DATA = ROOT.parent / "shared" / "data"
BATCHES = (1, 64, 1024)
STEPS = {1: 200, 64: 30, 1024: 30}
ROUNDS = 5
TENSORFLOW_METHODS = ("tf.function", "tf.function XLA")
ORT_METHODS = ("ORT fp32, tf2onnx graph", "ORT fp32", "ORT int8")
QUALITY_SAMPLES = 5000
GEMM_SIZE = 2048


# --------------------------------------------------------------------------- the machine


def machine():
    """The CPU's name, core count and the flags that matter for fp32, bf16 and int8 kernels, and the load."""
    info = cpu() or {"cpu": platform.processor(), "logical_cores": os.cpu_count(), "flags": []}
    return {**info, "load_average": [round(x, 2) for x in os.getloadavg()]}


def gemm_peaks(size=GEMM_SIZE, rounds=5):
    """GFLOP/s of a size^3 GEMM through onnxruntime: fp32 MatMul and int8 MatMulInteger (u8 x s8), medians."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    def session(op, a_type, b_type, out_type):
        graph = helper.make_graph(
            [helper.make_node(op, ["a", "b"], ["c"])], "gemm",
            [helper.make_tensor_value_info("a", a_type, [size, size]), helper.make_tensor_value_info("b", b_type, [size, size])],
            [helper.make_tensor_value_info("c", out_type, [size, size])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    rng = np.random.default_rng(0)
    cases = {
        "fp32": (session("MatMul", TensorProto.FLOAT, TensorProto.FLOAT, TensorProto.FLOAT),
                 {"a": rng.normal(size=(size, size)).astype(np.float32), "b": rng.normal(size=(size, size)).astype(np.float32)}),
        "int8": (session("MatMulInteger", TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32),
                 {"a": rng.integers(0, 255, (size, size), dtype=np.uint8), "b": rng.integers(-127, 127, (size, size), dtype=np.int8)}),
    }
    peaks = {}
    for name, (gemm, feeds) in cases.items():
        gemm.run(None, feeds)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            gemm.run(None, feeds)
            times.append(time.perf_counter() - start)
        peaks[name] = 2 * size**3 / statistics.median(times) / 1e9
    return peaks


# --------------------------------------------------------------------------- FLOPs


def generator_flops(generator):
    """Useful FLOPs of one sample: 2 x multiply-adds of the Dense, Conv2D and Conv2DTranspose layers."""
    import keras

    macs = 0
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Dense):
            macs += int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, cin = layer.input.shape  # every input pixel scatters a kh x kw x Cout patch per input channel
            kh, kw, cout, _ = layer.kernel.shape
            macs += h * w * cin * cout * kh * kw
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, cout = layer.output.shape
            kh, kw, cin, _ = layer.kernel.shape
            macs += h * w * cin * cout * kh * kw
    return 2 * macs


# --------------------------------------------------------------------------- methods


def tensorflow_methods(generator):
    """name -> f(z, labels) for `tf.function` with and without XLA, returning numpy."""
    import tensorflow as tf

    latent = int(generator.inputs[0].shape[-1])
    if len(generator.inputs) == 2:
        signature = [tf.TensorSpec([None, latent], tf.float32), tf.TensorSpec([None], tf.int32)]
        call = lambda z, y: generator([z, y], training=False)  # noqa: E731
    else:
        signature = [tf.TensorSpec([None, latent], tf.float32)]
        call = lambda z: generator(z, training=False)  # noqa: E731
    graph = tf.function(call, input_signature=signature)
    xla = tf.function(call, input_signature=signature, jit_compile=True)

    def run(function):
        return lambda z, y: function(*((z,) if y is None else (z, y.astype("int32")))).numpy()

    return {"tf.function": run(graph), "tf.function XLA": run(xla)}


def export_files(source, name, folder, metadata=None):
    """{precision: .onnx path} for the fp32 and int8 exports of `source`, and the unrewritten tf2onnx graph."""
    import onnx

    from export.exporter import convert, export_generator, resolve_source

    paths = {"fp32": folder / f"{name}.onnx", "int8": folder / f"{name}_int8.onnx", "tf2onnx": folder / f"{name}_raw.onnx"}
    export_generator(source, paths["fp32"], metadata=metadata)
    export_generator(source, paths["int8"], int8=True, metadata=metadata)
    onnx.save(convert(resolve_source(source)[0]), str(paths["tf2onnx"]))
    return paths


def onnx_methods(paths):
    import onnxruntime as ort

    from export import GeneratorSession

    raw = ort.InferenceSession(str(paths["tf2onnx"]), providers=["CPUExecutionProvider"])
    return {
        "ORT fp32, tf2onnx graph": lambda z, y: raw.run(None, {"z": z} if y is None else {"z": z, "label": y})[0],
        "ORT fp32": GeneratorSession(paths["fp32"], providers="cpu"),
        "ORT int8": GeneratorSession(paths["int8"], providers="cpu"),
    }


def time_methods(methods, batch, latent, num_classes, rounds=ROUNDS):
    """{method: median seconds per call}: STEPS[batch] calls per turn, the methods taking turns, `rounds` times."""
    import numpy as np

    rng = np.random.default_rng(batch)
    z = rng.uniform(-1, 1, size=(batch, latent)).astype(np.float32)
    labels = None if num_classes is None else rng.integers(0, num_classes, size=batch).astype(np.int64)
    times = {name: [] for name in methods}
    for _ in range(rounds):
        for name, method in methods.items():
            method(z, labels)  # the untimed call: compilation, first allocation, waking the thread pool
            start = time.perf_counter()
            for _ in range(STEPS[batch]):
                method(z, labels)
            times[name].append((time.perf_counter() - start) / STEPS[batch])
    return {name: statistics.median(values) for name, values in times.items()}


# --------------------------------------------------------------------------- models


def benchmark_models():
    """(name, source for export, generator, description, metadata) for each model measured."""
    import keras

    import saved_models
    import zoo

    models = []
    for filters in (16, 64):
        keras.utils.set_random_seed(0)
        gan = zoo.create("dcgan", filters=filters)
        models.append((f"dcgan-{filters}", gan, gan.generator, f"zoo.create('dcgan', filters={filters}), random weights", None))
    for name in saved_models.names(saved_models.GENERATOR):
        entry = saved_models.entry(name)
        path = saved_models.path(name, "keras")
        model = keras.models.load_model(path, compile=False)
        generator = model.sampling_generator if isinstance(model, zoo.GAN) else model
        sidecar = json.loads(saved_models.path(name, "onnx").with_suffix(".metadata.json").read_text())
        metadata = {key: sidecar[key] for key in ("dataset", "prior", "class_names", "preset") if sidecar.get(key) is not None}
        models.append((name, model, generator, f"saved_models/{path.name} ({entry['dataset']})", metadata))
    return models


def run_model(name, source, generator, description, metadata, folder, peaks, rounds, quality):
    latent = int(generator.inputs[0].shape[-1])
    flops = generator_flops(generator)
    paths = export_files(source, name, folder, metadata)
    methods = {**tensorflow_methods(generator), **onnx_methods(paths)}
    num_classes = methods["ORT fp32"].num_classes
    rows = []
    for batch in BATCHES:
        print(f"  {name}: batch {batch}", flush=True)
        for method, seconds in time_methods(methods, batch, latent, num_classes, rounds).items():
            gflops = flops * batch / seconds / 1e9
            peak = peaks["int8" if "int8" in method else "fp32"]
            rows.append({"method": method, "batch": batch, "seconds_per_call": seconds, "samples_per_s": batch / seconds,
                         "gflops": gflops, "fraction_of_peak": gflops / peak})
    result = {"name": name, "description": description, "latent_dim": latent, "num_classes": num_classes,
              "output_shape": [int(d) for d in generator.outputs[0].shape[1:]], "flops_per_sample": flops,
              "results": rows, "comparisons": comparisons(rows)}
    if quality and metadata is not None:
        result["quality"] = measure_quality(paths, metadata["dataset"])
    return result


def _seconds(rows, method, batch):
    return next(row["seconds_per_call"] for row in rows if row["method"] == method and row["batch"] == batch)


def comparisons(rows):
    """Per batch: ORT fp32 and int8 against the fastest TensorFlow path, and int8 against fp32."""
    result = {}
    for batch in BATCHES:
        fastest = min(TENSORFLOW_METHODS, key=lambda method: _seconds(rows, method, batch))
        tf_seconds = _seconds(rows, fastest, batch)
        result[str(batch)] = {
            "fastest_tensorflow": fastest,
            "fp32_vs_fastest_tensorflow": tf_seconds / _seconds(rows, "ORT fp32", batch),
            "int8_vs_fastest_tensorflow": tf_seconds / _seconds(rows, "ORT int8", batch),
            "int8_vs_fp32": _seconds(rows, "ORT fp32", batch) / _seconds(rows, "ORT int8", batch),
        }
    return result


def measure_quality(paths, dataset):
    """`ganzoo evaluate`'s classifier score and Frechet distance of the fp32 and int8 files (5,000 samples, seed 0)."""
    from train.evaluation import evaluate

    source = dataset if dataset == "digits" else str(DATA / dataset)  # the MNIST IDX files beside the checkout
    if dataset != "digits" and not (DATA / dataset).is_dir():
        print(f"  no {DATA / dataset}: the quality of {dataset} models is not measured", flush=True)
        return None
    quality = {}
    for precision in ("fp32", "int8"):
        report = evaluate(str(paths[precision]), dataset=source, n=QUALITY_SAMPLES, seed=0, verbose=False, baseline=False)
        generated = report["generated"]
        quality[precision] = {key: generated.get(key) for key in ("classifier_score", "frechet_distance",
                                                                  "conditional_accuracy")}
    fp32, int8 = quality["fp32"], quality["int8"]
    quality["classifier_score_change"] = int8["classifier_score"] / fp32["classifier_score"] - 1
    quality["frechet_distance_change"] = int8["frechet_distance"] / fp32["frechet_distance"] - 1
    return quality


# --------------------------------------------------------------------------- report


def markdown(report):
    host = report["machine"]
    peaks = report["peaks"]
    lines = [
        "# Generator inference: TensorFlow against the exported ONNX files (CPU)",
        "",
        f"Written by `python -m benchmarks.inference{'' if report['quality'] else ' --skip-quality'}` on {report['date']}. "
        f"Machine: {host['cpu']}, {host['logical_cores']} logical cores; flags: {' '.join(host['flags'])}. "
        f"Load average before / after: {host['load_average']} / {report['load_after']}.",
        "",
        f"Peaks measured in the same run ({GEMM_SIZE}^3 GEMM in onnxruntime): **fp32 {peaks['fp32']:.0f} GFLOP/s** "
        f"(MatMul), **int8 {peaks['int8']:.0f} GOP/s** (MatMulInteger, u8 x s8). "
        f"Protocol: {report['rounds']} rounds; in each, every method runs {STEPS[1]} calls at batch 1 and "
        f"{STEPS[64]} at 64 and 1024 in a row (after one untimed call), the methods taking turns; the median round. "
        "Throughput is batch / time per call. GFLOP/s count the Keras layers' useful multiply-adds (x2); % of peak is "
        "against the fp32 peak, or the int8 one for int8. Versions: "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".",
        "",
        "## ORT against the fastest TensorFlow path (tf.function, with or without XLA, whichever is faster there)",
        "",
        "| model | MFLOP/sample | fp32: batch 1 | 64 | 1024 | int8: batch 1 | 64 | 1024 | int8 / fp32 at 1024 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model in report["models"]:
        c = model["comparisons"]
        lines.append(
            f"| {model['name']} | {model['flops_per_sample'] / 1e6:.1f} | "
            + " | ".join(f"{c[str(b)]['fp32_vs_fastest_tensorflow']:.2f}x" for b in BATCHES) + " | "
            + " | ".join(f"{c[str(b)]['int8_vs_fastest_tensorflow']:.2f}x" for b in BATCHES)
            + f" | {c['1024']['int8_vs_fp32']:.2f}x |"
        )
    if report["quality"]:
        lines += [
            "",
            f"## int8 against fp32: quality (`ganzoo evaluate`, {QUALITY_SAMPLES:,} samples, noise seed 0, "
            "the dataset's evaluation classifier)",
            "",
            "| model | classifier score fp32 | int8 | change | Frechet distance fp32 | int8 | change | conditional accuracy fp32 / int8 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for model in report["models"]:
            q = model.get("quality")
            if not q:
                continue
            accuracy = (f"{q['fp32']['conditional_accuracy']:.1%} / {q['int8']['conditional_accuracy']:.1%}"
                        if q["fp32"]["conditional_accuracy"] is not None else "-")
            lines.append(
                f"| {model['name']} | {q['fp32']['classifier_score']:.3f} | {q['int8']['classifier_score']:.3f} | "
                f"{q['classifier_score_change']:+.2%} | {q['fp32']['frechet_distance']:.3f} | "
                f"{q['int8']['frechet_distance']:.3f} | {q['frechet_distance_change']:+.2%} | {accuracy} |"
            )
    for model in report["models"]:
        lines += [
            "",
            f"## {model['name']}",
            "",
            f"{model['description']}; output {tuple(model['output_shape'])}; {model['flops_per_sample'] / 1e6:.1f} MFLOP "
            "per sample.",
            "",
            "| method | batch 1 latency (ms) | batch 64 (img/s) | batch 1024 (img/s) | GFLOP/s @1024 | % of peak @1024 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for method in TENSORFLOW_METHODS + ORT_METHODS:
            row = {r["batch"]: r for r in model["results"] if r["method"] == method}
            lines.append(
                f"| {method} | {row[1]['seconds_per_call'] * 1e3:.3f} | {row[64]['samples_per_s']:,.0f} | "
                f"{row[1024]['samples_per_s']:,.0f} | {row[1024]['gflops']:.1f} | {row[1024]['fraction_of_peak']:.1%} |"
            )
    lines += ["", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "## What the numbers mean",
    "",
    "- **The rewrites** (`export.onnx_rewrites`; compare `ORT fp32` with `ORT fp32, tf2onnx graph`). Each transposed "
    "convolution becomes a Conv on 4 output phases (sub-pixel form); the Dense writes NCHW directly; a Conv that "
    "reads an upsampled map reads its phases instead, so the upsampled maps are never written and one DepthToSpace "
    "ends the graph; and where it saves at least 1M multiply-adds per sample (the 64-filter DCGAN's first layer), "
    "each phase is its own Conv with only its own taps (25 of 36 for a 5x5 kernel).",
    "- **int8** (`ganzoo export --int8`, `export.quantize`): onnxruntime's static quantization, QDQ, u8 activations "
    "and s8 per-channel weights, calibrated on 1,024 inputs from the prior; the first layer stays float, so does "
    "the last where it does at most 10% of the work, and otherwise the last layer's range stops where its tanh "
    "saturates. Judged by quality, in the table above, not by parity.",
    "- **Tiny maps** (the 8x8 digits models): a Conv on a 4x4 map becomes one matrix product (its unrolled matrix "
    "is 77% taps), which onnxruntime's GEMM runs several times faster than its blocked Conv on 4-pixel rows.",
    "- **bf16** is not offered: ONNX's Conv takes no bfloat16 before opset 22 (tf2onnx 1.17 writes up to 18), and "
    "onnxruntime's CPU provider has no bfloat16 MatMul kernel (`NOT_IMPLEMENTED`, tried with 1.31). fp16 exports "
    "(`--fp16`) are for GPUs; x86 CPUs without AVX512-FP16 compute them in fp32.",
    "- **The fastest TensorFlow path** differs by batch: XLA wins at batch 1 and loses at 1024, where oneDNN's "
    "kernels in plain `tf.function` are faster. Keras's `model(z)` and `predict` are slower than both at every batch "
    "and are not shown.",
]


def main(argv=None):
    import keras
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-quality", action="store_true", help="do not evaluate the shipped models' fp32 and int8 files")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--models", nargs="*", default=None, help="only these models (names as in the report)")
    args = parser.parse_args(argv if argv is not None else [])
    host = machine()
    peaks = gemm_peaks()
    print(f"{host['cpu']}; flags {host['flags']}; GEMM peaks {peaks}", flush=True)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": host,
        "peaks": peaks,
        "rounds": args.rounds,
        "steps": STEPS,
        "quality": not args.skip_quality,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "onnxruntime": onnxruntime.__version__,
                     "tf2onnx": tf2onnx.__version__},
        "models": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, source, generator, description, metadata in benchmark_models():
            if args.models and name not in args.models:
                continue
            report["models"].append(run_model(name, source, generator, description, metadata, pathlib.Path(folder),
                                              peaks, args.rounds, not args.skip_quality))
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    files.write_text(json.dumps(report, indent=2) + "\n", RESULTS)
    files.write_text(markdown(report), REPORT)
    print(REPORT.read_text())
    return report


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
