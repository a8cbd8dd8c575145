"""Mixed precision: 16-bit compute, float32 variables, logits and losses; the global policy is restored. `make test`
runs this file on JAX and torch too."""

import keras
import numpy as np
import pytest

import zoo
from zoo import float32_copy, mixed_precision, set_mixed_precision

DCGAN = {"data_shape": (8, 8, 1), "latent_dim": 8, "filters": 4, "seed": 1}
MLP = {"backbone": "mlp", "activation": "relu", "dropout": 0.0, "data_shape": (4, 4, 1), "latent_dim": 8, "g_units": (16,), "d_units": (16,), "seed": 1}


@pytest.fixture(autouse=True)
def _float32_afterwards():
    yield
    assert keras.mixed_precision.global_policy().name == "float32"


def dtype(x):
    return keras.backend.standardize_dtype(x.dtype)


def images(shape, n=24):
    return np.random.default_rng(0).uniform(-1, 1, (n, *shape)).astype("float32")


def test_auto_policy_is_bfloat16_on_cpu_and_the_context_restores_float32():
    with mixed_precision("auto") as policy:
        assert policy == "mixed_bfloat16" == keras.mixed_precision.global_policy().name
    with pytest.raises(ValueError, match="policy"):
        set_mixed_precision("float8")


def test_mixed_bfloat16_dcgan_trains_with_finite_float32_losses():
    with mixed_precision("mixed_bfloat16"):
        gan = zoo.create("dcgan_mbd_code_ema", **DCGAN)
        gan.compile()
        before = [np.array(v) for v in gan.generator.trainable_variables]
        history = gan.fit(images(gan.data_shape), batch_size=8, epochs=1, verbose=0).history
    assert gan.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in gan.trainable_variables)
    assert dtype(gan.discriminator(images(gan.data_shape, 2))) == "bfloat16"
    assert dtype(gan._discriminate(images(gan.data_shape, 2), None)[0]) == "float32"  # logits for the losses
    assert int(gan.g_optimizer.iterations) == 3
    assert all(np.isfinite(values).all() for values in history.values())
    assert any(not np.array_equal(b, np.array(v)) for b, v in zip(before, gan.generator.trainable_variables))


def test_mixed_float16_scales_the_losses_and_applies_the_steps():
    with mixed_precision("mixed_float16"):
        # concat: an AC-GAN head's larger gradients overflow at the initial scale 2^15 and skip the
        # first steps (as dynamic loss scaling should), which this count does not expect.
        gan = zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="concat", **MLP)
        gan.compile()
        history = gan.fit(images(gan.data_shape), np.arange(24) % 3, batch_size=8, epochs=1, verbose=0).history
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    # A step is skipped only when the scaled gradients overflow; a tiny model at scale 2^15 does not.
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 3
    assert all(np.isfinite(values).all() for values in history.values())


def test_mixed_bfloat16_trains_with_the_stabilisers():
    options = {"loss": "hinge", "r1_weight": 1.0, "spectral_norm": True, "ema_decay": 0.9, "diffaugment": "color,cutout"}
    if keras.backend.backend() == "torch":  # refused there, with the reason (tests/test_stabilisers.py)
        del options["spectral_norm"]
    with mixed_precision("mixed_bfloat16"):
        gan = zoo.create("conditional_dcgan_mbd", num_classes=3, conditioning="acgan", **options, **MLP)
        gan.compile()
        history = gan.fit(images(gan.data_shape), np.arange(24) % 3, batch_size=8, epochs=1, verbose=0).history
    assert int(gan.g_optimizer.iterations) == 3
    assert all(np.isfinite(values).all() for values in history.values()), history
    assert all(v.dtype == "float32" for v in gan.ema_generator.weights)


@pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="PyTorch's CPU float16 convolution fails the weight gradient of the PatchGAN's one-channel Conv2D inside "
    "Keras (slow_conv2d: grad_weight must be contiguous); mixed_float16 is a GPU policy ('auto' picks bfloat16 on CPUs)",
)
@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_translators_scale_their_losses_under_mixed_float16_and_take_them_in_float32(name, monkeypatch):
    seen = []  # the dtypes each loss function is given

    def spy(loss):
        def recorded(*args):
            seen.append((loss.__name__, [dtype(a) for a in args if hasattr(a, "dtype")]))
            return loss(*args)

        recorded.__name__ = loss.__name__
        return recorded

    for loss in ("l1_distance", "least_squares_loss", "least_squares_discriminator_loss",
                 "non_saturating_generator_loss", "minimax_discriminator_loss"):
        monkeypatch.setattr(zoo.losses, loss, spy(getattr(zoo.losses, loss)))
    x = images((8, 8, 1), 8)
    with mixed_precision("mixed_float16"):
        model = zoo.create_translator(name, image_shape=(8, 8, 1), filters=4, seed=0, **(
            {"blocks": 1, "patch_layers": 1, "history_size": 3} if name == "cyclegan" else {}))
        model.compile()
        before = [keras.ops.convert_to_numpy(v) for v in model.generators[0].trainable_variables]
        history = model.fit(x, np.flip(x, axis=2).copy(), batch_size=1, epochs=1, verbose=0).history
    assert dtype(model.generators[0](x[:1])) == "float16"
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        # Each of the 8 steps either applied the update or halved the scale (the first few overflow at the initial
        # 2^15, G's with its L1 / cycle terms weighted 100 / 10: what dynamic loss scaling is for).
        skipped = np.log2(optimizer.initial_scale / float(keras.ops.convert_to_numpy(optimizer.dynamic_scale)))
        assert int(optimizer.iterations) + skipped == 8
        assert int(optimizer.iterations) >= 1
    assert int(model.g_optimizer.iterations) < 8  # some of G's steps were skipped: its losses were scaled
    assert all(np.isfinite(values).all() for values in history.values()), history
    assert any(
        not np.array_equal(b, keras.ops.convert_to_numpy(v)) for b, v in zip(before, model.generators[0].trainable_variables)
    )
    assert seen and all(dtypes and set(dtypes) == {"float32"} for _, dtypes in seen), seen


def test_a_mixed_precision_generator_exports_as_a_float32_copy():
    with mixed_precision("mixed_bfloat16"):
        gan = zoo.create("dcgan_mbd_code_ema", **DCGAN)
    z = gan.sample_noise(4, seed=0)
    mixed = gan.generator(z)
    copy = float32_copy(gan.generator)
    assert dtype(mixed) == "bfloat16"
    assert dtype(copy(z)) == "float32" and all(v.dtype == "float32" for v in copy.weights)
    numpy = keras.ops.convert_to_numpy
    np.testing.assert_allclose(numpy(copy(z)), numpy(keras.ops.cast(mixed, "float32")), atol=0.02)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="ONNX export converts through tf2onnx (TensorFlow)")
@pytest.mark.parametrize(
    "name, options",
    [("dcgan_mbd_code_ema", {"filters": 4, "latent_dim": 8}), ("conditional", {})],  # conditional: dropout masks in z
)
def test_a_mixed_precision_generator_exports_as_a_float32_graph(tmp_path, name, options):
    import onnx

    import zoo
    from export import export_generator
    from zoo import mixed_precision

    with mixed_precision("mixed_bfloat16"):
        gan = zoo.create(name, data_shape=(8, 8, 1), seed=0, **options)
    assert gan.generator.compute_dtype == "bfloat16"
    gan.save(tmp_path / "gan.keras")
    assert zoo.computes_in_16_bits(keras.models.load_model(tmp_path / "gan.keras").generator)
    float32 = onnx.TensorProto.FLOAT
    for source, path in ((gan, tmp_path / "g.onnx"), (tmp_path / "gan.keras", tmp_path / "loaded.onnx")):
        report = export_generator(source, path)
        model = onnx.load(path)
        assert [o.type.tensor_type.elem_type for o in model.graph.output] == [float32]
        types = {init.data_type for init in model.graph.initializer}
        assert float32 in types and not types & {onnx.TensorProto.BFLOAT16, onnx.TensorProto.FLOAT16}, types
        assert report.max_abs_diff <= 1e-4


def test_train_keeps_exporting_the_model_side_helpers():
    import train
    from train import distribute

    for name in ("float32_copy", "mixed_precision", "set_mixed_precision", "synchronize_batch_norm"):
        assert getattr(train, name) is getattr(zoo, name) is getattr(distribute, name)
