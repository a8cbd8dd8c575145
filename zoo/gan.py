"""The GAN model: a generator, a discriminator, and the training step that plays them against each other."""

import numpy as np
import keras
import tensorflow as tf
from keras import ops

from zoo import checks, losses

PRIORS = ("uniform", "normal")
UPDATES = ("alternating", "reuse_fake", "fused")


def _adam():
    """The optimizer Radford et al. found stable for GANs: Adam, lr 2e-4, beta_1 0.5."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


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

    Reported metrics: `d_loss` (-V of the last D update), `g_loss`, `d_real` (mean D(x) in the last
    D update) and `d_fake` (mean D(G(z)) in the generator update, i.e. after D's updates; before
    them with update="fused"). Under a `tf.distribute` strategy they, the losses and the
    gradients are global-batch values, as on one device (see `_noise_and_share`).
    """

    def __init__(
        self,
        generator,
        discriminator,
        num_classes=None,
        prior="uniform",
        d_steps=1,
        generator_loss="non_saturating",
        label_smoothing=0.0,
        feature_matching=False,
        preset=None,
        seed=None,
        update="alternating",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if prior not in PRIORS:
            raise ValueError(f"Unknown prior {prior!r}; choose one of {PRIORS}.")
        if generator_loss not in losses.GENERATOR_LOSSES:
            raise ValueError(
                f"Unknown generator_loss {generator_loss!r}; choose one of {tuple(losses.GENERATOR_LOSSES)}."
            )
        if int(d_steps) < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}.")
        if update not in UPDATES:
            raise ValueError(f"Unknown update {update!r}; choose one of {UPDATES}.")
        if update != "alternating" and int(d_steps) != 1:
            raise ValueError(f"update={update!r} makes one D update per step; it needs d_steps=1, got {d_steps}.")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
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
        self.d_steps = int(d_steps)
        self.generator_loss = generator_loss
        self.label_smoothing = float(label_smoothing)
        self.feature_matching = bool(feature_matching)
        self.preset = preset
        self.seed = seed
        self.update = update
        self.seed_generator = keras.random.SeedGenerator(seed)
        if self.feature_matching:
            # A view of D that also returns its penultimate features; it shares D's layers and weights.
            features = discriminator.get_layer("features").output
            self._features_and_logits = keras.Model(discriminator.inputs, [features, discriminator.outputs[0]])
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
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
    def conditional(self):
        return self.num_classes is not None

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    # ----------------------------------------------------------------- compile and serialisation

    def compile(self, d_optimizer=None, g_optimizer=None, jit_compile=False, **kwargs):
        """Set the two optimizers (default: Adam(2e-4, beta_1=0.5) each, as in DCGAN).

        Both are built here, so calling `compile` inside a `tf.distribute` strategy scope creates
        their slot variables there (a custom train_step cannot create them lazily under a strategy).
        Under the `mixed_float16` policy each is wrapped in a `LossScaleOptimizer`.
        """
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        self.d_optimizer = self._prepared(d_optimizer, self.discriminator)
        self.g_optimizer = self._prepared(g_optimizer, self.generator)

    def _prepared(self, optimizer, network):
        optimizer = _adam() if optimizer is None else keras.optimizers.get(optimizer)
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
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
            "generator_loss": self.generator_loss,
            "label_smoothing": self.label_smoothing,
            "feature_matching": self.feature_matching,
            "preset": self.preset,
            "seed": self.seed,
            "update": self.update,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    def save_own_variables(self, store):
        # Keras saves layer variables but not seed-generator state; without it a resumed run
        # would replay noise it has already drawn instead of continuing the stream.
        super().save_own_variables(store)
        store["seed_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        if "seed_state" in store.keys():
            self.seed_generator.state.assign(store["seed_state"])
        super().load_own_variables({key: store[key] for key in store.keys() if key != "seed_state"})

    # ----------------------------------------------------------------- sampling

    def sample_noise(self, n, seed=None):
        """z ~ the prior: U(-1, 1) or N(0, 1), shape (n, latent_dim)."""
        seed = self.seed_generator if seed is None else seed
        shape = (n, self.latent_dim)
        if self.prior == "uniform":
            return keras.random.uniform(shape, minval=-1.0, maxval=1.0, seed=seed)
        return keras.random.normal(shape, seed=seed)

    def call(self, inputs, training=False):
        """G(z) or G(z, label): `gan(z)` is the generator's forward pass."""
        return self.generator(inputs, training=training)

    def generate(self, n, labels=None, seed=None, batch_size=1024):
        """n samples as a float32 numpy array in the data's range ([-1, 1] for images).

        The sampler protocol that `export.GeneratorSession` shares (see `export.sampling`).

        Args:
            n: how many samples.
            labels: one class index or a sequence of n of them (conditional models only).
            seed: an int makes the draw repeatable; without it the model's own noise stream is used.
            batch_size: samples per forward pass, which bounds memory.
        """
        n = int(n)
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}.")
        labels = self._checked_labels(labels, n)
        z = self.sample_noise(n, seed=seed)
        chunks = []
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            inputs = z[start:stop] if labels is None else [z[start:stop], ops.convert_to_tensor(labels[start:stop])]
            chunks.append(ops.convert_to_numpy(self.generator(inputs, training=False)))
        return np.concatenate(chunks).astype("float32")

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
        if isinstance(x, tf.data.Dataset) and not args:
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; Keras warns on the default True
        try:
            return super().fit(x, y, *args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            if "ganzoo:" in str(error.message):
                message = error.message.split("ganzoo:")[1].split("\n")[0].split("] [")[0].replace("\\'", "'").strip()
                raise ValueError(message) from None
            raise

    def _checked_data(self, x, y):
        """(x, y) checked: arrays here, once; a dataset in its input pipeline (XLA drops asserts in train_step)."""
        value_range = checks.output_range(self.generator)
        if isinstance(x, tf.data.Dataset):
            return checks.checked_dataset(x, value_range, self.num_classes), y
        if x is not None and hasattr(x, "shape"):
            return checks.checked_arrays(x, y, value_range, self.num_classes)
        return x, y

    def _check_training_data(self, x, y):
        if isinstance(x, tf.data.Dataset):
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

    def train_step(self, data):
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = ops.cast(real, self.compute_dtype)
        batch_size = ops.shape(real)[0]
        if self.conditional:
            labels = self._assert_labels_in_range(ops.cast(ops.reshape(labels, (-1,)), "int32"))
        noise, share = self._noise_and_share(batch_size)
        step = {"alternating": self._alternating_step, "reuse_fake": self._reuse_fake_step, "fused": self._fused_step}
        d_loss, g_loss, real_logits, fake_logits = step[self.update](real, labels, noise, share)

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
            fake = self._generate(noise(), labels)
            d_loss, real_logits = self._discriminator_update(real, fake, labels, share)
        with tf.GradientTape() as tape:
            fake = self._generate(noise(), labels)
            g_loss, fake_logits = self._generator_loss(real, fake, labels)
        self._apply(self.g_optimizer, tape, g_loss, self.generator.trainable_variables, share)
        return d_loss, g_loss, real_logits, fake_logits

    def _reuse_fake_step(self, real, labels, noise, share):
        """One G forward pass per step (PyTorch's DCGAN example): D learns on the fakes, then G
        is updated through the same fakes, judged by the updated D. Saves a generator pass."""
        with tf.GradientTape() as tape:
            fake = self._generate(noise(), labels)
            with tape.stop_recording():
                d_loss, real_logits = self._discriminator_update(real, fake, labels, share)
            g_loss, fake_logits = self._generator_loss(real, fake, labels)
        self._apply(self.g_optimizer, tape, g_loss, self.generator.trainable_variables, share)
        return d_loss, g_loss, real_logits, fake_logits

    def _fused_step(self, real, labels, noise, share):
        """Simultaneous updates: one forward pass of G and D gives both losses; both gradients use
        the same (pre-update) D. The cheapest step, but G no longer sees D's latest move."""
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self._generate(noise(), labels)
            real_logits, fake_logits, d_loss = self._discriminator_loss(real, fake, labels)
            g_loss, _ = self._generator_loss(real, fake, labels, fake_logits=fake_logits)
        # Both gradients come from the forward pass above, so applying D's first does not change G's.
        self._apply(self.d_optimizer, d_tape, d_loss, self.discriminator.trainable_variables, share)
        self._apply(self.g_optimizer, g_tape, g_loss, self.generator.trainable_variables, share)
        return d_loss, g_loss, real_logits, fake_logits

    def _discriminator_update(self, real, fake, labels, share):
        with tf.GradientTape() as tape:
            real_logits, _, d_loss = self._discriminator_loss(real, fake, labels)
        self._apply(self.d_optimizer, tape, d_loss, self.discriminator.trainable_variables, share)
        return d_loss, real_logits

    def _discriminator_loss(self, real, fake, labels):
        real_logits = self._discriminate(real, labels)
        fake_logits = self._discriminate(fake, labels)
        return real_logits, fake_logits, losses.minimax_discriminator_loss(real_logits, fake_logits, self.label_smoothing)

    def _generator_loss(self, real, fake, labels, fake_logits=None):
        """G's loss on `fake` and D's logits for it (`fake_logits` reuses a forward pass already made)."""
        if self.feature_matching:
            fake_features, fake_logits = self._discriminate(fake, labels, with_features=True)
            real_features, _ = self._discriminate(real, labels, with_features=True)
            real_mean = ops.stop_gradient(self._global_batch_mean(real_features))
            # Means over the global batch, passed as one-row batches (the loss averages over rows).
            return losses.feature_matching_loss(real_mean, self._global_batch_mean(fake_features)), fake_logits
        if fake_logits is None:
            fake_logits = self._discriminate(fake, labels)
        return losses.GENERATOR_LOSSES[self.generator_loss](fake_logits), fake_logits

    def _logs(self):
        logs = {m.name: m.result() for m in self.metrics}
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

    def _discriminate(self, samples, labels, with_features=False):
        inputs = samples if labels is None else [samples, labels]
        if with_features:
            features, logits = self._features_and_logits(inputs, training=True)
            return ops.cast(features, "float32"), ops.cast(logits, "float32")
        # Logits in float32 even under a mixed-precision policy: the losses need the range.
        return ops.cast(self.discriminator(inputs, training=True), "float32")

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
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
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
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            total = context.all_reduce(tf.distribute.ReduceOp.SUM, total)
            count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
        return total / count

    def _apply(self, optimizer, tape, loss, variables, share=1.0):
        """One optimizer step on `loss`, a mean over this replica's batch, weighted by its `share`.

        The weighting (and the loss scaling of a LossScaleOptimizer) is recorded on `tape`:
        scaling a loss after the tape has closed would cut it off from the variables.
        """
        with tape:
            scaled = optimizer.scale_loss(loss * share)
        gradients = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(gradients, variables))

    def _assert_labels_in_range(self, labels):
        checks = [
            tf.debugging.assert_non_negative(labels, message="ganzoo: a label is negative"),
            tf.debugging.assert_less(
                labels, self.num_classes, message=f"ganzoo: a label is outside [0, {self.num_classes})"
            ),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(labels)
