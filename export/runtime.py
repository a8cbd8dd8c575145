"""Serve an exported generator or translator with numpy and onnxruntime only: no TensorFlow, no Keras.

    from export import GeneratorSession, save_grid
    session = GeneratorSession("saved_models/dcgan_digits.onnx")
    samples = session.generate(64, seed=0)         # float32, in the model's value_range
    images = session.generate_images(64, seed=0)   # uint8, NHWC
    save_grid(images, "grid.png")

    from export import TranslatorSession           # pix2pix / CycleGAN, from export.export_translator
    translated = TranslatorSession("edges2shoes.onnx").translate(pixels)  # uint8 in, uint8 out

A serving machine needs `pip install "gan-zoo[serve]"` (numpy, pillow, onnxruntime) or `[serve-gpu]`.
"""

import os
import pathlib
import sys

import numpy as np
import onnxruntime as ort

from export import files
from export import metadata as metadata_lib
from export import sampling
from export.sampling import to_uint8  # noqa: F401  (public here since the first release)

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
PROVIDER_ALIASES = {"tensorrt": TENSORRT, "trt": TENSORRT, "cuda": CUDA, "gpu": CUDA, "cpu": CPU}
# How far a chunk of `generate` goes at once: bounds memory, costs nothing in speed.
GENERATE_CHUNK = 1024


def gpu_visible():
    """Whether trying the GPU providers can succeed; avoids onnxruntime's loud failed-load logs on CPU hosts."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if sys.platform.startswith("linux"):
        return os.path.exists("/dev/nvidiactl") or os.path.exists("/proc/driver/nvidia")
    return True


def _provider_chains(providers):
    """The provider lists to try, best first, for `providers` ("auto", an alias, or ORT names)."""
    available = ort.get_available_providers()
    if providers == "auto":
        gpu = [p for p in (TENSORRT, CUDA) if p in available] if gpu_visible() else []
        # TensorRT -> CUDA -> CPU; if a chain fails outright, the next drops its head.
        return [gpu[i:] + [CPU] for i in range(len(gpu) + 1)], False
    names = [providers] if isinstance(providers, str) else list(providers)
    names = [PROVIDER_ALIASES.get(str(name).lower(), name) for name in names]
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"onnxruntime here has no provider {unknown}; it offers {available}.")
    if CPU not in names:
        names.append(CPU)
    return [names], True


def _session_options(intra_op_threads):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # failed GPU provider loads are expected on CPU hosts; we report the pick
    if intra_op_threads:
        options.intra_op_num_threads = int(intra_op_threads)
    return options


def _open_session(path, providers, intra_op_threads):
    """An onnxruntime session on `path` with the first provider chain that loads; ValueError if none does."""
    chains, explicit = _provider_chains(providers)
    errors = []
    for chain in chains:
        try:
            session = ort.InferenceSession(str(path), _session_options(intra_op_threads), providers=chain)
        except Exception as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            if any(code in message for code in ("INVALID_PROTOBUF", "INVALID_GRAPH", "NO_MODEL")):
                raise ValueError(f"{path} is not a valid ONNX model ({message}).") from None
            errors.append(f"{chain[0]}: {message}")
            continue
        if explicit and session.get_providers()[0] != chain[0]:
            raise ValueError(
                f"onnxruntime could not load {chain[0]} here (got {session.get_providers()}); "
                "check the CUDA / TensorRT libraries, or use providers='auto'."
            )
        return session
    raise ValueError(f"onnxruntime could not open {path}: {'; '.join(errors)}")


class GeneratorSession:
    """An exported GAN Zoo generator in an onnxruntime session.

    `providers="auto"` tries TensorRT, then CUDA, then the CPU, keeping the first that actually
    loads (onnxruntime lists GPU providers even where none can run, so the session is asked);
    `.provider` names the one in use. Pass "cpu", "cuda", "tensorrt" or a list of onnxruntime
    provider names to choose; a requested GPU provider that does not load is a ValueError.

    Attributes from the model's metadata: `metadata` (all of it), `latent_dim`, `num_classes`
    (None when unconditional), `class_names`, `prior` ("uniform" or "normal"), `prior_params`
    ({"low", "high"} or {"mean", "std"}), `prior_range` (those two numbers in that order),
    `image_shape` (one sample's shape, also `data_shape`), `value_range` ((min, max) or None).
    Labels are fed in the graph's label type (int64, or int32 for exports made for WebGL).

    It satisfies the sampler protocol of `export.sampling`: `generate` returns float32 in
    `value_range`, like `zoo.GAN.generate`; `generate_images` returns uint8 pixels.

    Args:
        path: the .onnx file `ganzoo export` (or `export_generator`) wrote.
        providers: "auto", "cpu", "cuda", "tensorrt", or a list of onnxruntime provider names.
        intra_op_threads: onnxruntime's intra-op thread count; None for its default.
    """

    def __init__(self, path, providers="auto", intra_op_threads=None):
        self.path = pathlib.Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no ONNX model at {self.path}")
        self.session = self._create_session(providers, intra_op_threads)
        props = self.session.get_modelmeta().custom_metadata_map
        self.metadata = metadata_lib.decode(props, source=str(self.path))
        self.provider = self.session.get_providers()[0]
        self._input_names = {i.name for i in self.session.get_inputs()}
        label_types = [i.type for i in self.session.get_inputs() if i.name == "label"]
        self._label_dtype = np.int32 if label_types == ["tensor(int32)"] else np.int64
        self._output_name = self.session.get_outputs()[0].name
        expected = {"z", "label"} if self.conditional else {"z"}
        if self._input_names != expected:
            raise ValueError(f"{self.path} has inputs {sorted(self._input_names)}, expected {sorted(expected)}.")

    @classmethod
    def from_pretrained(cls, name, providers="auto", intra_op_threads=None):
        """A shipped generator by name (see `saved_models.names("generator")`), from the files installed with the package.

        Args:
            name: e.g. "conditional_mnist".
            providers, intra_op_threads: as for the constructor.

        Raises:
            ValueError: no model has that name (the message lists the names), or it names a translator (the
                message says to use `TranslatorSession.from_pretrained`).
        """
        import saved_models

        path = saved_models.path(name, "onnx", model_kind=saved_models.GENERATOR)
        return cls(path, providers=providers, intra_op_threads=intra_op_threads)

    def _create_session(self, providers, intra_op_threads):
        return _open_session(self.path, providers, intra_op_threads)

    # ----------------------------------------------------------------- what the metadata says

    @property
    def latent_dim(self):
        return int(self.metadata["latent_dim"])

    @property
    def num_classes(self):
        value = self.metadata["num_classes"]
        return None if value is None else int(value)

    @property
    def conditional(self):
        return self.num_classes is not None

    @property
    def class_names(self):
        return self.metadata.get("class_names")

    @property
    def prior(self):
        return self.metadata["prior"]

    @property
    def prior_params(self):
        return {key: float(value) for key, value in self.metadata["prior_params"].items()}

    @property
    def prior_range(self):
        return tuple(self.prior_params[key] for key in metadata_lib.PRIOR_PARAMS[self.prior])

    @property
    def image_shape(self):
        return tuple(int(d) for d in self.metadata["image_shape"])

    @property
    def data_shape(self):
        """One sample's shape, as `zoo.GAN.data_shape` calls it."""
        return self.image_shape

    @property
    def value_range(self):
        value = self.metadata["value_range"]
        return None if value is None else (float(value["min"]), float(value["max"]))

    def __repr__(self):
        kind = f"conditional, {self.num_classes} classes" if self.conditional else "unconditional"
        return (
            f"GeneratorSession({str(self.path)!r}, preset={self.metadata.get('preset')!r}, {kind}, "
            f"image_shape={self.image_shape}, provider={self.provider!r})"
        )

    # ----------------------------------------------------------------- sampling

    def sample_noise(self, n, seed=None):
        """z from the model's prior, float32 (n, latent_dim); `seed` makes it repeatable."""
        return sampling.prior_noise(n, self.latent_dim, self.prior, self.prior_range, seed)

    def __call__(self, z, labels=None):
        """G(z) or G(z, labels): the raw float32 output, shape (batch, *image_shape), in `value_range`."""
        z = self._checked_z(z)
        feeds = {"z": z}
        labels = self._checked_labels(labels, len(z))
        if labels is not None:
            feeds["label"] = labels
        return self.session.run([self._output_name], feeds)[0]

    def generate(self, n, labels=None, seed=None, z=None):
        """n samples, float32 (n, *image_shape) in `value_range` (the sampler protocol).

        Args:
            n: how many samples.
            labels: one class index or n of them (conditional models only).
            seed: an int makes the noise repeatable.
            z: float32 (n, latent_dim) to choose the noise yourself.
        """
        n = sampling.positive(n)
        if z is None:
            z = sampling.LazyNoise(n, self.latent_dim, self.prior, self.prior_range, seed)
        else:
            z = self._checked_z(z)
        if len(z) != n:
            raise ValueError(f"n is {n} but z holds {len(z)} latent vectors.")
        labels = self._checked_labels(labels, n)
        return sampling.generate_in_chunks(self, z, labels, GENERATE_CHUNK)

    def generate_images(self, n, labels=None, seed=None, z=None):
        """n images as uint8 NHWC pixels: `generate`, mapped from `value_range` to [0, 255].

        Args:
            n, labels, seed, z: as for `generate`.
        """
        if len(self.image_shape) != 3:
            raise ValueError(f"{self.path} generates vectors of shape {self.image_shape}, not images.")
        return to_uint8(self.generate(n, labels=labels, seed=seed, z=z), self.value_range)

    # ----------------------------------------------------------------- input checks

    def _checked_z(self, z):
        if not isinstance(z, np.ndarray):
            z = np.asarray(z)
        if z.dtype != np.float32:
            raise ValueError(f"z must be float32, got {z.dtype}; convert with z.astype('float32').")
        if z.ndim != 2 or z.shape[1] != self.latent_dim or z.shape[0] == 0:
            raise ValueError(f"z must have shape (batch >= 1, {self.latent_dim}), got {z.shape}.")
        if not np.isfinite(z).all():
            raise ValueError("z holds NaN or Inf values; the generator's output for them would be meaningless.")
        return np.ascontiguousarray(z)

    def _checked_labels(self, labels, n):
        labels = sampling.check_labels(labels, n, self.num_classes, self.class_names)
        return None if labels is None else labels.astype(self._label_dtype)


# --------------------------------------------------------------------------- image-to-image translators

# Images per onnxruntime call in `TranslatorSession.translate`: bounds the activations' memory at large sizes.
TRANSLATE_CHUNK = 16
# How far float images may stray outside the input range (rounding in the caller's own scaling) and still pass.
RANGE_SLACK = 1e-3


class TranslatorSession:
    """An exported GAN Zoo image-to-image translator (a pix2pix or CycleGAN generator) in an onnxruntime session.

    The graph takes `images`, float32 NHWC in `input_range` ([-1, 1]) of any batch, height and width that are
    multiples of `size_multiple`, and returns `translated`, the same batch and size with `channels_out`
    channels, in inference mode (dropout off; see `metadata["test_time_dropout"]`). `translate` also takes
    uint8 pixels and one HWC image, and gives back the same kind.

    Providers as `GeneratorSession`: "auto" (the default, also None) tries TensorRT, then CUDA, then the CPU,
    keeping the first that loads; `.provider` names the one in use and `.providers` the session's whole list.

    Attributes from the metadata: `metadata` (all of it), `model_name` ("pix2pix" or "cyclegan"), `direction`
    ("ab" or "ba"), `channels_in`, `channels_out`, `size_multiple`, `training_image_shape` ((H, W, C) or None),
    `input_range` and `value_range` ((low, high) of the input and the output).

    Args:
        path: the .onnx file `export.export_translator` wrote.
        providers: None or "auto", "cpu", "cuda", "tensorrt", or a list of onnxruntime provider names.
        intra_op_threads: onnxruntime's intra-op thread count; None for its default.
    """

    def __init__(self, path, providers=None, intra_op_threads=None):
        self.path = pathlib.Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no ONNX model at {self.path}")
        self.session = _open_session(self.path, "auto" if providers is None else providers, intra_op_threads)
        props = self.session.get_modelmeta().custom_metadata_map
        self.metadata = metadata_lib.decode_translator(props, source=str(self.path))
        self.providers = self.session.get_providers()
        self.provider = self.providers[0]
        names = [value.name for value in self.session.get_inputs()]
        if names != ["images"]:
            raise ValueError(f"{self.path} has inputs {names}, expected ['images'].")
        self._output_name = self.session.get_outputs()[0].name

    @classmethod
    def from_pretrained(cls, name, providers=None, intra_op_threads=None):
        """A shipped translator by name (see `saved_models.names("translator")`), from the files installed with
        the package.

            session = TranslatorSession.from_pretrained("pix2pix_edges2fashion")
            items = session.translate(edge_maps)    # uint8 (N, 32, 32, 1) in, uint8 out

        Args:
            name: e.g. "pix2pix_edges2fashion" or "cyclegan_thin2thick".
            providers, intra_op_threads: as for the constructor.

        Raises:
            ValueError: no model has that name (the message lists the translators), or it names a noise-to-image
                generator (the message says to use `GeneratorSession.from_pretrained`).
        """
        import saved_models

        path = saved_models.path(name, "onnx", model_kind=saved_models.TRANSLATOR)
        return cls(path, providers=providers, intra_op_threads=intra_op_threads)

    @property
    def model_name(self):
        return self.metadata["model"]

    @property
    def direction(self):
        return self.metadata["direction"]

    @property
    def channels_in(self):
        return int(self.metadata["channels_in"])

    @property
    def channels_out(self):
        return int(self.metadata["channels_out"])

    @property
    def size_multiple(self):
        return int(self.metadata["size_multiple"])

    @property
    def training_image_shape(self):
        shape = self.metadata.get("training_image_shape")
        return None if shape is None else tuple(int(side) for side in shape)

    @property
    def input_range(self):
        return float(self.metadata["input_range"]["min"]), float(self.metadata["input_range"]["max"])

    @property
    def value_range(self):
        value = self.metadata["value_range"]
        return None if value is None else (float(value["min"]), float(value["max"]))

    def __repr__(self):
        return (
            f"TranslatorSession({str(self.path)!r}, model={self.model_name!r}, direction={self.direction!r}, "
            f"channels {self.channels_in} -> {self.channels_out}, size_multiple={self.size_multiple}, "
            f"provider={self.provider!r})"
        )

    def translate(self, images, batch_size=TRANSLATE_CHUNK):
        """Translated images, of the kind given: float32 in `value_range` for float32 input, uint8 for uint8.

        Args:
            images: (N, H, W, C) or one (H, W, C) image, channels last; float32 in `input_range` ([-1, 1]) or
                uint8 pixels in [0, 255]. H and W must be multiples of `size_multiple`; C must be `channels_in`.
            batch_size: images per onnxruntime call (bounds memory; the result does not depend on it).
        """
        images = np.asarray(images)
        single = images.ndim == 3
        batch = self._checked(images[None] if single else images, images.shape)
        pixels = batch.dtype == np.uint8
        if pixels:
            low, high = self.input_range
            batch = batch.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low)
        batch = np.ascontiguousarray(batch)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        step = int(batch_size)
        outputs = np.concatenate([
            self.session.run([self._output_name], {"images": batch[i : i + step]})[0]
            for i in range(0, len(batch), step)
        ])
        if pixels:
            outputs = to_uint8(outputs, self.value_range)
        return outputs[0] if single else outputs

    def _checked(self, images, given):
        """`images` (N, H, W, C) as given (of shape `given`), or the one ValueError that says what is wrong."""
        if images.dtype not in (np.float32, np.uint8):
            raise ValueError(
                f"images must be float32 in [{self.input_range[0]:g}, {self.input_range[1]:g}] or uint8 pixels in "
                f"[0, 255], got {images.dtype}; convert with images.astype('float32')."
            )
        if images.ndim != 4 or images.shape[0] == 0:
            hint = " (a grayscale image needs its channel axis: images[..., None])" if images.ndim == 2 else ""
            raise ValueError(
                f"images must be a batch (N >= 1, H, W, {self.channels_in}) or one (H, W, {self.channels_in}) image, "
                f"channels last; got shape {given}{hint}."
            )
        _, height, width, channels = images.shape
        if channels != self.channels_in:
            raise ValueError(
                f"{self.path} takes {self.channels_in}-channel images, channels last (NHWC); got {channels} channels "
                f"in shape {given}."
            )
        m = self.size_multiple
        if height % m or width % m:
            raise ValueError(
                f"{self.path} takes heights and widths that are multiples of {m}; got height {height} and width "
                f"{width}: crop, pad or resize the images (e.g. to height {-(-height // m) * m} and width "
                f"{-(-width // m) * m})."
            )
        if images.dtype == np.float32:
            low, high = self.input_range
            finite = np.isfinite(images).all()
            if not finite or images.min() < low - RANGE_SLACK or images.max() > high + RANGE_SLACK:
                found = "NaN or Inf values" if not finite else f"values in [{images.min():g}, {images.max():g}]"
                raise ValueError(
                    f"float32 images must lie in [{low:g}, {high:g}], got {found}; pass uint8 pixels as they are "
                    "(they are scaled for you)."
                )
        return images


def save_grid(images, path, nrow=None, padding=2, scale=None):
    """Tile images (N, H, W, C) into one PNG; returns the path.

    Args:
        images: uint8 images as they are, or floats in [-1, 1].
        path: the PNG file to write (its folder is created).
        nrow: images per row (default: a square-ish grid).
        padding: pixels between images.
        scale: enlarge each pixel this many times (default: enough that a tile is at least 64
            pixels wide, so 8x8 digits stay visible).
    """
    grid = sampling.image_grid(images, nrow=nrow, padding=padding, scale=scale)
    path = pathlib.Path(path)
    with files.atomic_target(path) as temporary:
        sampling.to_pil(grid).save(temporary, format="PNG")
    return path
