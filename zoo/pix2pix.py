"""pix2pix (Isola et al. 2017): paired image-to-image translation with a conditional GAN and an L1 term."""

import keras
from keras import ops

from zoo import gradients, losses
from zoo.translation import TranslationGAN, patch_discriminator, patch_layers_for, unet_generator


@keras.saving.register_keras_serializable(package="ganzoo")
class Pix2Pix(TranslationGAN):
    """A U-Net G that maps input images x to outputs G(x), and a PatchGAN D that judges (x, y) pairs.

    G minimises -log D(x, G(x)) + l1_weight * |y - G(x)| (the paper's eq. 4 with the non-saturating loss,
    lambda = 100); D minimises half the cross-entropy of real pairs (x, y) against fake pairs (x, G(x)), each
    patch's logit judged on its own. Each step runs G once, as the reference code does: D learns on that G(x)
    first, then G is updated through the same G(x), judged by the updated D.

    `fit` takes (input images, target images) pairs, both (N, H, W, C) in [-1, 1]:
    `model.fit(inputs, targets)` or a dataset of such pairs.

    Args:
        generator: maps (H, W, C_in) images to (H, W, C_out); see `zoo.translation.unet_generator`.
        discriminator: takes [condition, images] and returns a map of patch logits; see
            `zoo.translation.patch_discriminator(..., conditional_channels=C_in)`.
        l1_weight: lambda, the weight of the L1 term (the paper: 100).
        seed: recorded for `get_config` (the networks' dropout layers draw from their own seed generators).
    """

    def __init__(self, generator, discriminator, l1_weight=100.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.generators = [generator]
        self.discriminators = [discriminator]
        self.l1_weight = float(l1_weight)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.trackers = [self.d_loss_tracker, self.g_loss_tracker, self.l1_tracker, self.d_real_tracker, self.d_fake_tracker]
        self.built = True  # its networks are built: saving needs no call first

    @classmethod
    def build_for(cls, image_shape, output_channels=None, filters=64, patch_layers=None, **kwargs):
        """The paper's networks for `image_shape` (H, W, C_in): a U-Net down to 1x1 and a PatchGAN whose depth
        keeps the paper's patch-to-image ratio (`zoo.translation.patch_layers_for`).

        Args:
            image_shape: (H, W, C_in) of the input images.
            output_channels: C_out (default C_in).
            filters: both networks' first width (the paper: 64).
            patch_layers: the PatchGAN's stride-2 layers (default from the image size).
            **kwargs: `Pix2Pix` arguments (l1_weight, seed, name).
        """
        output_channels = image_shape[-1] if output_channels is None else output_channels
        patch_layers = patch_layers_for(image_shape[0]) if patch_layers is None else patch_layers
        generator = unet_generator(image_shape, output_channels, filters=filters)
        discriminator = patch_discriminator(
            output_channels, patch_layers=patch_layers, filters=filters, conditional_channels=image_shape[-1]
        )
        return cls(generator, discriminator, **kwargs)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _train_step(self, data):
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        # float32 (the networks cast to their compute dtype): the L1 term compares with the targets as given.
        inputs, targets = self._float32(inputs), self._float32(targets)

        def generator_loss():
            fake = self.generator(inputs, training=True)
            d_loss, real_logits, fake_logits = self._discriminator_update(inputs, targets, ops.stop_gradient(fake))
            g_loss = losses.non_saturating_generator_loss(self._output(self.discriminator, [inputs, fake]))
            l1 = losses.l1_distance(targets, self._float32(fake))
            return [g_loss + self.l1_weight * l1], (d_loss, g_loss, l1, real_logits, fake_logits)

        d_loss, g_loss, l1, real_logits, fake_logits = gradients.minimize(
            [(self.g_optimizer, self.generator.trainable_variables)], generator_loss
        )
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.l1_tracker.update_state(l1)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return self._logs()

    def _discriminator_update(self, inputs, targets, fake):
        def discriminator_loss():
            # The reference code's order (fake, then real): each a BatchNorm batch of its own.
            fake_logits = self._output(self.discriminator, [inputs, fake])
            real_logits = self._output(self.discriminator, [inputs, targets])
            # "We divide the objective by 2 while optimizing D" (section 3.3).
            d_loss = 0.5 * losses.minimax_discriminator_loss(real_logits, fake_logits)
            return [d_loss], (d_loss, real_logits, fake_logits)

        return gradients.minimize([(self.d_optimizer, self.discriminator.trainable_variables)], discriminator_loss)

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "l1_weight": self.l1_weight,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)
