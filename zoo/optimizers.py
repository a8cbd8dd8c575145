"""The optimizers the papers trained with, built from plain dicts so a preset can carry them as data.

`make(spec, side)` turns a spec such as ``{"name": "adam", "learning_rate": 2e-4, "beta_1": 0.5}`` into
a Keras optimizer for the discriminator ("d") or the generator ("g"). Goodfellow et al. 2014 and
Mirza & Osindero 2014 trained with pylearn2's SGD, whose learning rate decays by a constant factor per
update down to a floor and whose momentum rises linearly over the first epochs: `FlooredExponentialDecay`
and `ScheduledMomentumSGD` are those two pieces in Keras.
"""

import math

import keras
from keras import ops

OPTIMIZERS = ("adam", "rmsprop", "sgd")

# What `GAN.compile()` gives both players when neither the model nor the caller names one (Radford et al.).
DCGAN_ADAM = {"name": "adam", "learning_rate": 2e-4, "beta_1": 0.5}


@keras.saving.register_keras_serializable(package="ganzoo")
class FlooredExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(t) = max(initial / decay_factor ** t, min_learning_rate), t counting updates.

    pylearn2's `ExponentialDecay` update callback, which Goodfellow et al.'s MNIST configuration uses
    (decay_factor 1.000004, min_lr 1e-6).

    Args:
        initial_learning_rate: the rate of the first update.
        decay_factor: the rate is divided by this at every update (> 1 decays).
        min_learning_rate: the floor the rate never goes below.
    """

    def __init__(self, initial_learning_rate, decay_factor, min_learning_rate=0.0):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_factor = float(decay_factor)
        self.min_learning_rate = float(min_learning_rate)
        if self.decay_factor <= 0:
            raise ValueError(f"decay_factor must be positive, got {decay_factor}.")

    def __call__(self, step):
        # exp(-t ln f) with ln f taken in double precision: float32's (1 / 1.000004) ** t drifts by 1e-4 at
        # 25,000 updates and by 17% by the floor.
        log_factor = math.log(self.decay_factor)
        rate = self.initial_learning_rate * ops.exp(-ops.cast(step, "float32") * log_factor)
        return ops.maximum(rate, self.min_learning_rate)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_factor": self.decay_factor,
            "min_learning_rate": self.min_learning_rate,
        }


@keras.saving.register_keras_serializable(package="ganzoo")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The rate held for `constant_epochs`, then decayed linearly towards 0 over `decay_epochs` (CycleGAN's and
    pix2pix's "linear" policy, 100 + 100 epochs in the paper).

    As in the reference code the rate changes once per epoch: in epoch e (from 0) it is
    initial * (1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1)).

    Args:
        initial_learning_rate: the rate of the constant phase.
        steps_per_epoch: updates per epoch (the epoch is counted from the optimizer's iterations).
        constant_epochs: epochs at the initial rate.
        decay_epochs: epochs of linear decay after them.
    """

    def __init__(self, initial_learning_rate, steps_per_epoch, constant_epochs, decay_epochs):
        self.initial_learning_rate = float(initial_learning_rate)
        self.steps_per_epoch = int(steps_per_epoch)
        self.constant_epochs = int(constant_epochs)
        self.decay_epochs = int(decay_epochs)
        if self.steps_per_epoch < 1 or self.constant_epochs < 0 or self.decay_epochs < 0:
            raise ValueError("steps_per_epoch must be positive and the epoch counts not negative.")

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        decayed = ops.maximum(epoch + 1.0 - self.constant_epochs, 0.0) / (self.decay_epochs + 1.0)
        return self.initial_learning_rate * ops.maximum(1.0 - decayed, 0.0)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "steps_per_epoch": self.steps_per_epoch,
            "constant_epochs": self.constant_epochs,
            "decay_epochs": self.decay_epochs,
        }


@keras.saving.register_keras_serializable(package="ganzoo")
class ScheduledMomentumSGD(keras.optimizers.SGD):
    """SGD with (heavy-ball) momentum that rises linearly from `momentum` to `final_momentum`.

    The momentum is `momentum` until update `momentum_start`, `final_momentum` from update
    `momentum_saturate` on, and linear in between: pylearn2's `MomentumAdjustor` (start 1, saturate 250
    epochs in Goodfellow et al.'s MNIST configuration), counted in updates instead of epochs, so it needs
    no callback and resumes exactly. The update is Keras's (and pylearn2's): v <- mu v - lr g; w <- w + v.

    Args:
        learning_rate: a float or a `LearningRateSchedule`.
        momentum: the initial momentum (> 0).
        final_momentum: the momentum after `momentum_saturate` updates.
        momentum_start, momentum_saturate: the updates where the ramp starts and ends.
        **kwargs: passed to `keras.optimizers.SGD` (not `nesterov`).
    """

    def __init__(self, learning_rate=0.1, momentum=0.5, final_momentum=0.7, momentum_start=0, momentum_saturate=1,
                 **kwargs):
        kwargs.pop("nesterov", None)
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)
        if not 0.0 < float(momentum) <= 1.0 or not 0.0 <= float(final_momentum) <= 1.0:
            raise ValueError(f"momenta must be in (0, 1], got {momentum} and {final_momentum}.")
        self.final_momentum = float(final_momentum)
        self.momentum_start = int(momentum_start)
        self.momentum_saturate = max(int(momentum_saturate), self.momentum_start + 1)

    def current_momentum(self):
        """The momentum of the next update, from the update count."""
        span = float(self.momentum_saturate - self.momentum_start)
        progress = ops.clip((ops.cast(self.iterations, "float32") - self.momentum_start) / span, 0.0, 1.0)
        return self.momentum + (self.final_momentum - self.momentum) * progress

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        velocity = self.momentums[self._get_variable_index(variable)]
        momentum = ops.cast(self.current_momentum(), variable.dtype)
        self.assign(velocity, ops.subtract(ops.multiply(velocity, momentum), ops.multiply(gradient, learning_rate)))
        self.assign_add(variable, velocity)

    def get_config(self):
        config = super().get_config()
        config.pop("nesterov", None)
        return {
            **config,
            "final_momentum": self.final_momentum,
            "momentum_start": self.momentum_start,
            "momentum_saturate": self.momentum_saturate,
        }


@keras.saving.register_keras_serializable(package="ganzoo")
class TF1RMSprop(keras.optimizers.RMSprop):
    """RMSprop as TensorFlow 1's `tf.train.RMSPropOptimizer` ran it: Keras's update (epsilon inside the square
    root), but the running mean square starts at ones, not zeros, so the first updates are about
    `learning_rate * gradient` and grow to normalised steps as the mean square decays towards the gradients'
    (a warm-up of a few hundred updates at rho 0.9). Gulrajani et al.'s WGAN code trained with it at its
    defaults: rho 0.9, epsilon 1e-10.

    Args:
        learning_rate, rho, epsilon, **kwargs: as `keras.optimizers.RMSprop`'s.
    """

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        for velocity in self._velocities:
            if velocity is not None:
                velocity.assign(ops.ones(velocity.shape, velocity.dtype))


def checked_spec(spec):
    """`spec` as a plain dict with a known optimizer name (ValueError otherwise); None stays None."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("name") not in OPTIMIZERS:
        raise ValueError(f"an optimizer spec is a dict whose 'name' is one of {OPTIMIZERS}; got {spec!r}.")
    return dict(spec)


def make(spec, side, learning_rate=None):
    """The Keras optimizer `spec` describes, for the discriminator (side "d") or the generator ("g").

    Args:
        spec: a dict with "name" ("adam", "rmsprop" or "sgd") and its settings:
            - every optimizer: "learning_rate", optionally "d_learning_rate" / "g_learning_rate" for
              one side (InfoGAN trains D at 2e-4 and G at 1e-3);
            - adam: "beta_1", "beta_2", "epsilon"; rmsprop: "rho", "epsilon", "mean_square_from_ones"
              (`TF1RMSprop`);
            - sgd: "momentum", and for pylearn2's schedules "decay_factor" and "min_learning_rate"
              (`FlooredExponentialDecay`), "final_momentum", "momentum_start", "momentum_saturate"
              (`ScheduledMomentumSGD`).
        side: "d" or "g".
        learning_rate: overrides the spec's rate for this side (the decay schedule, if any, starts there).
    """
    spec = checked_spec(spec) or dict(DCGAN_ADAM)
    if side not in ("d", "g"):
        raise ValueError(f"side must be 'd' or 'g', got {side!r}.")
    rate = learning_rate if learning_rate is not None else spec.get(f"{side}_learning_rate", spec["learning_rate"])
    rate = float(rate)
    name = spec["name"]
    if name == "adam":
        return keras.optimizers.Adam(
            rate, beta_1=spec.get("beta_1", 0.9), beta_2=spec.get("beta_2", 0.999), epsilon=spec.get("epsilon", 1e-7)
        )
    if name == "rmsprop":
        rmsprop = TF1RMSprop if spec.get("mean_square_from_ones") else keras.optimizers.RMSprop
        return rmsprop(rate, rho=spec.get("rho", 0.9), epsilon=spec.get("epsilon", 1e-7))
    if spec.get("decay_factor"):
        rate = FlooredExponentialDecay(rate, spec["decay_factor"], spec.get("min_learning_rate", 0.0))
    momentum = float(spec.get("momentum", 0.0))
    if "final_momentum" in spec:
        return ScheduledMomentumSGD(
            rate, momentum=momentum, final_momentum=spec["final_momentum"],
            momentum_start=spec.get("momentum_start", 0), momentum_saturate=spec.get("momentum_saturate", 1),
        )
    return keras.optimizers.SGD(rate, momentum=momentum)
