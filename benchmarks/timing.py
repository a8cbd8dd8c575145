"""Timing `fit`'s steps, without what the call does before its first step and after its last.

When `fit` returns, Keras drops its tf.data iterator, and deleting that iterator can block until a tf.data
background thread's timed wait runs out; those waits double from 10 ms from the moment the iterator was made. So a
call whose steps take t seconds could return only at the next 0.01 * (2**n - 1) seconds: whole-call rates came out
as 46.9 images/s times a power of 2, whatever the model (docs/backends.md says what it cost). A user's `fit`
over many epochs pays this once per call, so the benchmarks time the steps: from the first step's start to the end
of training, when Keras's JAX trainer has synced its state and every backend has finished the last step.
"""

import time


def fit_step_seconds(model, data, steps, **fit_options):
    """Runs `steps` steps of `model.fit(data)` (one epoch, silent) and returns the seconds from the start of the first
    step to the end of training. The clock overrides no `*_batch_end` hook, so Keras keeps dispatching those
    callbacks asynchronously, as in a user's `fit`."""
    import keras  # here, not at the top: the benchmarks' orchestrators run without a Keras backend

    class StepClock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                self.started = time.perf_counter()

        def on_train_end(self, logs=None):
            for value in (logs or {}).values():  # the last step's results: waits for it where dispatch is asynchronous
                keras.ops.convert_to_numpy(value)
            self.seconds = time.perf_counter() - self.started

    clock = StepClock()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[clock], **fit_options)
    return clock.seconds
