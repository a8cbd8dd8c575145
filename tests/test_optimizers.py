"""The papers' optimizers as data (`zoo.optimizers.make`): pylearn2's decaying learning rate and rising momentum
against values worked by hand, and what each spec builds."""

import keras
import numpy as np
import pytest

import zoo
from zoo import optimizers


def test_learning_rate_decays_by_the_factor_per_update_down_to_the_floor():
    schedule = zoo.FlooredExponentialDecay(0.1, 2.0, 0.02)
    assert [float(schedule(step)) for step in (0, 1, 2, 3, 10)] == pytest.approx([0.1, 0.05, 0.025, 0.02, 0.02])
    goodfellow = zoo.FlooredExponentialDecay(0.1, 1.000004, 1e-6)
    assert float(goodfellow(25_000)) == pytest.approx(0.1 / 1.000004**25_000, rel=1e-5)  # 50 epochs: 0.0905
    assert float(goodfellow(3_000_000)) == pytest.approx(1e-6)  # the floor, after about 5,756 epochs


def test_momentum_rises_linearly_between_its_start_and_saturation():
    optimizer = zoo.ScheduledMomentumSGD(0.1, momentum=0.5, final_momentum=0.7, momentum_start=10, momentum_saturate=30)
    optimizer.build([keras.Variable(np.zeros(1, "float32"))])
    values = {}
    for step in (0, 10, 20, 30, 100):
        optimizer.iterations.assign(step)
        values[step] = float(optimizer.current_momentum())
    assert values == pytest.approx({0: 0.5, 10: 0.5, 20: 0.6, 30: 0.7, 100: 0.7})


def test_momentum_update_by_hand():
    # v <- mu v - lr g; w <- w + v, with mu = 0.5 at the first update and 0.6 at the second (ramp over 0..2).
    w = keras.Variable(np.array([1.0], "float32"))
    optimizer = zoo.ScheduledMomentumSGD(0.1, momentum=0.5, final_momentum=0.7, momentum_start=0, momentum_saturate=2)
    optimizer.apply_gradients([(np.array([2.0], "float32"), w)])  # v = -0.2, w = 0.8
    optimizer.apply_gradients([(np.array([1.0], "float32"), w)])  # v = 0.6 * -0.2 - 0.1 = -0.22, w = 0.58
    assert float(w.numpy()[0]) == pytest.approx(0.58)


def test_tf1_rmsprop_starts_its_mean_square_at_ones():
    # ms = 0.9 * 1 + 0.1 * 0.5^2 = 0.925; w = 1 - 0.1 * 0.5 / sqrt(0.925 + 1e-10) = 0.948012...
    w = keras.Variable(np.array([1.0], "float32"))
    optimizer = zoo.TF1RMSprop(0.1, rho=0.9, epsilon=1e-10)
    optimizer.apply_gradients([(np.array([0.5], "float32"), w)])
    assert float(w.numpy()[0]) == pytest.approx(1 - 0.05 / 0.925**0.5, abs=1e-6)
    assert float(optimizer.variables[-1].numpy()[0]) == pytest.approx(0.925)


def test_specs_build_the_papers_optimizers_and_round_trip():
    sgd = optimizers.make(zoo.describe("vanilla")["options"]["default_optimizer"], "d")
    config = keras.optimizers.serialize(sgd)
    assert isinstance(sgd, zoo.ScheduledMomentumSGD)
    assert config["config"]["learning_rate"]["class_name"] == "FlooredExponentialDecay"
    restored = keras.optimizers.deserialize(config)
    assert type(restored) is zoo.ScheduledMomentumSGD and restored.momentum_saturate == 125_000
    rmsprop = optimizers.make(zoo.describe("wgan")["options"]["default_optimizer"], "g")
    assert isinstance(rmsprop, zoo.TF1RMSprop) and float(rmsprop.learning_rate) == pytest.approx(5e-5)
    assert (rmsprop.rho, rmsprop.epsilon) == (0.9, 1e-10)  # tf.train.RMSPropOptimizer's defaults, as their code
    assert type(keras.optimizers.deserialize(keras.optimizers.serialize(rmsprop))) is zoo.TF1RMSprop
    infogan = zoo.describe("infogan")["options"]["default_optimizer"]
    assert float(optimizers.make(infogan, "d").learning_rate) == pytest.approx(2e-4)
    assert float(optimizers.make(infogan, "g").learning_rate) == pytest.approx(1e-3)
    assert float(optimizers.make(infogan, "g", learning_rate=5e-4).learning_rate) == pytest.approx(5e-4)
    adam = optimizers.make(None, "g")  # no spec: DCGAN's Adam
    assert float(adam.learning_rate) == pytest.approx(2e-4) and adam.beta_1 == 0.5
    with pytest.raises(ValueError, match="one of"):
        optimizers.make({"name": "adagrad", "learning_rate": 0.1}, "d")


def test_a_compiled_preset_trains_with_its_papers_optimizer_and_saves_it(tmp_path):
    gan = zoo.create("vanilla", data_shape=(4, 4, 1), g_units=(8,), d_units=(4,), d_pieces=(2,), latent_dim=3)
    gan.compile()
    assert type(gan.d_optimizer) is type(gan.g_optimizer) is zoo.ScheduledMomentumSGD
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert type(restored.g_optimizer) is zoo.ScheduledMomentumSGD
    assert restored.default_optimizer == gan.default_optimizer
