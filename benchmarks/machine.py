"""The CPU a speed figure was measured on, as every figure must state it: its name, logical cores and SIMD flags."""

import os
import pathlib
import platform

# The flags that decide which fp32, bf16 and int8 kernels a library can use.
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def cpu(flags=SIMD_FLAGS):
    """{"cpu": model name, "logical_cores": n, "flags": those of `flags` this CPU has}, from /proc/cpuinfo;
    None where it cannot be read."""
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    fields = {key.strip(): value.strip() for key, value in (line.split(":", 1) for line in text.splitlines() if ":" in line)}
    return {"cpu": fields.get("model name", platform.processor()), "logical_cores": os.cpu_count(),
            "flags": [flag for flag in fields.get("flags", "").split() if flag in flags]}  # in /proc/cpuinfo's order
