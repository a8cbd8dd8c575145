"""Training batches without TensorFlow: `train.datasets.epoch_dataset`'s contract in numpy, for JAX and PyTorch.

On those backends `fit` feeds numpy batches to the step anyway, so a `keras.utils.PyDataset` costs nothing over
`tf.data` and lets `ganzoo train --backend jax|torch` run where TensorFlow is not installed (a GPU machine with
JAX or PyTorch alone). Each epoch's order is `numpy.random.default_rng((seed, epoch)).permutation`: it depends only
on the run's seed and the epoch, so a resumed run sees the batches the uninterrupted run would have (not the same
order as TensorFlow's stateless shuffle, so a run keeps its backend to resume exactly).
"""

import keras
import numpy as np


class _SeededEpochs(keras.utils.PyDataset):
    """What both kinds of batches share: epochs `first_epoch` .. `epochs - 1` of `length` items, back to back, in
    batches of `batch_size` (an incomplete last batch dropped), each epoch's draws made once from
    `numpy.random.default_rng((seed, epoch))` by `_draw`."""

    def __init__(self, length, batch_size, seed, first_epoch, epochs):
        super().__init__()  # one worker, no multiprocessing: a batch is one numpy gather
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.first_epoch, self.epochs = int(first_epoch), int(epochs)
        self.steps_per_epoch = int(length) // self.batch_size
        self._draws_of = (None, None)  # (epoch, draws): fit asks for one epoch's batches in turn

    def __len__(self):
        return max(0, self.epochs - self.first_epoch) * self.steps_per_epoch

    def draws(self, epoch):
        """What `_draw` drew for `epoch`."""
        if self._draws_of[0] != epoch:
            self._draws_of = (epoch, self._draw(np.random.default_rng((self.seed, epoch))))
        return self._draws_of[1]

    def _epoch_and_rows(self, index):
        """(the draws of batch `index`'s epoch, the slice of that epoch's items the batch takes)."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        epoch, step = divmod(int(index), self.steps_per_epoch)
        return self.draws(self.first_epoch + epoch), slice(step * self.batch_size, (step + 1) * self.batch_size)


class EpochBatches(_SeededEpochs):
    """Batches for epochs `first_epoch` .. `epochs - 1`, back to back, for `fit(steps_per_epoch=...)`, each epoch
    in the order `default_rng((seed, epoch)).permutation`.

    Incomplete final batches are dropped, so every epoch has `len(x) // batch_size` steps.

    Args:
        x: the samples, a numpy array.
        y: int32 labels to yield beside them as (x, y), or None.
        batch_size: samples per batch.
        seed: the run's seed.
        first_epoch: the epoch to start from (a resumed run's).
        epochs: the epoch to stop before.
    """

    def __init__(self, x, y, batch_size, seed, first_epoch, epochs):
        super().__init__(len(x), batch_size, seed, first_epoch, epochs)
        self.x, self.y = x, y

    def _draw(self, rng):
        return rng.permutation(len(self.x))

    def __getitem__(self, index):
        order, batch = self._epoch_and_rows(index)
        rows = order[batch]
        return self.x[rows] if self.y is None else (self.x[rows], self.y[rows])


class TranslationEpochBatches(_SeededEpochs):
    """`train.translation_data.translation_epoch_dataset`'s (a_batch, b_batch) in numpy, for JAX and PyTorch.

    The same draws as TensorFlow's version, from `numpy.random.default_rng((seed, epoch))`: paired data gathers a
    and b with the same indices and jitters the pair alike; unpaired data runs over max(len(a), len(b)) images,
    a in a shuffled order (wrapping round), b drawn at random with replacement, each domain its own crops and
    flips. The jitter resizes with Pillow's bicubic filter (within 2e-3 of TensorFlow's), crops and mirrors.

    Args:
        a, b: the train images of the two domains, float32 NHWC in [-1, 1].
        paired: whether a[i] and b[i] are one example.
        batch_size: images per batch and domain.
        seed: the run's seed.
        first_epoch: the epoch to start from (a resumed run's).
        epochs: the epoch to stop before.
        load_size: (height, width) to resize to before cropping back to the images' size; None: no jitter.
    """

    def __init__(self, a, b, paired, batch_size, seed, first_epoch, epochs, load_size=None):
        self.length = len(a) if paired else max(len(a), len(b))
        super().__init__(self.length, batch_size, seed, first_epoch, epochs)
        self.a, self.b, self.paired = a, b, bool(paired)
        self.load_size = None if load_size is None else tuple(int(v) for v in load_size)

    def _draw(self, rng):
        """(a rows, b rows, a crops, a flips, b crops, b flips), one per image of the epoch."""
        order = rng.permutation(self.length)
        b_rows = rng.integers(0, len(self.b), self.length)
        height, width = self.a.shape[1:3]
        spare = np.array([1, 1]) if self.load_size is None else np.array(self.load_size) - (height, width) + 1
        crops = [np.floor(rng.random((self.length, 2)) * spare).astype(int) for _ in range(2)]
        flips = [rng.random(self.length) < 0.5 for _ in range(2)]
        if self.paired:
            return (order, order, crops[0], flips[0], crops[0], flips[0])
        return (order % len(self.a), b_rows, crops[0], flips[0], crops[1], flips[1])

    def __getitem__(self, index):
        draws, batch = self._epoch_and_rows(index)
        a_rows, b_rows, crops_a, flips_a, crops_b, flips_b = (d[batch] for d in draws)
        a, b = self.a[a_rows], self.b[b_rows]
        if self.load_size is None:
            return a, b
        return self._jittered(a, crops_a, flips_a), self._jittered(b, crops_b, flips_b)

    def _jittered(self, images, crops, flips):
        from PIL import Image

        height, width = images.shape[1:3]
        load_height, load_width = self.load_size
        out = np.empty_like(images)
        for i, image in enumerate(images):
            for channel in range(images.shape[-1]):  # Pillow's float images ("F") have one channel
                plane = Image.fromarray(np.ascontiguousarray(image[..., channel]))
                big = np.asarray(plane.resize((load_width, load_height), Image.Resampling.BICUBIC))
                top, left = crops[i]
                out[i, ..., channel] = big[top : top + height, left : left + width]
            if flips[i]:
                out[i] = out[i, :, ::-1]
        return np.clip(out, -1.0, 1.0)
