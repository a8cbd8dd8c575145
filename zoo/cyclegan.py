"""CycleGAN (Zhu et al. 2017): unpaired translation between two image domains with cycle consistency."""

import keras
from keras import ops

from zoo import gradients, losses
from zoo.translation import ImageHistory, TranslationGAN, patch_discriminator, resnet_generator


@keras.saving.register_keras_serializable(package="ganzoo")
class CycleGAN(TranslationGAN):
    """Two generators, G_AB: A -> B and G_BA: B -> A, and two discriminators, D_A judging A images and D_B
    judging B images. (The reference code names D by the generator it trains: its D_A is D_B here.)

    The generators minimise, together (the paper's eq. 3 with its identity term):
        (D_B(G_AB(a)) - 1)^2 + (D_A(G_BA(b)) - 1)^2
        + cycle_weight * (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
        + identity_weight * cycle_weight * (|G_BA(a) - a| + |G_AB(b) - b|)
    and each discriminator half the least-squares loss of its real images against fakes drawn from a history of
    the last `history_size` generated images (section 4, after Shrivastava et al.). As in the reference code,
    one forward pass gives every term; the generators' gradients use the discriminators before this step's
    update and the discriminators learn on the fakes from before the generators' update.

    `fit` takes (a, b) batches of unpaired images, both (N, H, W, C) in [-1, 1]: `model.fit(a, b)` with
    arrays shuffled independently, or a dataset of such pairs.

    Args:
        generator_ab, generator_ba: the two generators (see `zoo.translation.resnet_generator`).
        discriminator_a, discriminator_b: PatchGANs with instance normalisation, for A and for B images.
        image_shape: (H, W, C) of the training images (the histories keep images of this shape).
        cycle_weight: lambda, the weight of each cycle term (the paper: 10).
        identity_weight: the identity terms' weight as a fraction of lambda (the paper's code: 0.5).
        history_size: generated images kept per domain for the discriminators (the paper: 50; 0: none).
        seed: seed of the histories' draws.
    """

    def __init__(
        self,
        generator_ab,
        generator_ba,
        discriminator_a,
        discriminator_b,
        image_shape,
        cycle_weight=10.0,
        identity_weight=0.5,
        history_size=50,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.generator_ab, self.generator_ba = generator_ab, generator_ba
        self.discriminator_a, self.discriminator_b = discriminator_a, discriminator_b
        self.generators = [generator_ab, generator_ba]
        self.discriminators = [discriminator_a, discriminator_b]
        self.image_shape = tuple(int(side) for side in image_shape)
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.history_size = int(history_size)
        draws = None if seed is None else int(seed)
        self.history_a = ImageHistory(self.history_size, seed=draws, name="history_a")
        self.history_b = ImageHistory(self.history_size, seed=None if draws is None else draws + 1, name="history_b")
        for history in (self.history_a, self.history_b):
            history.build((None, *self.image_shape))  # before training: a JAX step carries its variables
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.adversarial_tracker = keras.metrics.Mean(name="adversarial")
        self.cycle_tracker = keras.metrics.Mean(name="cycle")
        self.identity_tracker = keras.metrics.Mean(name="identity")
        self.trackers = [
            self.g_loss_tracker, self.d_loss_tracker, self.adversarial_tracker, self.cycle_tracker, self.identity_tracker
        ]
        self.built = True  # its networks are built: saving needs no call first

    @classmethod
    def build_for(cls, image_shape, filters=64, blocks=None, patch_layers=3, **kwargs):
        """The paper's networks for images of `image_shape` (H, W, C) in both domains: ResNet generators with
        6 residual blocks below 256 px and 9 from 256, and 70x70 PatchGANs (`patch_layers`=3) with instance norm.

        Args:
            image_shape: (H, W, C) of the training images.
            filters: every network's first width (the paper: 64).
            blocks: residual blocks per generator (default from the image size).
            patch_layers: the PatchGANs' stride-2 layers.
            **kwargs: `CycleGAN` arguments.
        """
        channels = image_shape[-1]

        def discriminator(name):
            return patch_discriminator(channels, patch_layers, filters, normalization="instance", name=name)

        return cls(
            resnet_generator(image_shape, filters=filters, blocks=blocks, name="generator_ab"),
            resnet_generator(image_shape, filters=filters, blocks=blocks, name="generator_ba"),
            discriminator("discriminator_a"),
            discriminator("discriminator_b"),
            image_shape=image_shape,
            **kwargs,
        )

    def call(self, inputs, training=False):
        """G_AB(a)."""
        return self.generator_ab(inputs, training=training)

    def _histories(self):
        return [self.history_a, self.history_b]

    def _train_step(self, data):
        real_a, real_b, _ = keras.utils.unpack_x_y_sample_weight(data)
        # float32 (the networks cast to their compute dtype): the L1 terms compare with the images as given.
        real_a, real_b = self._float32(real_a), self._float32(real_b)
        output = self._output

        def all_losses():
            fake_b = self.generator_ab(real_a, training=True)
            fake_a = self.generator_ba(real_b, training=True)
            adversarial = losses.least_squares_loss(output(self.discriminator_b, fake_b), 1.0) + (
                losses.least_squares_loss(output(self.discriminator_a, fake_a), 1.0)
            )
            cycle = losses.l1_distance(real_a, output(self.generator_ba, fake_b)) + losses.l1_distance(
                real_b, output(self.generator_ab, fake_a)
            )
            identity = ops.zeros((), "float32")
            if self.identity_weight:
                identity = losses.l1_distance(real_a, output(self.generator_ba, real_a)) + losses.l1_distance(
                    real_b, output(self.generator_ab, real_b)
                )
            g_loss = adversarial + self.cycle_weight * (cycle + self.identity_weight * identity)
            d_loss = self._discriminator_loss(self.discriminator_a, real_a, self.history_a(ops.stop_gradient(fake_a)))
            d_loss += self._discriminator_loss(self.discriminator_b, real_b, self.history_b(ops.stop_gradient(fake_b)))
            return [g_loss, d_loss], (g_loss, d_loss, adversarial, cycle, identity)

        objectives = [
            (self.g_optimizer, self._variables_of(self.generators)),
            (self.d_optimizer, self._variables_of(self.discriminators)),
        ]
        g_loss, d_loss, adversarial, cycle, identity = gradients.minimize(objectives, all_losses)
        for tracker, value in zip(self.trackers, (g_loss, d_loss, adversarial, cycle, identity)):
            tracker.update_state(value)
        return self._logs()

    def _discriminator_loss(self, discriminator, real, fake):
        # The reference code's backward_D_basic: (MSE(D(real), 1) + MSE(D(fake), 0)) / 2.
        real_logits = self._output(discriminator, real)
        fake_logits = self._output(discriminator, fake)
        return losses.least_squares_discriminator_loss(real_logits, fake_logits)

    def translate_back(self, images, batch_size=64):
        """G_BA's images, in inference mode (see `translate`, which runs G_AB)."""
        return self.translate(images, batch_size=batch_size, generator=self.generator_ba)

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "generator_ab": serialize(self.generator_ab),
            "generator_ba": serialize(self.generator_ba),
            "discriminator_a": serialize(self.discriminator_a),
            "discriminator_b": serialize(self.discriminator_b),
            "image_shape": list(self.image_shape),
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "history_size": self.history_size,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
