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


def _conv_transpose_fast_kernel_gradient(inputs, kernel, **options):
    """`ops.conv_transpose` on JAX, with the kernel gradient taken as a strided convolution's.

    XLA:CPU computes the kernel gradient of a strided transposed convolution (an lhs-dilated convolution) with
    a naive loop, most of a dcgan training step (jax-ml/jax#31662, openxla/xla#34273; benchmarks/training.md). The
    transposed convolution is linear in its input; its adjoint in the input, A_k(g), is the strided
    convolution of g with k, and d<g, T_k x>/dk = d<A_k g, x>/dk: a strided convolution's kernel gradient,
    which XLA computes as fast as the forward pass. Exact (the same sums in another order).
    """
    import jax

    def forward(x, k):
        return ops.conv_transpose(x, k, **options)

    @jax.custom_vjp
    def conv_transpose(x, k):
        return forward(x, k)

    def conv_transpose_forward(x, k):
        return forward(x, k), (x, k)

    def conv_transpose_backward(residuals, upstream):
        x, k = residuals
        input_spec = jax.ShapeDtypeStruct(x.shape, x.dtype)

        def adjoint(k):
            return jax.linear_transpose(lambda x: forward(x, k), input_spec)(upstream)[0]

        # d<A_k g, x>/dk is A's vjp in k at x; A_k g itself is the input's gradient.
        input_gradient, adjoint_vjp = jax.vjp(adjoint, k)
        return input_gradient, adjoint_vjp(x)[0]

    conv_transpose.defvjp(conv_transpose_forward, conv_transpose_backward)
    return conv_transpose(ops.convert_to_tensor(inputs), ops.convert_to_tensor(kernel))


@keras.saving.register_keras_serializable(package="ganzoo")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` (same arguments, weights and outputs) that trains fast on JAX's CPU.

    On JAX the kernel gradient is taken as a strided convolution's (`_conv_transpose_fast_kernel_gradient`
    says why), which makes the dcgan preset's training step several times faster on a CPU
    (benchmarks/training.md); on TensorFlow and torch it is Keras's layer unchanged. The zoo's generators use it.

    Args:
        *args, **kwargs: those of `keras.layers.Conv2DTranspose` (filters, kernel_size, strides, padding,
            output_padding, data_format, dilation_rate, activation, use_bias, initializers, ...).
    """

    def call(self, inputs):
        if keras.backend.backend() != "jax":
            return super().call(inputs)
        outputs = _conv_transpose_fast_kernel_gradient(
            inputs,
            self.kernel,
            strides=list(self.strides),
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        if self.use_bias:
            channels = (1, 1, 1, self.filters) if self.data_format == "channels_last" else (1, self.filters, 1, 1)
            outputs = ops.add(outputs, ops.reshape(self.bias, channels))
        return outputs if self.activation is None else self.activation(outputs)
