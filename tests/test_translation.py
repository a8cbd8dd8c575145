"""pix2pix and CycleGAN: the papers' networks, each training step against a step worked by hand on tiny linear
networks, the image history, the learning-rate policy, and save / load / resume."""

import numpy as np
import keras
import pytest

from zoo import losses
from zoo.cyclegan import CycleGAN
from zoo.optimizers import ConstantThenLinearDecay
from zoo.pix2pix import Pix2Pix
from zoo.translation import (
    ImageHistory,
    patch_discriminator,
    resnet_generator,
    size_multiple,
    unet_generator,
)


def trainable_parameters(model):
    return sum(int(np.prod(variable.shape)) for variable in model.trainable_variables)


# ----------------------------------------------------------------------------- the papers' networks


def test_networks_have_the_reference_codes_parameter_counts():
    # What junyanz/pytorch-CycleGAN-and-pix2pix prints for its defaults on RGB images ("Total number of
    # parameters"): pix2pix's unet_256 54.414 M and basic D on pairs 2.769 M; CycleGAN's resnet_9blocks
    # 11.378 M and basic D with instance norm 2.765 M.
    assert round(trainable_parameters(unet_generator((256, 256, 3))) / 1e6, 3) == 54.414
    assert round(trainable_parameters(patch_discriminator(3, 3, conditional_channels=3)) / 1e6, 3) == 2.769
    assert round(trainable_parameters(resnet_generator((256, 256, 3))) / 1e6, 3) == 11.378
    assert round(trainable_parameters(patch_discriminator(3, 3, normalization="instance")) / 1e6, 3) == 2.765


def test_unet_depth_and_dropout_follow_the_image_size():
    big = unet_generator((256, 256, 3))
    dropouts = [layer for layer in big.layers if isinstance(layer, keras.layers.Dropout)]
    assert len(dropouts) == 3 and all(layer.rate == 0.5 for layer in dropouts)
    assert size_multiple(big) == 256
    small = unet_generator((32, 32, 1), filters=8)
    assert size_multiple(small) == 32
    assert len([layer for layer in small.layers if isinstance(layer, keras.layers.Dropout)]) == 1
    # Fully convolutional: any multiple of the stride, in inference mode deterministic.
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 96, 1)).astype("float32")
    out = keras.ops.convert_to_numpy(small(images, training=False))
    assert out.shape == (2, 64, 96, 1) and np.abs(out).max() <= 1.0
    with pytest.raises(ValueError, match="power-of-two"):
        unet_generator((48, 48, 1))


def test_resnet_generator_and_patchgan_shapes():
    generator = resnet_generator((32, 32, 3), filters=8, blocks=2)
    assert size_multiple(generator) == 4
    images = np.zeros((1, 36, 44, 3), "float32")
    assert tuple(generator(images).shape) == (1, 36, 44, 3)
    # A 70x70 PatchGAN on 256 px images gives a 30x30 map of logits (the paper's figure).
    discriminator = patch_discriminator(3, 3, filters=8, normalization="instance")
    assert tuple(discriminator(np.zeros((1, 256, 256, 3), "float32")).shape) == (1, 30, 30, 1)


# ----------------------------------------------------------------------------- losses and the schedule


def test_translation_losses_on_hand_worked_values():
    logits = np.array([[0.5, -1.0], [2.0, 0.0]], "float32")
    # ((0.5-1)^2 + (-1-1)^2 + (2-1)^2 + (0-1)^2) / 4 = (0.25 + 4 + 1 + 1) / 4
    assert float(losses.least_squares_loss(logits, 1.0)) == pytest.approx(6.25 / 4)
    assert float(losses.least_squares_loss(logits, 0.0)) == pytest.approx((0.25 + 1 + 4 + 0) / 4)
    target, output = np.array([1.0, -1.0, 0.5], "float32"), np.array([0.0, -0.5, 0.5], "float32")
    assert float(losses.l1_distance(target, output)) == pytest.approx(1.5 / 3)


def test_constant_then_linear_decay_changes_once_an_epoch():
    schedule = ConstantThenLinearDecay(2e-4, steps_per_epoch=10, constant_epochs=2, decay_epochs=2)
    rates = [float(schedule(step)) for step in (0, 9, 10, 19, 20, 29, 30, 39)]
    # epochs 0, 1 at the rate; epoch 2: 1 - 1/3; epoch 3: 1 - 2/3 (the reference code's lambda_rule).
    expected = [2e-4] * 4 + [2e-4 * 2 / 3] * 2 + [2e-4 / 3] * 2
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    again = ConstantThenLinearDecay.from_config(schedule.get_config())
    assert float(again(25)) == pytest.approx(float(schedule(25)))


# ----------------------------------------------------------------------------- the image history


def test_image_history_fills_then_swaps_and_never_loses_an_image():
    history = ImageHistory(4, seed=3)
    history.build((None, 1, 1, 1))
    rng = np.random.default_rng(0)
    first = rng.normal(size=(3, 1, 1, 1)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(history(first)), first)  # filling: images pass
    swapped = kept = 0
    for _ in range(40):
        before = keras.ops.convert_to_numpy(history.images.value).ravel().tolist()
        count = int(keras.ops.convert_to_numpy(history.count.value))
        batch = rng.normal(size=(3, 1, 1, 1)).astype("float32")
        out = keras.ops.convert_to_numpy(history(batch)).ravel().tolist()
        after = keras.ops.convert_to_numpy(history.images.value).ravel().tolist()
        after = after[: int(keras.ops.convert_to_numpy(history.count.value))]
        # Every image either comes out or stays in, and one that fills a free slot does both:
        # outputs + buffer after = buffer before + inputs + the inputs that filled.
        filled = batch.ravel().tolist()[: max(0, 4 - count)]
        assert sorted(out + after) == pytest.approx(sorted(before[: min(count, 4)] + batch.ravel().tolist() + filled))
        if count >= 4:
            swapped += sum(o != b for o, b in zip(out, batch.ravel().tolist()))
            kept += sum(o == b for o, b in zip(out, batch.ravel().tolist()))
    assert int(keras.ops.convert_to_numpy(history.count.value)) == 4
    assert 0.3 < swapped / (swapped + kept) < 0.7  # even odds once full
    off = ImageHistory(0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(off(first)), first)


# ----------------------------------------------------------------------------- one step, worked by hand
# Tiny linear networks (1x1 convolutions without bias) and SGD make each step's gradients easy to write down.


def linear(name, channels_in, weight, inputs=None):
    images = keras.Input((None, None, channels_in), name="images")
    if inputs is None:
        conv = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer=keras.initializers.Constant(weight))
        return keras.Model(images, conv(images), name=name)
    condition = keras.Input((None, None, 1), name="condition")
    joined = keras.layers.Concatenate()([condition, images])
    conv = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer=keras.initializers.Constant(weight))
    return keras.Model([condition, images], conv(joined), name=name)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def kernel(network):
    return keras.ops.convert_to_numpy(network.trainable_variables[0]).ravel()


def test_pix2pix_step_is_the_hand_worked_step():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (4, 2, 2, 1)).astype("float32")
    y = rng.uniform(-1, 1, (4, 2, 2, 1)).astype("float32")
    w, (u, v), lr = 0.3, (0.5, -0.2), 0.1
    generator = linear("generator", 1, w)
    discriminator = linear("discriminator", 1, [[u], [v]], inputs="pair")
    model = Pix2Pix(generator, discriminator, l1_weight=100.0)
    model.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    logs = model.train_on_batch(x, y, return_dict=True)

    # D first, on the fake G(x) = w x: loss 0.5 (E softplus(-(u x + v y)) + E softplus(u x + v w x)).
    fake = w * x
    real_logits, fake_logits = u * x + v * y, u * x + v * fake
    d_loss = 0.5 * (np.mean(np.log1p(np.exp(-real_logits))) + np.mean(np.log1p(np.exp(fake_logits))))
    du = 0.5 * (np.mean(-sigmoid(-real_logits) * x) + np.mean(sigmoid(fake_logits) * x))
    dv = 0.5 * (np.mean(-sigmoid(-real_logits) * y) + np.mean(sigmoid(fake_logits) * fake))
    u1, v1 = u - lr * du, v - lr * dv
    # Then G through the same fake, judged by the updated D: E softplus(-(u1 x + v1 w x)) + 100 E |y - w x|.
    judged = u1 * x + v1 * fake
    dw = np.mean(-sigmoid(-judged) * v1 * x) + 100.0 * np.mean(-np.sign(y - fake) * x)
    np.testing.assert_allclose(kernel(discriminator), [u1, v1], rtol=1e-5)
    np.testing.assert_allclose(kernel(generator), [w - lr * dw], rtol=1e-5)
    assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(np.mean(np.log1p(np.exp(-judged))), rel=1e-5)
    assert logs["l1"] == pytest.approx(np.mean(np.abs(y - fake)), rel=1e-5)


def test_cyclegan_step_is_the_hand_worked_step():
    rng = np.random.default_rng(2)
    a = rng.uniform(-1, 1, (4, 2, 2, 1)).astype("float32")
    b = rng.uniform(-1, 1, (4, 2, 2, 1)).astype("float32")
    p, q, s, t, lr = 0.6, -0.4, 0.7, 0.2, 0.05
    model = CycleGAN(
        linear("generator_ab", 1, p), linear("generator_ba", 1, q),
        linear("discriminator_a", 1, s), linear("discriminator_b", 1, t),
        image_shape=(2, 2, 1), cycle_weight=10.0, identity_weight=0.5, history_size=0,
    )
    model.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    logs = model.train_on_batch(a, b, return_dict=True)

    fb, fa = p * a, q * b  # G_AB(a), G_BA(b)
    m = np.mean
    g_loss = (
        m((t * fb - 1) ** 2) + m((s * fa - 1) ** 2)
        + 10 * (m(np.abs(q * fb - a)) + m(np.abs(p * fa - b)))
        + 5 * (m(np.abs(q * a - a)) + m(np.abs(p * b - b)))
    )
    dp = (
        m(2 * (t * fb - 1) * t * a)
        + 10 * (m(np.sign(q * fb - a) * q * a) + m(np.sign(p * fa - b) * fa))
        + 5 * m(np.sign(p * b - b) * b)
    )
    dq = (
        m(2 * (s * fa - 1) * s * b)
        + 10 * (m(np.sign(q * fb - a) * fb) + m(np.sign(p * fa - b) * p * b))
        + 5 * m(np.sign(q * a - a) * a)
    )
    # Each D: 0.5 E (D(real) - 1)^2 + 0.5 E D(fake)^2, on the fakes from before G's update.
    d_loss = 0.5 * (m((s * a - 1) ** 2) + m((s * fa) ** 2) + m((t * b - 1) ** 2) + m((t * fb) ** 2))
    ds = m((s * a - 1) * a) + m(s * fa**2)
    dt = m((t * b - 1) * b) + m(t * fb**2)
    for network, expected in (
        (model.generator_ab, p - lr * dp), (model.generator_ba, q - lr * dq),
        (model.discriminator_a, s - lr * ds), (model.discriminator_b, t - lr * dt),
    ):
        np.testing.assert_allclose(kernel(network), [expected], rtol=1e-5, err_msg=network.name)
    assert logs["g_loss"] == pytest.approx(g_loss, rel=1e-5)
    assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-5)


# ----------------------------------------------------------------------------- save, load, resume


def small_pix2pix():
    return Pix2Pix.build_for((8, 8, 1), filters=4, seed=0)


def small_cyclegan():
    return CycleGAN.build_for((8, 8, 1), filters=4, blocks=1, patch_layers=1, history_size=3, seed=0)


@pytest.mark.parametrize("build", [small_pix2pix, small_cyclegan], ids=["pix2pix", "cyclegan"])
def test_a_saved_model_resumes_as_if_never_stopped(tmp_path, build):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    y = np.flip(x, axis=2).copy()

    # Eager on TensorFlow: three models would each trace the step, most of the time; the compiled step's resume is
    # tests/test_translation_train.py's (after a SIGKILL).
    eager = keras.backend.backend() == "tensorflow"

    def trained(model_maker):
        keras.utils.set_random_seed(0)
        model = model_maker()
        model.compile(run_eagerly=eager)
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        return model

    keras.utils.set_random_seed(0)
    through = build()
    through.compile(run_eagerly=eager)
    through.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)

    first = trained(build)
    path = tmp_path / "model.keras"
    first.save(path)
    resumed = keras.models.load_model(path)
    assert int(keras.ops.convert_to_numpy(resumed.g_optimizer.iterations)) == 2
    for mine, theirs in zip(first.variables, resumed.variables):  # histories and optimizer state included
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine), keras.ops.convert_to_numpy(theirs))
    resumed.run_eagerly = eager
    resumed.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for mine, theirs in zip(through.trainable_variables, resumed.trainable_variables):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(mine), keras.ops.convert_to_numpy(theirs), atol=1e-6, err_msg=mine.path
        )
    np.testing.assert_allclose(resumed.translate(x), through.translate(x), atol=1e-5)
