"""Reusable layers for GAN generators and discriminators."""

import keras
import numpy as np
from keras import ops

from zoo.tf_optional import replica_context, tf


def _gathered_over_replicas(values):
    """`values` from every replica of a tf.distribute strategy (this replica's alone otherwise).

    Minibatch features compare a sample with the whole batch; under a strategy the batch is the
    global one, so each replica compares its rows with every replica's (all_gather is differentiable).
    """
    context = replica_context()  # None off TensorFlow: JAX's DataParallel computes on the global batch itself
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_gather(values, axis=0)


@keras.saving.register_keras_serializable(package="ganzoo")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, section 3.2).

    Lets the discriminator look at a whole batch at once, so a generator that collapses onto a
    few modes produces tell-tale near-identical rows. Features f (N x A) are projected through a
    tensor T (A x B x C) to M (N x B x C); for each of the B kernels, o(x_i)_b = sum over the
    *other* samples j of exp(-||M_i,b - M_j,b||_1), over the global batch under a distribution
    strategy. The output is [f, o]: width A + B.

    Args:
        num_kernels: B, the number of minibatch kernels (output features added).
        kernel_dim: C, the dimension of each kernel's projection.
        weight_norm: openai/improved-gan's `MinibatchLayer`: T weight-normalised with a learnt log scale per
            (kernel, dimension), a learnt bias on the B features (from -1), and `initialize` from data.
        **kwargs: passed to `keras.layers.Layer` (e.g. name, dtype).
    """

    def __init__(self, num_kernels=100, kernel_dim=5, weight_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)
        self.weight_norm = bool(weight_norm)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05),
        )
        if self.weight_norm:
            self.log_scale = self.add_weight(name="log_scale", shape=(self.num_kernels, self.kernel_dim), initializer="zeros")
            self.bias = self.add_weight(name="bias", shape=(self.num_kernels,), initializer=keras.initializers.Constant(-1.0))
            self.initialized = self.add_weight(name="initialized", shape=(), initializer="zeros", trainable=False)

    def projection(self, features):
        """M = f T as (N, B, C); under `weight_norm`, T's (kernel, dimension) columns scaled to exp(log_scale)."""
        kernel = self.kernel
        if self.weight_norm:
            theta = ops.reshape(kernel, (-1, self.num_kernels, self.kernel_dim))
            theta = theta * ops.exp(self.log_scale) / ops.sqrt(ops.sum(ops.square(theta), axis=0))
            kernel = ops.reshape(theta, (-1, self.num_kernels * self.kernel_dim))
        return ops.reshape(ops.matmul(features, kernel), (-1, self.num_kernels, self.kernel_dim))

    def call(self, features):
        m = self.projection(features)
        others = _gathered_over_replicas(m)
        l1 = ops.sum(ops.abs(ops.expand_dims(m, 1) - ops.expand_dims(others, 0)), axis=-1)  # N x N_global x B
        closeness = ops.sum(ops.exp(-l1), axis=1) - 1.0  # drop j == i, whose distance is 0
        if self.weight_norm:
            closeness = closeness + self.bias
        return ops.concatenate([features, ops.cast(closeness, features.dtype)], axis=-1)

    def initialize(self, features):
        """improved-gan's data-based initialisation (`weight_norm` only): each kernel's scale divided by half the
        mean over the batch of each sample's smallest L1 distance to another, then the bias to minus the mean of
        the features that gives, so they start centred.

        Args:
            features: a batch of this layer's inputs (their code: 500 training images through D).
        """
        m = ops.convert_to_numpy(self.projection(ops.convert_to_tensor(features))).astype("float32")

        def distances():  # (rows, N x B) L1 distances of 50 rows at a time to all, inf to themselves
            for start in range(0, len(m), 50):
                l1 = np.abs(m[start : start + 50, None] - m[None]).sum(axis=-1)
                l1[np.arange(len(l1)), start + np.arange(len(l1))] = np.inf
                yield l1

        half_mean_nearest = 0.5 * np.concatenate([l1.min(axis=1) for l1 in distances()]).mean(axis=0, dtype="float64")
        self.log_scale.assign(ops.convert_to_numpy(self.log_scale) - np.log(half_mean_nearest)[:, None])
        scale = (1.0 / half_mean_nearest).astype("float32")  # every distance scales with the kernel's scale
        closeness = np.concatenate([np.exp(-l1 * scale).sum(axis=1) for l1 in distances()])
        self.bias.assign(-closeness.mean(axis=0, dtype="float64"))
        self.initialized.assign(1.0)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim,
                "weight_norm": self.weight_norm}


@keras.saving.register_keras_serializable(package="ganzoo")
class WeightNormDense(keras.layers.Layer):
    """A dense layer with weight normalisation (Salimans & Kingma 2016) as openai/improved-gan's `nn.DenseLayer`:
    W = scale * theta / ||theta|| (each unit's column of theta at unit length), y = activation(x W + bias).
    `initialize(x)` sets scale and bias from a batch so that every unit's pre-activation has mean 0 and std 1 on
    it (their data-based initialisation); `initialized` records that it ran and is saved with the weights.

    Args:
        units: output width.
        activation: a Keras activation; None for linear.
        train_scale: whether `scale` is trained (their hidden layers: no; their output layer: yes).
        theta_stddev: theta's N(0, std) (theirs 0.1; only its directions matter).
        data_init: whether `initialize` runs from data (their `l2normalize`, on G's output layer, has none).
        **kwargs: passed to `keras.layers.Layer` (e.g. name, dtype).
    """

    def __init__(self, units, activation=None, train_scale=False, theta_stddev=0.1, data_init=True, **kwargs):
        super().__init__(**kwargs)
        self.data_init = bool(data_init)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.train_scale = bool(train_scale)
        self.theta_stddev = float(theta_stddev)

    def build(self, input_shape):
        self.theta = self.add_weight(name="theta", shape=(input_shape[-1], self.units),
                                     initializer=keras.initializers.RandomNormal(stddev=self.theta_stddev))
        self.scale = self.add_weight(name="scale", shape=(self.units,), initializer="ones", trainable=self.train_scale)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        if self.data_init:
            self.initialized = self.add_weight(name="initialized", shape=(), initializer="zeros", trainable=False)

    @property
    def kernel(self):
        return self.theta * (self.scale / ops.sqrt(ops.sum(ops.square(self.theta), axis=0)))

    def call(self, inputs):
        return self.activation(ops.matmul(inputs, self.kernel) + self.bias)

    def initialize(self, inputs):
        """Scale and bias from a batch of this layer's inputs: pre-activations of mean 0 and std 1 on it.

        Args:
            inputs: the batch, shape (N, input width).
        """
        a = ops.convert_to_numpy(ops.matmul(ops.convert_to_tensor(inputs), self.kernel)).astype("float64")
        mean, std = a.mean(axis=0), np.maximum(a.std(axis=0), 1e-12)
        self.scale.assign(ops.convert_to_numpy(self.scale) / std)
        self.bias.assign(-mean / std)
        self.initialized.assign(1.0)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": keras.activations.serialize(self.activation),
                "train_scale": self.train_scale, "theta_stddev": self.theta_stddev, "data_init": self.data_init}


def layers_to_initialize(model):
    """The layers of `model` with a data-based initialisation (an `initialized` flag) that has not run yet."""
    flags = ((layer, getattr(layer, "initialized", None)) for layer in model.layers)
    return [layer for layer, flag in flags if flag is not None and not float(ops.convert_to_numpy(flag))]


def initialize_from_data(model, inputs):
    """Run the data-based initialisation of every layer of the functional `model` that has one (`initialize`, e.g.
    `WeightNormDense`) and has not run it yet, first to last, each on its own inputs given `inputs`: the layers
    before it already initialised, noise and dropout on (improved-gan's `init=True` pass). Returns how many ran.

    Args:
        model: a functional `keras.Model` with one input.
        inputs: a batch for that input.
    """
    pending = layers_to_initialize(model)
    for layer in pending:  # model.layers' order: each after the layers before it
        upto = keras.Model(model.inputs[0], layer.input)
        layer.initialize(upto(ops.convert_to_tensor(inputs), training=True))
    return len(pending)


@keras.saving.register_keras_serializable(package="ganzoo")
class Pack(keras.layers.Layer):
    """PacGAN packing (Lin et al. 2018): the discriminator judges `pack` samples at once.

    Rows i*pack ... i*pack + pack - 1 of the batch become one packed sample, joined along the last
    axis ([N, ..., C] -> [N / pack, ..., pack * C]), so D sees the joint distribution of `pack`
    samples and a generator that repeats itself is easy to tell apart. Real and fake batches are
    packed separately, so every pack is all real or all fake. N must be a multiple of `pack`.

    Args:
        pack: number of samples joined into one (positive int; 1 leaves the batch unchanged).
        **kwargs: passed to `keras.layers.Layer` (e.g. name, dtype).
    """

    def __init__(self, pack=2, **kwargs):
        super().__init__(**kwargs)
        self.pack = int(pack)

    def call(self, samples):
        n = ops.shape(samples)[0]
        message = f"ganzoo: PacGAN packing needs every batch (per replica) to be a multiple of pack={self.pack}"
        if keras.backend.backend() == "tensorflow":
            with tf.control_dependencies([tf.debugging.assert_equal(n % self.pack, 0, message=message)]):
                samples = tf.identity(samples)
        elif n % self.pack:  # JAX and torch know the batch size when the step is traced or run
            raise ValueError(message.replace("ganzoo: ", ""))
        inner = tuple(samples.shape[1:])
        grouped = ops.reshape(samples, (-1, self.pack, *inner))
        grouped = ops.moveaxis(grouped, 1, -2)  # [N/pack, ..., pack, C]
        return ops.reshape(grouped, (-1, *inner[:-1], self.pack * inner[-1]))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] // self.pack
        return (batch, *input_shape[1:-1], input_shape[-1] * self.pack)

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}


def latent_code_indices(z, num_codes):
    """The categorical code a `LatentCode` layer reads from z: argmax of its first `num_codes` entries."""
    return ops.cast(ops.argmax(z[:, :num_codes], axis=-1), "int32")


@keras.saving.register_keras_serializable(package="ganzoo")
class LatentCode(keras.layers.Layer):
    """InfoGAN's categorical latent code c (Chen et al. 2016), read from the noise itself.

    The code is the argmax of z's first K entries, one-hot: uniform over K values for any prior whose
    entries are i.i.d., so the generator keeps its single input z (and its export, its runtime and
    every sampler stay as they are) while it gets a discrete choice among K modes, which a continuous
    map of a connected noise space cannot make by itself. The discriminator's "code" head learns to
    read c back from G(z) and both players minimise that cross-entropy, so G has to use it.

    Args:
        num_codes: K, the number of code values (2 <= K <= latent_dim).
        **kwargs: passed to `keras.layers.Layer` (e.g. name, dtype).
    """

    def __init__(self, num_codes=10, **kwargs):
        super().__init__(**kwargs)
        self.num_codes = int(num_codes)

    def call(self, z):
        first = z[:, : self.num_codes]
        # Equal-to-max instead of argmax + one_hot: ReduceMax, Equal and Cast export to every ONNX runtime.
        return ops.cast(ops.equal(first, ops.max(first, axis=-1, keepdims=True)), z.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_codes)

    def get_config(self):
        return {**super().get_config(), "num_codes": self.num_codes}


@keras.saving.register_keras_serializable(package="ganzoo")
class Maxout(keras.layers.Layer):
    """A maxout layer (Goodfellow et al. 2013): `units` outputs, each the max of `pieces` affine pieces.

    The discriminator of Goodfellow et al. 2014 and of Mirza & Osindero 2014 is built of these
    (pylearn2's `Maxout` with `num_units`, `num_pieces`); piece p of unit u is column u * pieces + p,
    as pylearn2 lays them out.

    Args:
        units: outputs of the layer.
        pieces: affine pieces each output is the max of.
        kernel_initializer, bias_initializer: as for `keras.layers.Dense`.
        **kwargs: passed to `keras.layers.Layer` (e.g. name, dtype).
    """

    def __init__(self, units, pieces, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.pieces = int(pieces)
        if self.units < 1 or self.pieces < 1:
            raise ValueError(f"Maxout needs positive units and pieces, got {units} and {pieces}.")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        width = self.units * self.pieces
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], width), initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(width,), initializer=self.bias_initializer)

    def call(self, inputs):
        pieces = ops.matmul(inputs, self.kernel) + self.bias
        return ops.max(ops.reshape(pieces, (-1, self.units, self.pieces)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="ganzoo")
class CodeAndNoise(LatentCode):
    """InfoGAN's generator input (Chen et al. 2016) made from z alone: [one-hot c, z[:, K:]].

    The categorical code c is read from z's first K entries as `LatentCode` reads it, and replaces them,
    so the generator sees exactly the paper's input: K one-hot values, then the rest of z, whose first
    `continuous_codes` entries (U(-1, 1) under the uniform prior) are the continuous codes and whose
    remaining entries are the noise. The output has z's width.

    Args:
        num_codes: K, the values of the categorical code.
        **kwargs: passed to `keras.layers.Layer` (e.g. name, dtype).
    """

    def call(self, z):
        return ops.concatenate([super().call(z), z[:, self.num_codes :]], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _output_and_padding_before(size, kernel, stride, padding):
    """A convolution's output size over `size` and the zeros it pads before, as Keras's conv pads ("same": the
    total split with the extra zero after, as TensorFlow and XLA's "SAME" do)."""
    if padding == "same":
        output = -(-size // stride)
        return output, max((output - 1) * stride + kernel - size, 0) // 2
    return (size - kernel) // stride + 1, 0


def _conv_transpose_by_taps(inputs, kernel, strides, padding, output_size):
    """`ops.conv_transpose` (channels_last, Keras's kernel layout (kh, kw, out, in)) written out as its definition:
    one matrix product gives every input position's contribution through every tap, and the output is the sum of
    those contributions, each input position's shifted to where its taps land (stride x position, less the padding).

    Exact (the same sums; without output_padding, Keras's transposed convolution is the strided convolution's adjoint
    for any size). No convolution at all, which is the point where the kernel is larger than the input map
    (`_conv_transpose_on_jax` says why); the sum has a term per input position, no more than the kernel's taps there
    (`_by_taps`).
    """
    kernel_rows, kernel_cols = kernel.shape[:2]
    rows, cols = inputs.shape[1:3]
    (stride_rows, stride_cols), (height, width) = strides, output_size
    top = _output_and_padding_before(height, kernel_rows, stride_rows, padding)[1]
    left = _output_and_padding_before(width, kernel_cols, stride_cols, padding)[1]
    contributions = ops.einsum("nhwc,ijoc->nhwijo", inputs, kernel)
    # Unpadded, the output spans (rows - 1) * stride + k; "same" and "valid" keep [top, top + height) of it.
    full_rows = max((rows - 1) * stride_rows + kernel_rows, top + height)
    full_cols = max((cols - 1) * stride_cols + kernel_cols, left + width)
    outputs = 0
    for row in range(rows):
        for col in range(cols):
            first_row, first_col = row * stride_rows, col * stride_cols
            placed = ((0, 0), (first_row, full_rows - first_row - kernel_rows),
                      (first_col, full_cols - first_col - kernel_cols), (0, 0))
            outputs = outputs + ops.pad(contributions[:, row, col], placed)
    return outputs[:, top : top + height, left : left + width]


def _by_taps(kernel_shape, shape):
    """Whether a transposed convolution over this (channels_last) map is written out tap by tap: XLA:CPU's slow case,
    a kernel larger than the map in either spatial axis, where the map has no more positions than the kernel has
    taps (the zoo's square ones), which keeps `_conv_transpose_by_taps` a short sum."""
    smaller = kernel_shape[0] > shape[1] or kernel_shape[1] > shape[2]
    return smaller and shape[1] * shape[2] <= kernel_shape[0] * kernel_shape[1]


def _with_vjp(forward, backward):
    """`forward(x, k)` as a JAX custom_vjp function whose gradients are `backward(x, k, upstream)` -> (dx, dk)."""
    import jax

    function = jax.custom_vjp(forward)
    function.defvjp(lambda x, k: (forward(x, k), (x, k)), lambda residuals, upstream: backward(*residuals, upstream))
    return lambda inputs, kernel: function(ops.convert_to_tensor(inputs), ops.convert_to_tensor(kernel))


def _conv_transpose_on_jax(inputs, kernel, options, output_size=None):
    """`ops.conv_transpose(inputs, kernel, **options)` on JAX, computed as XLA:CPU computes fast.

    XLA:CPU computes two kinds of convolution at a tenth or less of the rate of the others (jax-ml/jax#31662,
    openxla/xla#34273; docs/backends.md, benchmarks/jax_convolutions.md): the kernel gradient of a strided
    transposed convolution (an lhs-dilated convolution), and a transposed convolution whose kernel is larger than
    its input map (wgan's 4x4 -> 8x8 under 5x5, AC-GAN's stride-1 3x3 -> 7x7). The
    transposed convolution T_k is linear in its input; its adjoint A_k is the strided convolution with k. So the
    input gradient is A_k(g), and d<g, T_k x>/dk = d<A_k g, x>/dk, a strided convolution's kernel gradient,
    which XLA computes as fast as the forward pass; and where the kernel is larger than the input, the forward
    pass is written out tap by tap (`_conv_transpose_by_taps`), a matrix product. Exact (the same sums in another
    order). `output_size`: the output's (rows, cols) where T_k is Keras's conv over that size transposed
    (channels_last, no output_padding or dilation); None otherwise, where A_k is taken by `jax.linear_transpose`.
    """
    import jax

    def adjoint(upstream, k, x_spec):
        if output_size is not None:
            return ops.conv(upstream, k, strides=options["strides"], padding=options["padding"])
        return jax.linear_transpose(lambda x: ops.conv_transpose(x, k, **options), x_spec)(upstream)[0]

    def forward(x, k):
        if output_size is not None and _by_taps(k.shape, x.shape):
            return _conv_transpose_by_taps(x, k, options["strides"], options["padding"], output_size)
        return ops.conv_transpose(x, k, **options)

    def backward(x, k, upstream):
        x_spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
        # d<A_k g, x>/dk is A's vjp in k at x; A_k g itself is the input's gradient.
        input_gradient, adjoint_vjp = jax.vjp(lambda k: adjoint(upstream, k, x_spec), k)
        return input_gradient, adjoint_vjp(x)[0]

    return _with_vjp(forward, backward)(inputs, kernel)


def _strided_conv_on_jax(inputs, kernel, strides, padding):
    """`ops.conv` on JAX, with the input gradient (a transposed convolution of the upstream gradient) written out tap
    by tap: for a convolution whose output map is smaller than its kernel (`_by_taps`; XLA:CPU's slow case,
    `_conv_transpose_on_jax` says why). That gradient's own derivatives are JAX's, so a gradient penalty (a gradient
    of this gradient) trains as fast."""
    import jax

    def conv(x, k):
        return ops.conv(x, k, strides=strides, padding=padding)

    def backward(x, k, upstream):
        input_gradient = _conv_transpose_by_taps(upstream, k, strides, padding, x.shape[1:3])
        return input_gradient, jax.vjp(lambda k: conv(x, k), k)[1](upstream)[0]

    return _with_vjp(conv, backward)(inputs, kernel)


def _plain_channels_last(layer):
    """Whether a Conv2D or Conv2DTranspose is one `_conv_transpose_by_taps` covers: channels_last, no dilation,
    groups or output_padding."""
    return (
        layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1)
        and getattr(layer, "groups", 1) == 1
        and getattr(layer, "output_padding", None) is None
    )


def _finish(layer, outputs):
    """Bias and activation, as Keras's convolution layers add them."""
    if layer.use_bias:
        channels = (1, 1, 1, layer.filters) if layer.data_format == "channels_last" else (1, layer.filters, 1, 1)
        outputs = ops.add(outputs, ops.reshape(layer.bias, channels))
    return outputs if layer.activation is None else layer.activation(outputs)


@keras.saving.register_keras_serializable(package="ganzoo")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` (same arguments, weights and outputs) that trains fast on JAX's CPU.

    On JAX (channels_last, no dilation or output_padding) the kernel gradient is taken as a strided
    convolution's, and a kernel larger than the input map is written out tap by tap
    (`_conv_transpose_on_jax` says why), which makes the zoo's training steps several times faster on a CPU
    (benchmarks/jax_convolutions.md); on TensorFlow and torch it is Keras's layer unchanged. The zoo's
    generators use it.

    Args:
        *args, **kwargs: those of `keras.layers.Conv2DTranspose` (filters, kernel_size, strides, padding,
            output_padding, data_format, dilation_rate, activation, use_bias, initializers, ...).
    """

    def call(self, inputs):
        if keras.backend.backend() != "jax":
            return super().call(inputs)
        options = dict(strides=list(self.strides), padding=self.padding, output_padding=self.output_padding,
                       dilation_rate=self.dilation_rate, data_format=self.data_format)
        output_size = tuple(self.compute_output_shape(inputs.shape)[1:3]) if _plain_channels_last(self) else None
        return _finish(self, _conv_transpose_on_jax(inputs, self.kernel, options, output_size))


@keras.saving.register_keras_serializable(package="ganzoo")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` (same arguments, weights and outputs) whose input gradient is fast on JAX's CPU.

    On JAX (channels_last, strided, no dilation or groups), where the kernel is larger than the output map (a
    critic's 7x7 -> 4x4 5x5 convolution), the input gradient is written out tap by tap
    (`_strided_conv_on_jax` says why); elsewhere it is Keras's layer unchanged. The zoo's discriminators use it.

    Args:
        *args, **kwargs: those of `keras.layers.Conv2D` (filters, kernel_size, strides, padding, data_format,
            dilation_rate, groups, activation, use_bias, initializers, ...).
    """

    def call(self, inputs):
        if keras.backend.backend() != "jax" or not _plain_channels_last(self) or tuple(self.strides) == (1, 1):
            return super().call(inputs)
        if not _by_taps(self.kernel.shape, self.compute_output_shape(inputs.shape)):
            return super().call(inputs)  # XLA:CPU's own input gradient is fast here
        return _finish(self, _strided_conv_on_jax(inputs, self.kernel, tuple(self.strides), self.padding))
