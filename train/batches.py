"""Training batches without TensorFlow: `train.datasets.epoch_dataset`'s contract in numpy, for JAX and PyTorch.

On those backends `fit` feeds numpy batches to the step anyway, so a `keras.utils.PyDataset` costs nothing over
`tf.data` and lets `ganzoo train --backend jax|torch` run where TensorFlow is not installed (a GPU machine with
JAX or PyTorch alone). Each epoch's order is `numpy.random.default_rng((seed, epoch)).permutation`: it depends only
on the run's seed and the epoch, so a resumed run sees the batches the uninterrupted run would have (not the same
order as TensorFlow's stateless shuffle, so a run keeps its backend to resume exactly).
"""

import keras
import numpy as np


class EpochBatches(keras.utils.PyDataset):
    """Batches for epochs `first_epoch` .. `epochs - 1`, back to back, for `fit(steps_per_epoch=...)`.

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
        super().__init__()  # one worker, no multiprocessing: a batch is one numpy gather
        self.x, self.y = x, y
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.first_epoch, self.epochs = int(first_epoch), int(epochs)
        self.steps_per_epoch = len(x) // self.batch_size
        self._order_of = (None, None)  # (epoch, order): fit asks for one epoch's batches in turn

    def __len__(self):
        return max(0, self.epochs - self.first_epoch) * self.steps_per_epoch

    def order(self, epoch):
        """The sample indices of `epoch`, in the order its batches take them."""
        if self._order_of[0] != epoch:
            self._order_of = (epoch, np.random.default_rng((self.seed, epoch)).permutation(len(self.x)))
        return self._order_of[1]

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        epoch, step = divmod(int(index), self.steps_per_epoch)
        rows = self.order(self.first_epoch + epoch)[step * self.batch_size : (step + 1) * self.batch_size]
        return self.x[rows] if self.y is None else (self.x[rows], self.y[rows])


class TranslationEpochBatches(keras.utils.PyDataset):
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
        super().__init__()
        self.a, self.b, self.paired = a, b, bool(paired)
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.first_epoch, self.epochs = int(first_epoch), int(epochs)
        self.length = len(a) if self.paired else max(len(a), len(b))
        self.steps_per_epoch = self.length // self.batch_size
        self.load_size = None if load_size is None else tuple(int(v) for v in load_size)
        self._draws_of = (None, None)

    def __len__(self):
        return max(0, self.epochs - self.first_epoch) * self.steps_per_epoch

    def draws(self, epoch):
        """(a rows, b rows, a crops, a flips, b crops, b flips) of `epoch`, one per image of the epoch."""
        if self._draws_of[0] != epoch:
            rng = np.random.default_rng((self.seed, epoch))
            order = rng.permutation(self.length)
            b_rows = rng.integers(0, len(self.b), self.length)
            height, width = self.a.shape[1:3]
            spare = np.array([1, 1]) if self.load_size is None else np.array(self.load_size) - (height, width) + 1
            crops = [np.floor(rng.random((self.length, 2)) * spare).astype(int) for _ in range(2)]
            flips = [rng.random(self.length) < 0.5 for _ in range(2)]
            if self.paired:
                draws = (order, order, crops[0], flips[0], crops[0], flips[0])
            else:
                draws = (order % len(self.a), b_rows, crops[0], flips[0], crops[1], flips[1])
            self._draws_of = (epoch, draws)
        return self._draws_of[1]

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        epoch, step = divmod(int(index), self.steps_per_epoch)
        batch = slice(step * self.batch_size, (step + 1) * self.batch_size)
        a_rows, b_rows, crops_a, flips_a, crops_b, flips_b = (d[batch] for d in self.draws(self.first_epoch + epoch))
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
