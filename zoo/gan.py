"""The GAN model: a generator, a discriminator, and the training step that plays them against each other."""

import contextlib

import numpy as np
import keras
from keras import ops

from zoo import augment, checks, distribute, gradients, layers, losses, optimizers, random_states
from zoo.networks import checked_conditioning
from zoo.tf_optional import PIPELINE_ERRORS, is_dataset, replica_context, tf

PRIORS = ("uniform", "normal")


@contextlib.contextmanager
def _torch_global_seed(seed):
    """On torch, torch's global generator seeded with `seed` for the block, and restored after it (Keras's torch
    Dropout draws its masks there); elsewhere, or without a seed, nothing."""
    if seed is None or keras.backend.backend() != "torch":
        yield
        return
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield
UPDATES = ("alternating", "reuse_fake", "fused")


def _loss_name(loss, generator_loss):
    """`loss`, or the older `generator_loss` option (the cross-entropy losses only) that configs saved before
    `loss` existed still carry."""
    if generator_loss is not None:
        if generator_loss not in losses.CROSS_ENTROPY_LOSSES:
            raise ValueError(
                f"Unknown generator_loss {generator_loss!r}; choose one of {losses.CROSS_ENTROPY_LOSSES}, "
                f"or set loss= to one of {tuple(losses.LOSSES)}."
            )
        if loss is not None and loss != generator_loss:
            raise ValueError(f"loss={loss!r} and generator_loss={generator_loss!r} disagree; give loss only.")
        return generator_loss
    loss = "non_saturating" if loss is None else loss
    if loss not in losses.LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; choose one of {tuple(losses.LOSSES)}.")
    return loss


def _conditioning(conditioning, num_classes, discriminator):
    """The conditioning the discriminator implements ("concat" when a config predates the option)."""
    conditioning = checked_conditioning(conditioning, num_classes)
    if conditioning is None:
        return None
    expected = (1, 2) if conditioning == "acgan" else (2, 1)  # (inputs, outputs) of D
    if (len(discriminator.inputs), len(discriminator.outputs)) != expected:
        raise ValueError(
            f"a {conditioning!r} discriminator has {expected[0]} input(s) and {expected[1]} output(s); "
            f"this one has {len(discriminator.inputs)} and {len(discriminator.outputs)}."
        )
    return conditioning


def _check_latent_code(latent_code, generator, discriminator, num_classes, feature_matching, continuous_codes=0):
    """InfoGAN's pieces are all there: an unconditional G that reads the code, and D's code head."""
    codes = _layers_of_type(generator, layers.LatentCode)
    if num_classes is not None or feature_matching:
        raise ValueError("latent_code (InfoGAN) is for unconditional models without feature_matching.")
    if [layer.num_codes for layer in codes] != [latent_code]:
        raise ValueError(f"latent_code={latent_code} needs a generator with one LatentCode({latent_code}) layer.")
    width = latent_code + continuous_codes
    if len(discriminator.outputs) != 2 or discriminator.outputs[1].shape[-1] != width:
        raise ValueError(
            f"latent_code={latent_code} with {continuous_codes} continuous codes needs a discriminator with a second "
            f"output of {width} values (the code's logits, then the continuous codes' means)."
        )


def _layers_of(model):
    """Every layer inside `model`, through nested models and wrappers."""
    for layer in model.layers:
        yield layer
        inner = getattr(layer, "layer", None)  # a wrapper such as SpectralNormalization
        if inner is not None:
            yield inner
        if hasattr(layer, "layers"):
            yield from _layers_of(layer)


def _layers_of_type(model, layer_type):
    """The layers of `model` (through nested models and wrappers) that are `layer_type`s."""
    return [layer for layer in _layers_of(model) if isinstance(layer, layer_type)]


def _require_readable_twice(data, reason, method):
    """A data-based start reads the data before fit does: an array or a tf.data dataset can be read twice, a
    generator or PyDataset not, so there the user calls `method(samples)` first."""
    if not (is_dataset(data) or hasattr(data, "shape")):
        raise ValueError(f"{reason}: call {method}(samples) before fitting on a generator or PyDataset.")


def _samples_of(batch):
    """The samples of a dataset's element: the element itself, or the first of (samples, labels)."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


@keras.saving.register_keras_serializable(package="ganzoo")
class GAN(keras.Model):
    """A generator G and a discriminator D trained by Algorithm 1 of Goodfellow et al. (2014).

    Each `train_step` makes `d_steps` (k) discriminator updates, then one generator update.
    Every discriminator update reuses the step's real batch and draws fresh noise: a batch is
    what `fit` hands over, so re-slicing it would silently change the batch size the user chose.

    The discriminator outputs logits; all losses are computed from logits (see `zoo.losses`).
    A conditional GAN (`num_classes` set) feeds the real batch's labels to G as well, so D sees
    the same class mix on both sides.

    `update` picks how a step spends its forward passes (all three optimise the same losses;
    the last two need d_steps == 1):
    - "alternating" (default): Algorithm 1 as above; G is run once per D update and once more for
      its own update, on fresh noise;
    - "reuse_fake": one G forward pass per step, as in PyTorch's DCGAN example: D learns on the
      fakes, then G is updated through the same fakes, judged by the updated D;
    - "fused": simultaneous updates from one forward pass of G and D (both gradients from the
      same pre-update D): the cheapest step.

    Stabilisers (each off by default): `loss` picks the game (see `zoo.losses.LOSSES`; "wasserstein_gp"
    adds its gradient penalty with `gp_weight` and makes `d_steps` default to 5), `r1_weight` adds the
    R1 penalty, `diffaugment` augments both sides before D, `ema_decay` keeps an averaged generator
    (`sampling_generator`), `conditioning="acgan"` adds the auxiliary classifier's terms. Spectral
    normalisation and projection conditioning live in the discriminator itself.

    Reported metrics: `d_loss` (D's loss in the last D update, penalties included), `g_loss`,
    `d_real` (mean sigmoid(D(x)) in the last D update) and `d_fake` (mean sigmoid(D(G(z))) in the
    generator update, i.e. after D's updates; before them with update="fused"); with AC-GAN also
    `d_class_accuracy` (D's class head on real data). Under a `tf.distribute` strategy they, the
    losses and the gradients are global-batch values, as on one device (see `_noise_and_share`).

    The step is the same on the TensorFlow, JAX and PyTorch backends: it is written as stateful Keras code, and
    only taking and applying gradients differs (`zoo.gradients`).

    Args:
        generator: a `keras.Model` from z (or (z, label) when conditional) to samples.
        discriminator: a `keras.Model` from samples (and label, unless AC-GAN) to raw logits,
            shape (batch, 1); with conditioning="acgan" it also returns class logits.
        num_classes: number of classes for a conditional GAN; None for unconditional.
        prior: distribution of z, "uniform" (U(-1, 1)) or "normal" (N(0, 1)).
        d_steps: discriminator updates per step (k); None: 5 for "wasserstein_gp", else 1.
        loss: the loss pair's name in `zoo.LOSSES`; None for "non_saturating".
        label_smoothing: one-sided smoothing s in [0, 1) of D's real target (cross-entropy losses only).
        feature_matching: if True, G minimises the feature matching loss on D's "features" layer.
        preset: the preset name this model was built from, recorded in its config.
        seed: int (or None) for the model's `keras.random.SeedGenerator`.
        update: "alternating", "reuse_fake" or "fused" (see above).
        gp_weight: WGAN-GP penalty weight (used with loss="wasserstein_gp"), non-negative.
        r1_weight: R1 penalty weight gamma, non-negative (0: off).
        ema_decay: decay in [0, 1) of the averaged generator; None or 0: off.
        diffaugment: DiffAugment policy string (image data only); None: off.
        conditioning: "concat", "projection" or "acgan" (conditional models only); None: "concat".
        fake_class_weight: AC-GAN only: the weight of the class term on the fakes in D's loss. 1 is Odena et
            al.'s L_C (D's classifier also learns G's samples, which rewards G for drawing each class's most
            classifiable image); 0 is the Keras AC-GAN example's step, D's classifier learning on real
            images only (docs/models.md measures both).
        generator_loss: older name for `loss` ("non_saturating" or "minimax" only).
        latent_code: K for InfoGAN's categorical code (Chen et al. 2016), None or 0 for off: G reads
            it from z (`zoo.LatentCode`), D's second output ("code" head) reads it back from G(z),
            and both players add `code_weight` times that cross-entropy to their losses.
        code_weight: lambda, the weight of the code term.
        continuous_codes: InfoGAN's continuous codes (needs `latent_code`): z's entries K .. K + C - 1, which
            D's code head predicts after the categorical logits; their term is the Gaussian negative
            log-likelihood with unit variance (the paper's fixed-std Q), 0.5 * (c - mu)^2 summed over
            the codes, also weighted by `code_weight`.
        d_loss_scale: a factor on D's adversarial loss: Goodfellow et al.'s code minimised 0.5 * (the
            cross-entropy on real + on fake), which with SGD halves D's step.
        sampling_dropout: keep G's dropout on when sampling (`generate`, the sample grids, evaluation): a
            generator trained with dropout (Mirza & Osindero's) learns to draw its variety from the masks
            and, with them off, gives one image per class. `generate(seed=S)` seeds the masks too. The ONNX
            export reads the masks from extra columns of z (`export.exporter.dropout_masks_from_noise`).
        default_optimizer: the optimizer spec (`zoo.optimizers.make`) `compile()` gives each player when
            it is given none: the paper's (SGD with pylearn2's schedules for Goodfellow et al., RMSprop
            for WGAN, ...); None: Adam(2e-4, beta_1=0.5) as in DCGAN.
        output_bias_from_data: start the bias of G's "sigmoid_output" layer at the logits of the training
            data's mean pixels (pylearn2's `init_sigmoid_bias_from_marginals`), on the first `fit`.
        output_bias_initialized: whether that has happened (saved, so a trained model fitted again after
            `compile` keeps its bias).
        clip_value: WGAN's weight clipping (Arjovsky et al. 2017): before every D update each of D's
            trainable weights is clipped to [-c, c]; None or 0: off.
        **kwargs: passed to `keras.Model`.
    """

    def __init__(
        self,
        generator,
        discriminator,
        num_classes=None,
        prior="uniform",
        d_steps=None,
        loss=None,
        label_smoothing=0.0,
        feature_matching=False,
        preset=None,
        seed=None,
        update="alternating",
        gp_weight=10.0,
        r1_weight=0.0,
        ema_decay=None,
        diffaugment=None,
        conditioning=None,
        fake_class_weight=1.0,
        generator_loss=None,
        latent_code=None,
        code_weight=1.0,
        default_optimizer=None,
        output_bias_from_data=False,
        clip_value=None,
        continuous_codes=0,
        d_loss_scale=1.0,
        sampling_dropout=False,
        output_bias_initialized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        loss = _loss_name(loss, generator_loss)
        d_steps = (5 if loss in losses.WASSERSTEIN_LOSSES else 1) if d_steps is None else int(d_steps)
        conditioning = _conditioning(conditioning, num_classes, discriminator)
        if prior not in PRIORS:
            raise ValueError(f"Unknown prior {prior!r}; choose one of {PRIORS}.")
        if d_steps < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}.")
        if update not in UPDATES:
            raise ValueError(f"Unknown update {update!r}; choose one of {UPDATES}.")
        if update != "alternating" and d_steps != 1:
            raise ValueError(f"update={update!r} makes one D update per step; it needs d_steps=1, got {d_steps}.")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
        if label_smoothing and loss not in losses.CROSS_ENTROPY_LOSSES:
            raise ValueError(f"label_smoothing smooths D's probability targets; loss={loss!r} has none.")
        if float(r1_weight) < 0 or float(gp_weight) < 0:
            raise ValueError(f"penalty weights must be non-negative, got r1_weight={r1_weight}, gp_weight={gp_weight}.")
        if clip_value is not None and float(clip_value) < 0:
            raise ValueError(f"clip_value must be non-negative (0 or None: off), got {clip_value}.")
        if output_bias_from_data and "sigmoid_output" not in {layer.name for layer in generator.layers}:
            raise ValueError("output_bias_from_data needs a generator with a 'sigmoid_output' layer.")
        if ema_decay is not None and not 0.0 <= float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0 or None: off), got {ema_decay}.")
        if loss == "wasserstein_gp" and _layers_of_type(discriminator, keras.layers.BatchNormalization):
            raise ValueError(
                "loss='wasserstein_gp' penalises each sample's gradient, which BatchNorm in the critic mixes "
                "across the batch (Gulrajani et al. 2017, section 4): use LayerNormalization or none."
            )
        if not float(fake_class_weight) >= 0:
            raise ValueError(f"fake_class_weight must be non-negative, got {fake_class_weight}.")
        if feature_matching and conditioning == "acgan":
            raise ValueError("feature_matching replaces G's loss, which would drop AC-GAN's class term; use one.")
        latent_code = int(latent_code or 0)
        continuous_codes = int(continuous_codes or 0)
        if continuous_codes and not latent_code:
            raise ValueError("continuous_codes (InfoGAN) come with a categorical code: set latent_code too.")
        if latent_code:
            _check_latent_code(latent_code, generator, discriminator, num_classes, feature_matching, continuous_codes)
        if sampling_dropout and (
            not _layers_of_type(generator, keras.layers.Dropout)
            or _layers_of_type(generator, keras.layers.BatchNormalization)
        ):
            raise ValueError("sampling_dropout needs a generator with Dropout layers and no BatchNorm (which "
                             "sampling in training mode would switch to batch statistics).")
        if not float(d_loss_scale) > 0:
            raise ValueError(f"d_loss_scale must be positive, got {d_loss_scale}.")
        conditional_inputs = len(generator.inputs) == 2
        if conditional_inputs != (num_classes is not None):
            raise ValueError(
                "num_classes must be set exactly when the generator takes (z, label) inputs; "
                f"got num_classes={num_classes} and a generator with {len(generator.inputs)} input(s)."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.num_classes = None if num_classes is None else int(num_classes)
        self.prior = prior
        self.d_steps = d_steps
        self.loss = loss
        self.label_smoothing = float(label_smoothing)
        self.feature_matching = bool(feature_matching)
        self.preset = preset
        self.seed = seed
        self.update = update
        self.gp_weight = float(gp_weight)
        self.r1_weight = float(r1_weight)
        self.ema_decay = float(ema_decay) if ema_decay else None
        self.diffaugment = ",".join(augment.parse_policy(diffaugment)) or None
        if self.diffaugment and len(self.data_shape) != 3:
            raise ValueError(f"diffaugment transforms images (H, W, C); this GAN generates {self.data_shape}.")
        self.conditioning = conditioning
        self.fake_class_weight = float(fake_class_weight)
        self.latent_code = latent_code or None
        self.continuous_codes = continuous_codes
        self.d_loss_scale = float(d_loss_scale)
        self.sampling_dropout = bool(sampling_dropout)
        self.code_weight = float(code_weight)
        self.default_optimizer = optimizers.checked_spec(default_optimizer)
        self.output_bias_from_data = bool(output_bias_from_data)
        self.clip_value = float(clip_value) if clip_value else None
        self.output_bias_initialized = bool(output_bias_initialized)
        self.seed_generator = keras.random.SeedGenerator(seed)
        if self.feature_matching:
            # A view of D that also returns its penultimate features; it shares D's layers and weights.
            features = discriminator.get_layer("features").output
            self._features_and_logits = keras.Model(discriminator.inputs, [features, discriminator.outputs[0]])
        self.ema_generator = None
        if self.ema_decay:
            # The averaged generator (Yazici et al. 2019): same architecture, its own weights, never trained directly.
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.class_accuracy_tracker = keras.metrics.Mean(name="d_class_accuracy")
        self.code_accuracy_tracker = keras.metrics.Mean(name="d_code_accuracy")
        self.built = True

    # ----------------------------------------------------------------- properties

    @property
    def latent_dim(self):
        return int(self.generator.inputs[0].shape[-1])

    @property
    def data_shape(self):
        """Shape of one sample: (H, W, C) for images, (D,) for vectors."""
        return tuple(int(d) for d in self.generator.outputs[0].shape[1:])

    @property
    def value_range(self):
        """(low, high) of the samples G makes: (-1, 1) for images, None for unbounded vectors."""
        return checks.output_range(self.generator)

    @property
    def conditional(self):
        return self.num_classes is not None

    @property
    def sampling_generator(self):
        """The generator to draw samples from: the averaged one when `ema_decay` is on, else `generator`."""
        return self.generator if self.ema_generator is None else self.ema_generator

    @property
    def generator_loss(self):
        """The older name of `loss`."""
        return self.loss

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]
        trackers += [self.class_accuracy_tracker] if self.conditioning == "acgan" else []
        return trackers + ([self.code_accuracy_tracker] if self.latent_code else [])

    # ----------------------------------------------------------------- compile and serialisation

    def compile(
        self, d_optimizer=None, g_optimizer=None, jit_compile=False, d_learning_rate=None, g_learning_rate=None,
        **kwargs,
    ):
        """Set the two optimizers (default: the model's `default_optimizer`, else Adam(2e-4, beta_1=0.5) as in DCGAN).

        `d_learning_rate` / `g_learning_rate` set the default Adam's rate for one side: the two
        time-scale update rule (TTUR, Heusel et al. 2017) gives D a faster rate than G, e.g. 4e-4
        and 1e-4. The rates are saved with the optimizers. Both optimizers are built here, so calling `compile` inside a `tf.distribute` strategy scope creates
        their slot variables there (a custom train_step cannot create them lazily under a strategy).
        Under the `mixed_float16` policy each is wrapped in a `LossScaleOptimizer`.

        `jit_compile` XLA-compiles the step on TensorFlow (off by default: oneDNN's kernels are often faster
        on CPU). On JAX the step is always compiled, since that is how JAX runs one fast (a model saved on
        another backend with `jit_compile=False` too); `run_eagerly=True` runs it uncompiled for debugging.
        On PyTorch it runs eagerly, as Keras's torch guide's steps do.
        """
        for optimizer, rate in ((d_optimizer, d_learning_rate), (g_optimizer, g_learning_rate)):
            if optimizer is not None and rate is not None:
                raise ValueError("give an optimizer or a learning rate for each network, not both.")
        if keras.backend.backend() == "jax":
            jit_compile = True
        elif keras.backend.backend() == "torch":
            jit_compile = False  # Keras would torch.compile the step: slow to compile, and not what its guide does
            if _layers_of_type(self.discriminator, keras.layers.SpectralNormalization):
                raise ValueError(
                    "spectral_norm does not train on the torch backend: Keras's SpectralNormalization assigns the "
                    "normalised kernel in place during D's forward pass, which torch's autograd rejects once D has "
                    "run twice (real, fake). Train it on tensorflow or jax; the model loads and samples on torch."
                )
        else:  # TensorFlow
            distribute.own_collective_keys(tf.distribute.get_strategy())  # several models in one process
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        self.d_optimizer = self._prepared(d_optimizer, d_learning_rate, self.discriminator)
        self.g_optimizer = self._prepared(g_optimizer, g_learning_rate, self.generator)
        if keras.backend.backend() == "jax":
            # Keras's JAX trainer carries `model.optimizer.variables` through each step as state.
            self.optimizer = gradients.OptimizerPair(self.d_optimizer, self.g_optimizer)

    def _prepared(self, optimizer, learning_rate, network):
        if optimizer is None:
            side = "d" if network is self.discriminator else "g"
            optimizer = optimizers.make(self.default_optimizer, side, learning_rate)
        else:
            optimizer = keras.optimizers.get(optimizer)
        optimizer = distribute.loss_scaled(optimizer, network)
        optimizer.build(network.trainable_variables)
        return optimizer

    def get_compile_config(self):
        if not self.compiled:
            return None  # an uncompiled GAN saves and reloads uncompiled
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": self.jit_compile,
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config.pop("d_optimizer")),
            g_optimizer=keras.saving.deserialize_keras_object(config.pop("g_optimizer")),
            **config,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "num_classes": self.num_classes,
            "prior": self.prior,
            "d_steps": self.d_steps,
            "loss": self.loss,
            "label_smoothing": self.label_smoothing,
            "feature_matching": self.feature_matching,
            "preset": self.preset,
            "seed": self.seed,
            "update": self.update,
            "gp_weight": self.gp_weight,
            "r1_weight": self.r1_weight,
            "ema_decay": self.ema_decay,
            "diffaugment": self.diffaugment,
            "conditioning": self.conditioning,
            "fake_class_weight": self.fake_class_weight,
            "latent_code": self.latent_code,
            "code_weight": self.code_weight,
            "continuous_codes": self.continuous_codes,
            "d_loss_scale": self.d_loss_scale,
            "sampling_dropout": self.sampling_dropout,
            "default_optimizer": self.default_optimizer,
            "output_bias_from_data": self.output_bias_from_data,
            "output_bias_initialized": self.output_bias_initialized,
            "clip_value": self.clip_value,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        random_states.save_random_states(store, self._random_states())  # see zoo.random_states: Keras does not

    def load_own_variables(self, store):
        super().load_own_variables(random_states.load_random_states(store, self._random_states()))

    def _random_states(self):
        """{store key: SeedGenerator}: the GAN's own, then those of its networks' layers (Dropout's)."""
        return {
            random_states.KEY_PREFIX: self.seed_generator,
            **random_states.seed_generators_of([self.generator, self.discriminator]),
        }

    # ----------------------------------------------------------------- sampling

    def sample_noise(self, n, seed=None):
        """z ~ the prior: U(-1, 1) or N(0, 1), shape (n, latent_dim)."""
        seed = self.seed_generator if seed is None else seed
        shape = (n, self.latent_dim)
        if self.prior == "uniform":
            return keras.random.uniform(shape, minval=-1.0, maxval=1.0, seed=seed)
        return keras.random.normal(shape, seed=seed)

    def call(self, inputs, training=False):
        """G(z) or G(z, label): `gan(z)` is the sampling generator's forward pass."""
        return self.sampling_generator(inputs, training=training)

    def generate(self, n, labels=None, seed=None, batch_size=1024, dropout=None):
        """n samples as a float32 numpy array in the data's range ([-1, 1] for images).

        The sampler protocol that `export.GeneratorSession` shares (see `export.sampling`).

        Args:
            n: how many samples.
            labels: one class index or a sequence of n of them (conditional models only).
            seed: an int makes the draw repeatable; without it the model's own noise stream is used.
            batch_size: samples per forward pass, which bounds memory.
            dropout: sample with G's dropout on; None: the model's `sampling_dropout`.
        """
        n = int(n)
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}.")
        labels = self._checked_labels(labels, n)
        z = self.sample_noise(n, seed=seed)
        chunks = []
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            rows = None if labels is None else labels[start:stop]
            chunk_seed = None if seed is None else int(seed) * 100_003 + start  # each chunk its own masks
            chunks.append(self.generate_from(z[start:stop], rows, seed=chunk_seed, dropout=dropout))
        return np.concatenate(chunks).astype("float32")

    def generate_from(self, z, labels=None, seed=None, dropout=None):
        """G(z) (or G(z, labels)) as a float32 numpy array, sampled as the model samples: the averaged generator
        under EMA, and with G's dropout on (masks seeded by `seed`) when `dropout` or `sampling_dropout` says so.

        Args:
            z: noise rows, shape (n, latent_dim).
            labels: n class indices (conditional models only).
            seed: seeds the dropout masks (None: the layers' own streams).
            dropout: None for the model's `sampling_dropout`.
        """
        inputs = z if labels is None else [ops.convert_to_tensor(z), ops.convert_to_tensor(np.asarray(labels, "int32"))]
        if not (self.sampling_dropout if dropout is None else dropout):
            return ops.convert_to_numpy(self.sampling_generator(inputs, training=False)).astype("float32")
        if _layers_of_type(self.sampling_generator, keras.layers.BatchNormalization):
            raise ValueError("sampling with dropout runs G in training mode, which would switch its BatchNorm to "
                             "batch statistics (and move its moving averages): this generator has BatchNorm.")
        layers_ = _layers_of_type(self.sampling_generator, keras.layers.Dropout)
        saved = [ops.convert_to_numpy(layer.seed_generator.state) for layer in layers_]
        if seed is not None:
            for i, layer in enumerate(layers_):
                layer.seed_generator.state.assign(np.array([int(seed), i], "int64"))
        try:
            with _torch_global_seed(seed):
                samples = self.sampling_generator(inputs, training=True)
        finally:
            if seed is not None:  # the training stream goes on as if nothing had been drawn
                for layer, state in zip(layers_, saved):
                    layer.seed_generator.state.assign(state)
        return ops.convert_to_numpy(samples).astype("float32")

    def _checked_labels(self, labels, n):
        # The TF-free runtime has its own copy (export.sampling.check_labels); tests/test_labels.py
        # holds both to the same inputs and messages.
        if not self.conditional:
            if labels is not None:
                raise ValueError("labels were given, but this generator is unconditional.")
            return None
        if labels is None:
            raise ValueError(f"this conditional generator needs labels in [0, {self.num_classes}).")
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full((n,), labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}.")
        if labels.shape != (n,):
            raise ValueError(f"expected {n} labels (one per latent vector), got shape {labels.shape}.")
        self._check_label_range(labels)
        return labels.astype("int32")

    def _check_label_range(self, labels):
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            bad = labels[(labels < 0) | (labels >= self.num_classes)][0]
            raise ValueError(f"label {bad} is outside [0, {self.num_classes}).")

    # ----------------------------------------------------------------- training

    def fit(self, x=None, y=None, *args, check_data=True, **kwargs):
        """`keras.Model.fit`, with the data checked against the model first (see `zoo.checks`).

        x is a dataset of images, or of (images, labels) for a conditional model; or arrays x
        (and y = labels). Samples must be finite and in the generator's output range ([-1, 1]
        for tanh; uint8 arrays are scaled to it, said in one log line); labels whole class
        indices. `check_data=False` skips the checks (for measuring what they cost).
        """
        self._check_training_data(x, y)
        if check_data:
            x, y = self._checked_data(x, y)
        if self.output_bias_from_data and not self.output_bias_initialized and self.compiled and (
            int(ops.convert_to_numpy(self.g_optimizer.iterations)) == 0
        ):
            self.set_output_bias_from(x)
        self.initialize_from_data(x)
        if is_dataset(x) and not args:
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; Keras warns on the default True
        try:
            return super().fit(x, y, *args, **kwargs)
        except PIPELINE_ERRORS as error:  # a failed check in a tf.data pipeline, on any backend
            if "ganzoo:" in str(error.message):
                message = error.message.split("ganzoo:")[1].split("\n")[0].split("] [")[0].replace("\\'", "'").strip()
                raise ValueError(message) from None
            raise

    def initialize_from_data(self, data, max_samples=500):
        """The data-based initialisation of D's layers that have one (improved-gan's weight-normalised layers,
        `zoo.WeightNormDense` and `MinibatchDiscrimination(weight_norm=True)`), each from its inputs on the
        first `max_samples` samples, as their code did once on 500 training images before the first update.
        `fit` runs it while a layer still needs it; the state is saved with the weights, so a resumed model
        keeps its own. Returns how many layers it initialised.

        Args:
            data: an array of samples in the generator's range, or a dataset of them (or of (samples, labels)).
            max_samples: how many samples to use.
        """
        if not layers.layers_to_initialize(self.discriminator):
            return 0
        if len(self.discriminator.inputs) != 1:
            raise ValueError("the data-based initialisation needs an unconditional discriminator (one input).")
        _require_readable_twice(data, "D has layers initialised from data (weight_norm)", "initialize_from_data")
        if is_dataset(data):
            batches, count = [], 0
            for batch in data:
                batches.append(np.asarray(_samples_of(batch)))
                count += len(batches[-1])
                if count >= max_samples:
                    break
            samples = np.concatenate(batches)[:max_samples]
        else:
            samples = np.asarray(data[:max_samples])
        return layers.initialize_from_data(self.discriminator, samples.astype("float32"))

    def set_output_bias_from(self, data, max_batches=600):
        """Start G's sigmoid layer at the data's pixel marginals: bias = logit(mean pixel in [0, 1]), the mean
        clipped to [1e-7, 1 - 1e-7] (pylearn2's `init_sigmoid_bias_from_marginals`).

        Args:
            data: an array of samples in [-1, 1], or a dataset of them (or of (samples, labels));
                of a dataset, the first `max_batches` batches are read.
        """
        _require_readable_twice(data, "G's output bias starts at the data's pixel marginals (output_bias_from_data)",
                                "set_output_bias_from")
        if is_dataset(data):
            total, count = 0.0, 0
            for batch in data.take(max_batches):
                samples = np.asarray(_samples_of(batch), dtype="float64")
                total, count = total + samples.sum(axis=0), count + len(samples)
            mean = total / max(count, 1)
        else:
            samples = np.asarray(data)
            mean = samples.mean(axis=0, dtype="float64") if samples.dtype != np.uint8 else samples.mean(axis=0) / 127.5 - 1
        pixels = np.clip((np.reshape(mean, -1) + 1.0) / 2.0, 1e-7, 1.0 - 1e-7)
        bias = self.generator.get_layer("sigmoid_output").bias
        bias.assign(np.reshape(np.log(pixels / (1.0 - pixels)), bias.shape).astype("float32"))
        self.output_bias_initialized = True

    def _checked_data(self, x, y):
        """(x, y) checked: arrays here, once; a dataset in its input pipeline (XLA drops asserts in train_step)."""
        value_range = checks.output_range(self.generator)
        if is_dataset(x):
            return checks.checked_dataset(x, value_range, self.num_classes), y
        if x is not None and hasattr(x, "shape"):
            return checks.checked_arrays(x, y, value_range, self.num_classes)
        return x, y

    def _check_training_data(self, x, y):
        if is_dataset(x):
            spec = x.element_spec
            if isinstance(spec, (tuple, list)):
                sample_spec = spec[0]
                label_spec = spec[1] if len(spec) > 1 else None
            else:
                sample_spec, label_spec = spec, None
            sample_shape = tuple(sample_spec.shape[1:])
            has_labels = label_spec is not None
        elif x is not None and hasattr(x, "shape"):
            sample_shape = tuple(x.shape[1:])
            has_labels = y is not None
            if has_labels and self.conditional:
                self._check_label_range(np.asarray(y))
        else:
            return  # a generator or PyDataset: checked per batch in train_step
        if None not in sample_shape and sample_shape != self.data_shape:
            raise ValueError(
                f"training samples have shape {sample_shape}, but this GAN generates {self.data_shape}."
            )
        if self.conditional and not has_labels:
            raise ValueError("a conditional GAN needs (samples, labels) to train on; no labels were given.")
        if not self.conditional and has_labels:
            raise ValueError(
                "labels were given to an unconditional GAN; use the 'conditional' preset (num_classes) "
                "or drop the labels from the dataset."
            )

    def train_step(self, *args):
        """One step of the game (see the class's docstring), the same on every backend.

        TensorFlow's and PyTorch's trainers call `train_step(data)` and let it change the variables; JAX's
        calls `train_step(state, data)` and expects (logs, new state): there the same step runs inside a
        stateless scope (`zoo.gradients.jax_train_step`).
        """
        if keras.backend.backend() == "jax":
            state, data = args
            return gradients.jax_train_step(self, state, self._train_step, data)
        (data,) = args
        return self._train_step(data)

    def _train_step(self, data):
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = ops.cast(real, self.compute_dtype)
        batch_size = ops.shape(real)[0]
        if self.conditional:
            labels = self._assert_labels_in_range(ops.cast(ops.reshape(labels, (-1,)), "int32"))
        noise, share = self._noise_and_share(batch_size)
        step = {"alternating": self._alternating_step, "reuse_fake": self._reuse_fake_step, "fused": self._fused_step}
        d_loss, g_loss, real_logits, fake_logits = step[self.update](real, labels, noise, share)
        if self.ema_generator is not None:
            self._update_ema()

        # Weighted by the local batch size, so that under a strategy (whose metric variables
        # sum over replicas) the logged values are the global-batch ones, as on one device.
        weight = ops.cast(batch_size, "float32")
        self.d_loss_tracker.update_state(d_loss, sample_weight=weight)
        self.g_loss_tracker.update_state(g_loss, sample_weight=weight)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)), sample_weight=weight)
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)), sample_weight=weight)
        return self._logs()

    def _alternating_step(self, real, labels, noise, share):
        """Algorithm 1: `d_steps` D updates, each on fresh fakes, then one G update on fresh noise."""
        for _ in range(self.d_steps):
            z = noise()
            fake = ops.stop_gradient(self._generate(z, labels))
            d_loss, real_logits = self._discriminator_update(real, fake, labels, share, self._codes(z))
        z = noise()

        def generator_loss():
            g_loss, fake_logits = self._generator_loss(real, self._generate(z, labels), labels, codes=self._codes(z))
            return [g_loss * share], (g_loss, fake_logits)

        g_loss, fake_logits = gradients.minimize([(self.g_optimizer, self.generator.trainable_variables)], generator_loss)
        return d_loss, g_loss, real_logits, fake_logits

    def _reuse_fake_step(self, real, labels, noise, share):
        """One G forward pass per step (PyTorch's DCGAN example): D learns on the fakes, then G
        is updated through the same fakes, judged by the updated D. Saves a generator pass."""
        z = noise()
        codes = self._codes(z)

        def generator_loss():
            fake = self._generate(z, labels)
            d_loss, real_logits = self._discriminator_update(real, ops.stop_gradient(fake), labels, share, codes)
            g_loss, fake_logits = self._generator_loss(real, fake, labels, codes=codes)
            return [g_loss * share], (d_loss, g_loss, real_logits, fake_logits)

        return gradients.minimize([(self.g_optimizer, self.generator.trainable_variables)], generator_loss)

    def _fused_step(self, real, labels, noise, share):
        """Simultaneous updates: one forward pass of G and D gives both losses; both gradients use
        the same (pre-update) D. The cheapest step, but G no longer sees D's latest move."""
        self._clip_discriminator()
        z = noise()

        def both_losses():
            fake, codes = self._generate(z, labels), self._codes(z)
            d_loss, real_logits, fake_judgement = self._discriminator_loss(real, fake, labels, codes)
            g_loss, fake_logits = self._generator_loss(real, fake, labels, fake_judgement=fake_judgement, codes=codes)
            return [d_loss * share, g_loss * share], (d_loss, g_loss, real_logits, fake_logits)

        objectives = [
            (self.d_optimizer, self.discriminator.trainable_variables),
            (self.g_optimizer, self.generator.trainable_variables),
        ]
        return gradients.minimize(objectives, both_losses)

    def _discriminator_update(self, real, fake, labels, share, codes=None):
        self._clip_discriminator()

        def discriminator_loss():
            d_loss, real_logits, _ = self._discriminator_loss(real, fake, labels, codes)
            return [d_loss * share], (d_loss, real_logits)

        return gradients.minimize([(self.d_optimizer, self.discriminator.trainable_variables)], discriminator_loss)

    def _clip_discriminator(self):
        """WGAN (Arjovsky et al. 2017): D's weights into [-c, c] before each of its updates, where their code
        clamps them, which keeps the critic K-Lipschitz for some K."""
        if self.clip_value:
            for variable in self.discriminator.trainable_variables:
                variable.assign(ops.clip(variable, -self.clip_value, self.clip_value))

    def _discriminator_loss(self, real, fake, labels, codes=None):
        """D's loss with its penalties and class (or code) term; D's logits on real, and its (logits,
        class or code logits) on fake. `codes`: the latent code of each fake (InfoGAN), else None."""
        real, fake = self._augment(real), self._augment(fake)
        real_logits, real_classes = self._discriminate(real, labels)
        fake_logits, fake_classes = self._discriminate(fake, labels)
        discriminator_loss, _ = losses.LOSSES[self.loss]
        if self.loss in losses.CROSS_ENTROPY_LOSSES:
            d_loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
        else:
            d_loss = discriminator_loss(real_logits, fake_logits)
        d_loss = self.d_loss_scale * d_loss
        if self.loss == "wasserstein_gp":
            # Penalised on random points between real and fake samples, alpha ~ U(0, 1) per sample.
            alpha_shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
            alpha = keras.random.uniform(alpha_shape, dtype=real.dtype, seed=self.seed_generator)
            interpolates = real + alpha * (fake - real)
            d_loss += losses.wasserstein_gradient_penalty(self._input_gradients(interpolates, labels), self.gp_weight)
        if self.r1_weight:
            d_loss += losses.r1_penalty(self._input_gradients(real, labels), self.r1_weight)
        if self.conditioning == "acgan":
            d_loss += losses.auxiliary_classifier_loss(labels, real_classes)
            if self.fake_class_weight:
                d_loss += self.fake_class_weight * losses.auxiliary_classifier_loss(labels, fake_classes)
            self._track_accuracy(self.class_accuracy_tracker, real_classes, labels)
        if self.latent_code:
            # Q (D's code head) learns to read the code back from the fakes; real data has no code.
            d_loss += self.code_weight * self._code_loss(codes, fake_classes)
            self._track_accuracy(self.code_accuracy_tracker, fake_classes[:, : self.latent_code], self._code_indices(codes))
        return d_loss, real_logits, (fake_logits, fake_classes)

    @staticmethod
    def _track_accuracy(tracker, class_logits, targets):
        """How often D's class (or code) head picks the target, weighted by the batch size like the losses."""
        predicted = ops.cast(ops.argmax(class_logits, axis=-1), "int32")
        accuracy = ops.mean(ops.cast(ops.equal(predicted, ops.cast(targets, "int32")), "float32"))
        tracker.update_state(accuracy, sample_weight=ops.cast(ops.shape(class_logits)[0], "float32"))

    def _generator_loss(self, real, fake, labels, fake_judgement=None, codes=None):
        """G's loss on `fake` and D's logits for it (`fake_judgement` reuses a D pass already made)."""
        if self.feature_matching:
            fake_features, fake_logits = self._discriminate_features(self._augment(fake), labels)
            real_features, _ = self._discriminate_features(self._augment(real), labels)
            real_mean = ops.stop_gradient(self._global_batch_mean(real_features))
            # Means over the global batch, passed as one-row batches (the loss averages over rows).
            return losses.feature_matching_loss(real_mean, self._global_batch_mean(fake_features)), fake_logits
        if fake_judgement is None:
            fake_judgement = self._discriminate(self._augment(fake), labels)
        fake_logits, fake_classes = fake_judgement
        _, generator_loss = losses.LOSSES[self.loss]
        g_loss = generator_loss(fake_logits)
        if self.conditioning == "acgan":
            g_loss += losses.auxiliary_classifier_loss(labels, fake_classes)
        if self.latent_code:  # InfoGAN: G makes its code readable (the mutual information's lower bound)
            g_loss += self.code_weight * self._code_loss(codes, fake_classes)
        return g_loss, fake_logits

    def _update_ema(self):
        """Moves the averaged generator towards the trained one: w_ema <- d * w_ema + (1 - d) * w.

        Trainable weights are averaged; other state (BatchNorm's moving statistics) is copied, as
        StudioGAN does, so the averaged generator normalises with the live one's statistics.
        """
        for averaged, live in zip(self.ema_generator.weights, self.generator.weights):
            if live.trainable:
                averaged.assign(self.ema_decay * averaged + (1.0 - self.ema_decay) * live)
            else:
                averaged.assign(live)

    def _logs(self):
        logs = {m.name: m.result() for m in self.metrics}
        if keras.backend.backend() != "tensorflow":
            return logs
        strategy = tf.distribute.get_strategy()
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
            len(strategy.extended.worker_devices) < strategy.num_replicas_in_sync
        ):
            # Keras 3 reduces multi-worker logs with strategy.reduce("MEAN", axis=0), which rejects
            # scalars (tensorflow/tensorflow#72388): give it rank-1 values; it returns scalars.
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def _generate(self, z, labels):
        inputs = z if labels is None else [z, labels]
        return self.generator(inputs, training=True)

    def _codes(self, z):
        """The noise rows that carry InfoGAN's codes (what `LatentCode` reads), or None when off."""
        return z if self.latent_code else None

    def _code_indices(self, z):
        return layers.latent_code_indices(z, self.latent_code)

    def _code_loss(self, z, code_outputs):
        """InfoGAN's L_I (negated): the categorical code's cross-entropy, plus for the continuous codes the
        Gaussian negative log-likelihood with unit variance, 0.5 * (c - mu)^2 summed over codes (its constant
        dropped). Both players minimise it."""
        k = self.latent_code
        loss = losses.auxiliary_classifier_loss(self._code_indices(z), code_outputs[:, :k])
        if self.continuous_codes:
            codes = ops.cast(z[:, k : k + self.continuous_codes], "float32")
            loss += losses.continuous_code_loss(codes, code_outputs[:, k:])
        return loss

    def _augment(self, samples):
        """DiffAugment (when on), drawn afresh for every batch D sees."""
        if not self.diffaugment:
            return samples
        return augment.diff_augment(samples, self.diffaugment, self.seed_generator)

    def _discriminator_inputs(self, samples, labels):
        return [samples, labels] if len(self.discriminator.inputs) == 2 else samples

    def _discriminate(self, samples, labels):
        """D's logits and its second head's logits (AC-GAN's classes, InfoGAN's code; else None), in float32
        even under a mixed-precision policy: the losses need the range."""
        outputs = self.discriminator(self._discriminator_inputs(samples, labels), training=True)
        if self.conditioning == "acgan" or self.latent_code:
            logits, classes = outputs
            return ops.cast(logits, "float32"), ops.cast(classes, "float32")
        return ops.cast(outputs, "float32"), None

    def _discriminate_features(self, samples, labels):
        features, logits = self._features_and_logits(self._discriminator_inputs(samples, labels), training=True)
        return ops.cast(features, "float32"), ops.cast(logits, "float32")

    def _input_gradients(self, samples, labels):
        """dD/dx for each sample: what the gradient penalties measure, itself differentiable, so the
        penalty's own gradient reaches D's weights (a gradient of a gradient).

        Each logit's gradient with respect to its own sample (plus, with batch-wide layers such as
        minibatch features, the small part through the others'), as StyleGAN's R1 computes it."""
        logits = lambda x: self._discriminate(x, labels)[0]
        return ops.cast(gradients.input_gradients(logits, samples), "float32")

    # ----------------------------------------------------------------- distribution strategies
    # Under a tf.distribute strategy `train_step` runs once per replica on its slice of the global
    # batch. The helpers below make one step on R replicas equal one step on one device.

    def _noise_and_share(self, batch_size):
        """A sampler of this replica's noise, and its share of the global batch.

        On one device: `sample_noise(batch_size)` and 1. Under a strategy, every replica draws the
        noise for the whole global batch from the seed state (mirrored, so the same everywhere) and
        keeps its own rows: replicas never share noise, and the step is the one-device step on the
        global batch. The share weights the replica's mean losses so that the gradients, which the
        optimizers all-reduce with SUM, are those of the global-batch mean (also for uneven splits).
        """
        context = replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            # One device, or JAX's DataParallel, whose arrays are the global batch (sharded by XLA).
            return (lambda: self.sample_noise(batch_size)), 1.0
        sizes = context.all_gather(ops.reshape(batch_size, (1,)), axis=0)  # every replica's batch size
        earlier = ops.arange(context.num_replicas_in_sync) < ops.cast(context.replica_id_in_sync_group, "int32")
        start, global_size = ops.sum(ops.where(earlier, sizes, 0)), ops.sum(sizes)

        def noise():
            return ops.slice(self.sample_noise(global_size), (start, 0), (batch_size, self.latent_dim))

        return noise, ops.cast(batch_size, "float32") / ops.cast(global_size, "float32")

    def _global_batch_mean(self, features):
        """Mean over the global batch, shape (1, F): feature matching compares batch means, which a
        per-replica mean would change. all_reduce is differentiable (its gradient is an all_reduce)."""
        total = ops.sum(features, axis=0, keepdims=True)
        count = ops.cast(ops.shape(features)[0], features.dtype)
        context = replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            total = context.all_reduce(tf.distribute.ReduceOp.SUM, total)
            count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
        return total / count

    def _assert_labels_in_range(self, labels):
        if keras.backend.backend() != "tensorflow":
            return labels  # checked by `fit` before training (arrays, tf.data); XLA has no runtime asserts
        checks = [
            tf.debugging.assert_non_negative(labels, message="ganzoo: a label is negative"),
            tf.debugging.assert_less(
                labels, self.num_classes, message=f"ganzoo: a label is outside [0, {self.num_classes})"
            ),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(labels)
