"""Walking the latent space: linear and spherical interpolation, and latent vector arithmetic.

Radford et al. (2015, section 6) "walk on the manifold" by decoding points between two latent
vectors, and do arithmetic on latent vectors (man with glasses - man + woman = woman with glasses),
averaging a few z's per concept for stability. These are plain numpy functions over z vectors;
decode the result with `gan.generator` (or `gan.generate`'s inputs).

Spherical interpolation (White 2016, "Sampling Generative Networks") follows the great circle
between the two points, which keeps the norm in the range the prior actually produces; a straight
line through a high-dimensional Gaussian passes through the unlikely region near the origin.
"""

import numpy as np


def lerp(z0, z1, t):
    """Linear interpolation (1 - t) z0 + t z1; `t` a scalar or an array of steps (one row per step)."""
    z0, z1 = np.asarray(z0, dtype="float64"), np.asarray(z1, dtype="float64")
    t = np.asarray(t, dtype="float64")
    if t.ndim == 0:
        return ((1.0 - t) * z0 + t * z1).astype("float32")
    return ((1.0 - t)[:, None] * z0[None] + t[:, None] * z1[None]).astype("float32")


def slerp(z0, z1, t):
    """Spherical interpolation along the great circle from z0 to z1 (norms interpolated linearly).

    Falls back to `lerp` when the two vectors are (anti)parallel, where the great circle is undefined.
    """
    z0, z1 = np.asarray(z0, dtype="float64"), np.asarray(z1, dtype="float64")
    scalar = np.ndim(t) == 0
    t = np.atleast_1d(np.asarray(t, dtype="float64"))
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 == 0 or n1 == 0:
        result = lerp(z0, z1, t)
    else:
        cos_omega = np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0)
        omega = np.arccos(cos_omega)
        if np.sin(omega) < 1e-6:
            result = lerp(z0, z1, t)
        else:
            w0 = np.sin((1.0 - t) * omega) / np.sin(omega)
            w1 = np.sin(t * omega) / np.sin(omega)
            result = (w0[:, None] * z0[None] + w1[:, None] * z1[None]).astype("float32")
    return result[0] if scalar else result


INTERPOLATIONS = {"linear": lerp, "spherical": slerp}


def interpolate(z0, z1, steps=10, method="spherical"):
    """`steps` latent vectors from z0 to z1 inclusive: shape (steps, latent_dim).

    Args:
        z0, z1: the two end points (latent_dim,).
        steps: how many vectors, ends included (at least 2).
        method: "linear" (`lerp`) or "spherical" (`slerp`).
    """
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose one of {', '.join(INTERPOLATIONS)}.")
    if int(steps) < 2:
        raise ValueError(f"steps must be at least 2, got {steps}.")
    t = np.linspace(0.0, 1.0, int(steps))
    return np.asarray(INTERPOLATIONS[method](z0, z1, t), dtype="float32").reshape(int(steps), -1)


def latent_walk(endpoints, steps=10, method="spherical"):
    """Interpolations between consecutive rows of `endpoints` (K x latent_dim): (K - 1) * steps vectors.

    Args:
        endpoints: (K >= 2, latent_dim) points to walk through.
        steps, method: as for `interpolate`, per leg.
    """
    endpoints = np.asarray(endpoints, dtype="float32")
    if endpoints.ndim != 2 or len(endpoints) < 2:
        raise ValueError("endpoints must be a (K >= 2, latent_dim) array.")
    return np.concatenate([interpolate(a, b, steps, method) for a, b in zip(endpoints[:-1], endpoints[1:])])


def vector_arithmetic(plus_a, minus_b, plus_c):
    """mean(A) - mean(B) + mean(C) over latent vectors (DCGAN's "smiling woman - woman + man").

    Args:
        plus_a, minus_b, plus_c: each one vector (latent_dim,) or several (n, latent_dim), averaged
            first as in the paper, which averaged three exemplars per concept.
    """
    means = [np.mean(np.atleast_2d(np.asarray(v, dtype="float64")), axis=0) for v in (plus_a, minus_b, plus_c)]
    if len({m.shape for m in means}) != 1:
        raise ValueError(f"latent vectors differ in size: {[m.shape for m in means]}.")
    return (means[0] - means[1] + means[2]).astype("float32")
