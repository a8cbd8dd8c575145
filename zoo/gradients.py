"""Taking and applying gradients on each Keras backend: the only part of a GAN's training step that differs
between TensorFlow, JAX and PyTorch.

A GAN's step is written once (`zoo.GAN`), as stateful Keras code: networks are called, optimizers applied,
variables assigned, metrics updated. Two functions here do what each backend does its own way:
`minimize` (one forward pass, each loss's gradient with respect to its own variables, then each optimizer's
update) and `input_gradients` (dD/dx for the gradient penalties, itself differentiable).

On JAX the whole step runs inside one `keras.StatelessScope` (`jax_train_step`), as Keras's JAX trainer
runs its own `train_step`: every variable's value comes from the step's state and every assignment is
recorded in the scope instead of made, so the step stays a pure function that `jax.jit` compiles. Each
gradient is taken by `jax.vjp` of a function that runs the loss in a nested scope of its own; what that run
changed besides (BatchNorm statistics, seed generators, metrics) comes back as auxiliary output and is
carried into the step's state (keras-team/keras#18881, #20378). Each update is the optimizer's
`stateless_apply`, whose results are assigned in the step's scope.
"""

import keras

_jax_step_variables = []  # during a JAX step: every variable of the model whose step it is


def minimize(objectives, loss_fn):
    """One forward pass and one update per objective.

    Args:
        objectives: a list of (optimizer, variables) pairs.
        loss_fn: a function of no arguments returning (losses, aux), one scalar loss per objective;
            each loss is differentiated with respect to its own objective's variables only.

    Returns:
        aux, as `loss_fn` returned it (its gradients are not taken).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        gradients, aux = _tensorflow_gradients(objectives, loss_fn)
    elif backend == "jax":
        gradients, aux = _jax_gradients(objectives, loss_fn)
    elif backend == "torch":
        gradients, aux = _torch_gradients(objectives, loss_fn)
    else:
        raise NotImplementedError(f"GANs train on the tensorflow, jax and torch backends, not {backend!r}.")
    # All gradients come from the one forward pass above, so applying one update first does not change the
    # others' (torch would refuse to differentiate through weights changed in place).
    for (optimizer, variables), grads in zip(objectives, gradients):
        _apply(optimizer, grads, variables)
    return aux


def input_gradients(fn, samples):
    """The gradient of `sum(fn(samples))` with respect to `samples`, itself differentiable with respect to the
    variables `fn` reads: what a gradient penalty (WGAN-GP, R1) needs inside a loss."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(samples)
            total = keras.ops.sum(fn(samples))
        return tape.gradient(total, samples)
    if backend == "jax":
        import jax

        if not _jax_step_variables:  # called eagerly, outside a training step: no state to carry
            def eager_total(x):
                with keras.StatelessScope():  # what fn would assign (BatchNorm statistics, seeds) is dropped
                    return keras.ops.sum(fn(x))

            return jax.grad(eager_total)(samples)

        def total(x):
            output, changed = _run_in_scope(lambda: keras.ops.sum(fn(x)), {})
            return output, changed

        gradient, changed = jax.grad(total, has_aux=True)(samples)
        _assign_changed(changed)
        return gradient
    if backend == "torch":
        import torch

        samples = samples.detach().requires_grad_(True)
        total = keras.ops.sum(fn(samples))
        return torch.autograd.grad(total, samples, create_graph=True)[0]
    raise NotImplementedError(f"no input gradients on the {backend!r} backend.")


def jax_train_step(model, state, step_fn, data):
    """Runs `step_fn(data)` (a stateful step) as the pure function Keras's JAX trainer compiles.

    `state` is the trainer's (trainable, non-trainable, optimizer, metrics) values, in the order of
    `model.trainable_variables`, `model.non_trainable_variables`, `model.optimizer.variables` and
    `model.metrics_variables`; returns (logs, the new state) in the same order.
    """
    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )
    mapping = [(variable, value) for variables, values in zip(groups, state) for variable, value in zip(variables, values)]
    _jax_step_variables.append([variable for variable, _ in mapping])
    try:
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = step_fn(data)
    finally:
        _jax_step_variables.pop()
    new_state = tuple(
        [_current(scope, variable) for variable in variables] for variables in groups
    )
    return logs, new_state


def _current(scope, variable):
    value = scope.get_current_value(variable)
    return variable.value if value is None else value


def _apply(optimizer, gradients, variables):
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        with torch.no_grad():
            optimizer.apply(gradients, variables)
    elif backend == "jax":
        # As Keras's JAX trainer does: `LossScaleOptimizer.apply` assigns inside `ops.cond`'s branches, which on
        # JAX leaks the branches' tracers into the step's scope; `stateless_apply` returns the new values.
        built = optimizer._trainable_variables  # what stateless_apply takes, in order (Keras has no public name)
        by_id = {id(variable): grad for variable, grad in zip(variables, gradients)}
        built_ids = {id(variable) for variable in built}
        unknown = [variable.path for variable in variables if id(variable) not in built_ids]
        if unknown:
            raise ValueError(f"optimizer {optimizer.name} was not built for {', '.join(unknown)}: compile again.")
        # A variable not trained now (a layer frozen after compile) gets no gradient: Keras leaves it as it is.
        new_variables, new_optimizer_variables = optimizer.stateless_apply(
            [v.value for v in optimizer.variables], [by_id.get(id(v)) for v in built], [v.value for v in built]
        )
        for variable, value in zip([*built, *optimizer.variables], [*new_variables, *new_optimizer_variables]):
            variable.assign(value)
    else:
        optimizer.apply(gradients, variables)


def _scaled(objectives, losses):
    """Each loss multiplied by its optimizer's loss scale (a `LossScaleOptimizer`'s under mixed float16)."""
    if len(losses) != len(objectives):
        raise ValueError(f"loss_fn returned {len(losses)} losses for {len(objectives)} objectives.")
    return [optimizer.scale_loss(loss) for (optimizer, _), loss in zip(objectives, losses)]


def _tensorflow_gradients(objectives, loss_fn):
    import tensorflow as tf

    with tf.GradientTape(persistent=len(objectives) > 1) as tape:
        losses, aux = loss_fn()
        scaled = _scaled(objectives, losses)
    gradients = [tape.gradient(loss, variables) for loss, (_, variables) in zip(scaled, objectives)]
    del tape
    return gradients, aux


def _torch_gradients(objectives, loss_fn):
    import torch

    losses, aux = loss_fn()
    scaled = _scaled(objectives, losses)
    gradients = []
    for i, (loss, (_, variables)) in enumerate(zip(scaled, objectives)):
        values = [variable.value for variable in variables]
        grads = torch.autograd.grad(loss, values, retain_graph=i < len(objectives) - 1, allow_unused=True)
        gradients.append([torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)])
    return gradients, aux


def _jax_gradients(objectives, loss_fn):
    import jax

    trained = [variable for _, variables in objectives for variable in variables]

    def forward(values):
        def losses_and_aux():
            losses, aux = loss_fn()
            return _scaled(objectives, losses), aux

        (losses, aux), changed = _run_in_scope(losses_and_aux, dict(zip(map(id, trained), values)))
        return tuple(losses), (aux, changed)

    values = [variable.value for variable in trained]
    losses, backward, (aux, changed) = jax.vjp(forward, values, has_aux=True)
    _assign_changed(changed)
    gradients, start = [], 0
    for i, (_, variables) in enumerate(objectives):
        cotangent = tuple(keras.ops.ones_like(loss) if j == i else keras.ops.zeros_like(loss) for j, loss in enumerate(losses))
        (grads,) = backward(cotangent)
        gradients.append(grads[start : start + len(variables)])
        start += len(variables)
    return gradients, aux


def _run_in_scope(fn, replaced):
    """`fn()` in a nested stateless scope that sees every step variable's current value, except those whose
    id is in `replaced` (which see the given value). Returns fn's output and {index: new value} for the step
    variables it assigned, to carry into the enclosing scope."""
    if not _jax_step_variables:
        raise RuntimeError("a JAX GAN step runs inside zoo.gradients.jax_train_step.")
    everything = _jax_step_variables[-1]
    mapping = [(variable, replaced.get(id(variable), variable.value)) for variable in everything]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        before = dict(scope.state_mapping)
        output = fn()
    changed = {
        i: scope.state_mapping[id(variable)]
        for i, variable in enumerate(everything)
        if scope.state_mapping[id(variable)] is not before[id(variable)]
    }
    return output, changed


def _assign_changed(changed):
    everything = _jax_step_variables[-1]
    for i, value in changed.items():
        everything[i].assign(value)


class OptimizerPair:
    """What Keras's JAX trainer reads as `model.optimizer` for a model with two: the variables of both, which it
    carries through each step as state (the GAN's own `d_optimizer` and `g_optimizer` apply the updates)."""

    built = True

    def __init__(self, *optimizers):
        self.optimizers = optimizers

    @property
    def variables(self):
        return [variable for optimizer in self.optimizers for variable in optimizer.variables]
