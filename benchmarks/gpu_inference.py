"""Exported generators on a GPU with onnxruntime-gpu: parity with the CPU, latency and throughput, fp32 and fp16.

Needs only numpy, onnxruntime(-gpu) and this repository's `export` package: no TensorFlow, which the device
machine does not have. Export the models first, where TensorFlow is (`ganzoo export RUN --out m.onnx` and
`--fp16 --out m_fp16.onnx`), and give the files here:

    python -m benchmarks.gpu_inference saved_models/dcgan_mnist.onnx m_fp16.onnx ... --out OUTDIR

For each file and each GPU provider that loads (CUDA, and TensorRT where its libraries are there):
  - the provider `GeneratorSession` picks with providers="auto", and the one each session really runs on;
  - parity: the largest difference from the CPU provider on the same inputs (batch 7; every class, for
    conditional models), against the file's tolerance (1e-4 fp32, 1e-2 fp16; TF32 convolutions can exceed 1e-4,
    so fp32 runs with TF32 off);
  - latency at batch 1, throughput at 64, 1024 and 8192: median of ROUNDS rounds of STEPS calls, with the inputs
    and output on the GPU (IO binding) and, for comparison, from and to numpy;
  - the fraction of this GPU's dense fp16 peak, measured in the same run with a large fp16 MatMul through the
    same provider, for the network's useful FLOPs (read from the file's metadata `flops_per_sample`, or counted
    from its Conv / MatMul / Gemm nodes).

Writes OUTDIR/gpu_inference.json and OUTDIR/gpu_inference.md; `--providers cpu` runs the same code on the CPU,
which is how it is tested where no GPU is.
"""

import argparse
import json
import pathlib
import platform
import statistics
import time

import numpy as np

BATCHES = (1, 64, 1024, 8192)
STEPS = {1: 200, 64: 50, 1024: 30, 8192: 10}
ROUNDS = 5
PEAK_SIZE = 8192
TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2}


def session_for(path, provider):
    """A GeneratorSession on `provider` ("cuda", "tensorrt", "cpu"), fp32 without TF32; None if it does not load."""
    import onnxruntime as ort

    from export import GeneratorSession
    from export.runtime import PROVIDER_ALIASES

    name = PROVIDER_ALIASES[provider]
    if name not in ort.get_available_providers():
        return None

    class Pinned(GeneratorSession):
        def _create_session(self, providers, intra_op_threads):
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            chain = [name] if name == "CPUExecutionProvider" else [name, "CPUExecutionProvider"]
            settings = [{"use_tf32": "0"} if name == "CUDAExecutionProvider" else {} for _ in chain]
            return ort.InferenceSession(str(self.path), options, providers=chain, provider_options=settings)

    try:
        session = Pinned(path)
    except Exception:  # the provider's libraries do not load here
        return None
    return session if session.provider == name else None


def useful_flops(path):
    """2 x the multiply-adds of the file's Conv, MatMul and Gemm nodes per sample (shapes from shape inference)."""
    import onnx

    from export.onnx_rewrites import layer_macs

    return 2 * sum(layer_macs(onnx.load(str(path))).values())


def fp16_peak(provider, size=PEAK_SIZE):
    """TFLOP/s of a size^3 fp16 MatMul through `provider`, inputs and output bound on the device (median of 5);
    None where the provider has no fp16 MatMul."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from export.runtime import PROVIDER_ALIASES

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])], "peak",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT16, [size, size]) for n in ("a", "b")],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT16, [size, size])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    name = PROVIDER_ALIASES[provider]
    try:
        session = ort.InferenceSession(model.SerializeToString(), providers=[name])
    except Exception:  # no fp16 MatMul kernel (x86 CPUs): no peak to compare with
        return None
    device = "cpu" if name == "CPUExecutionProvider" else "cuda"
    rng = np.random.default_rng(0)
    binding = session.io_binding()
    for input_name in ("a", "b"):
        value = ort.OrtValue.ortvalue_from_numpy(rng.normal(size=(size, size)).astype(np.float16), device, 0)
        binding.bind_ortvalue_input(input_name, value)
    binding.bind_output("c", device)
    session.run_with_iobinding(binding)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e12


def bound_call(session, z, labels, device):
    """A call with z (and labels) already on the device and the output left there."""
    import onnxruntime as ort

    binding = session.session.io_binding()
    binding.bind_ortvalue_input("z", ort.OrtValue.ortvalue_from_numpy(z, device, 0))
    if labels is not None:
        binding.bind_ortvalue_input("label", ort.OrtValue.ortvalue_from_numpy(labels.astype(session._label_dtype),
                                                                            device, 0))
    binding.bind_output(session._output_name, device)

    def call():
        session.session.run_with_iobinding(binding)
        binding.synchronize_outputs()

    return call


def timed(call, steps, rounds=ROUNDS):
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            call()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def measure(path, provider, reference, batches=BATCHES, rounds=ROUNDS):
    session = session_for(path, provider)
    if session is None:
        return None
    precision = session.metadata.get("precision", "fp32")
    rng = np.random.default_rng(0)
    z = session.sample_noise(7, seed=0)
    classes = range(session.num_classes) if session.conditional else [None]
    worst = max(float(np.max(np.abs(session(z, None if c is None else np.full(7, c)) -
                                    reference(z, None if c is None else np.full(7, c))))) for c in classes)
    device = "cpu" if provider == "cpu" else "cuda"
    flops = useful_flops(path)
    rows = []
    for batch in batches:
        z = session.sample_noise(batch, seed=batch)
        labels = rng.integers(0, session.num_classes, batch) if session.conditional else None
        bound = timed(bound_call(session, z, labels, device), STEPS[batch], rounds)
        numpy = timed(lambda: session(z, labels), STEPS[batch], rounds)
        rows.append({"batch": batch, "bound_s": bound, "numpy_s": numpy, "samples_per_s": batch / bound,
                     "tflops": flops * batch / bound / 1e12})
    return {"file": str(path), "provider": session.provider, "precision": precision, "flops_per_sample": flops,
            "parity_vs_cpu": worst, "tolerance": TOLERANCE.get(precision), "parity_ok": worst <= TOLERANCE.get(precision, 1e-4),
            "rows": rows}


def markdown(report):
    peak = report["fp16_peak_tflops"] or float("nan")
    lines = [
        "# Exported generators on the GPU (onnxruntime-gpu)",
        "",
        f"Written by `python -m benchmarks.gpu_inference` on {report['date']}. Device: {report['device']}; "
        f"onnxruntime {report['onnxruntime']}; Python {platform.python_version()}. Dense fp16 peak measured in the same "
        f"run ({PEAK_SIZE}^3 MatMul): {peak:.0f} TFLOP/s. Median of {report['rounds']} rounds; "
        "'bound': inputs and output on the device (IO binding), 'numpy': from and to host memory.",
        "",
        "| file | provider | precision | parity vs CPU | batch 1 latency (ms) bound / numpy | 64 (img/s) | 1024 | 8192 | % of fp16 peak @8192 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in report["results"]:
        rows = {row["batch"]: row for row in result["rows"]}
        last = rows[max(rows)]
        lines.append(
            f"| {pathlib.Path(result['file']).name} | {result['provider'].replace('ExecutionProvider', '')} | "
            f"{result['precision']} | {result['parity_vs_cpu']:.2g} ({'ok' if result['parity_ok'] else 'over'} "
            f"{result['tolerance']:g}) | {rows[1]['bound_s'] * 1e3:.3f} / {rows[1]['numpy_s'] * 1e3:.3f} | "
            + " | ".join(f"{rows[b]['samples_per_s']:,.0f}" for b in sorted(rows) if b > 1)
            + f" | {last['tflops'] / peak:.1%} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    import onnxruntime as ort

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help=".onnx files written by ganzoo export (fp32 and --fp16)")
    parser.add_argument("--providers", nargs="+", default=["cuda", "tensorrt"], help="cuda, tensorrt, cpu")
    parser.add_argument("--batches", nargs="+", type=int, default=list(BATCHES))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--peak-size", type=int, default=PEAK_SIZE)
    parser.add_argument("--out", required=True, help="folder for gpu_inference.json and gpu_inference.md")
    args = parser.parse_args(argv)
    for batch in args.batches:
        STEPS.setdefault(batch, 10)
    device = "CPU"
    if "cuda" in args.providers:
        try:
            import subprocess

            device = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                                    text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            device = "no GPU found"
    peak_provider = args.providers[0]
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "device": device,
              "onnxruntime": ort.__version__, "rounds": args.rounds,
              "fp16_peak_tflops": fp16_peak(peak_provider, args.peak_size), "results": []}
    for path in args.files:
        cpu = session_for(path, "cpu")
        for provider in args.providers:
            result = measure(path, provider, cpu, tuple(args.batches), args.rounds)
            print(path, provider, "did not load" if result is None else f"parity {result['parity_vs_cpu']:.2g}",
                  flush=True)
            if result is not None:
                report["results"].append(result)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_inference.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "gpu_inference.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
