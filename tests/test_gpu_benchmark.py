"""benchmarks/gpu_inference.py runs where no GPU is, on the CPU provider: the code the device machine will run."""

import json

import saved_models
from benchmarks import gpu_inference


def test_the_gpu_benchmark_runs_on_the_cpu_provider(tmp_path):
    files = [saved_models.path("dcgan_digits", "onnx"), saved_models.path("conditional_dcgan_digits", "onnx")]
    report = gpu_inference.main([*map(str, files), "--providers", "cpu", "--batches", "1", "4", "--rounds", "1",
                                 "--peak-size", "256", "--out", str(tmp_path)])
    assert [result["provider"] for result in report["results"]] == ["CPUExecutionProvider"] * 2
    for result in report["results"]:
        assert result["parity_ok"] and result["parity_vs_cpu"] == 0  # the CPU against itself
        assert result["flops_per_sample"] > 1e6 and [row["batch"] for row in result["rows"]] == [1, 4]
        assert all(row["bound_s"] > 0 and row["numpy_s"] > 0 for row in result["rows"])
    peak = json.loads((tmp_path / "gpu_inference.json").read_text())["fp16_peak_tflops"]
    assert peak is None or peak > 0  # x86 CPUs have no fp16 MatMul kernel
    assert "conditional_dcgan_digits.onnx | CPU | fp32" in (tmp_path / "gpu_inference.md").read_text()
