"""Task figures of an image-to-image translator on a `train.translation_data.TranslationData`'s test split.

A translator is any function from images (N, H, W, C) in [-1, 1] to images of the same layout, e.g.
`zoo.Pix2Pix(...).translate` or an ONNX session's. It translates `test_a` once; the figures are:

- ``l1``: the mean absolute difference, in [-1, 1] units, to what a correct model outputs: `test_b` for paired
  data (pix2pix's measure of choice beside FCN scores), the known `answers` for unpaired tasks built offline;
- ``class_accuracy``: where the task has `test_labels` and a `classifier_dataset`, the share of outputs that the
  dataset's evaluation classifier (`train.evaluation.classifier`, trained once and cached) puts in the input's
  class: an item drawn from its edges must still be that item, a thickened digit that digit. Outputs are brought
  to the classifier's input first (32 -> 28 px by cutting the padding; 16 -> 8 px by 2x2 means);
- ``ink_fraction`` (unpaired data) and beside it ``ink_fraction_real_b``: the style statistic, the mean share
  of pixels above 0 (ink on the -1 background). Stroke thickness proper (ink area / skeleton length) needs a
  skeletonisation that scipy lacks, and at 16-32 px its skeletons are noisy; the ink share moves the same way
  (the 3x3 dilation roughly doubles it), needs no threshold search and is robust to a few stray pixels.

`baselines(data)` gives the same figures for the identity (output = input) and for the real data (output =
target / answer), so that every model figure sits between a do-nothing and a perfect translator.

    from train.evaluation.translation import baselines, evaluate_translation
    report = evaluate_translation(model.translate, data)  # {"protocol", "model", "identity", "real"}
"""

import numpy as np

from train.evaluation.evaluator import EvaluationError

STYLE_STATISTIC = "ink fraction: mean share of pixels above 0"


def evaluate_translation(translate, data, classifier=None, baseline=True):
    """The task figures of `translate` on `data`'s test split, and (`baseline`) those of the identity and the
    real data beside them.

    Args:
        translate: images (N, H, W, C) in [-1, 1] -> translated images, numpy.
        data: a `TranslationData`.
        classifier: the class-keeping judge: None loads the task's own evaluation classifier (cached), False
            skips the check, or anything with `predict(images) -> labels` and `input_shape`.
        baseline: add the identity's and the real data's figures.

    Returns:
        {"task", "protocol": {...}, "model": {figure: float}, and with `baseline` "identity" and "real"}.
    """
    classifier = _classifier_for(data, classifier)
    outputs = np.asarray(translate(data.test_a), dtype="float32")
    if outputs.shape[:3] != data.test_a.shape[:3]:
        raise EvaluationError(
            f"the translator returned images of shape {outputs.shape[1:]} for inputs {data.test_a.shape[1:]}; "
            "it must keep the number of images, their height and width."
        )
    report = {"task": data.name, "protocol": protocol(data, classifier), "model": figures(outputs, data, classifier)}
    if baseline:
        report.update(_baseline_figures(data, classifier))
    return report


def baselines(data, classifier=None):
    """The figures of the identity (output = input) and of the real data (output = target, or the known answer).

    Args:
        data: a `TranslationData`.
        classifier: as for `evaluate_translation`.

    Returns:
        {"task", "protocol": {...}, "identity": {figure: float}, "real": {figure: float} (absent for unpaired data
        without answers)}.
    """
    classifier = _classifier_for(data, classifier)
    return {"task": data.name, "protocol": protocol(data, classifier), **_baseline_figures(data, classifier)}


def _baseline_figures(data, classifier):
    result = {"identity": figures(data.test_a, data, classifier)}
    correct = data.test_b if data.paired else data.answers
    if correct is not None:
        result["real"] = figures(correct, data, classifier)
    return result


def figures(outputs, data, classifier=None):
    """The task figures of `outputs`, translations of `data.test_a` row for row (see the module docstring).

    Args:
        outputs: (N, H, W, C) in [-1, 1], N = len(data.test_a).
        data: a `TranslationData`.
        classifier: a loaded classifier (`predict`, `input_shape`), or None / False for no class check.
    """
    outputs = np.asarray(outputs, dtype="float32")
    if len(outputs) != len(data.test_a):
        raise EvaluationError(f"{len(outputs)} outputs for {len(data.test_a)} test images.")
    result = {}
    correct = data.test_b if data.paired else data.answers
    if correct is not None:
        result["l1"] = mean_l1(outputs, correct)
    if not data.paired:
        result["ink_fraction"] = ink_fraction(outputs)
        result["ink_fraction_real_b"] = ink_fraction(data.test_b)
    if classifier and data.test_labels is not None:
        predicted = np.asarray(classifier.predict(classifier_view(outputs, classifier.input_shape)))
        result["class_accuracy"] = float(np.mean(predicted == np.asarray(data.test_labels)))
    return result


def protocol(data, classifier=None):
    """How the figures were taken: split, count, what L1 compares with, the style statistic, the classifier."""
    result = {"split": "test", "count": len(data.test_a), "paired": bool(data.paired)}
    if data.paired:
        result["l1_reference"] = "test B (the targets), [-1, 1] units"
    elif data.answers is not None:
        result["l1_reference"] = "the known answers, [-1, 1] units"
    if not data.paired:
        result["style_statistic"] = STYLE_STATISTIC
    if classifier:
        info = getattr(classifier, "info", {}) or {}
        result["classifier"] = data.classifier_dataset or type(classifier).__name__
        if info.get("test_accuracy") is not None:
            result["classifier_test_accuracy"] = float(info["test_accuracy"])
    return result


# ------------------------------------------------------------------------------------------------- measures


def mean_l1(outputs, targets):
    """Mean absolute difference per pixel and channel, float64; channels broadcast (grey against RGB)."""
    outputs, targets = np.asarray(outputs, dtype="float64"), np.asarray(targets, dtype="float64")
    if outputs.shape[:3] != targets.shape[:3]:
        raise EvaluationError(f"outputs {outputs.shape} and targets {targets.shape} differ in count or size.")
    return float(np.mean(np.abs(outputs - targets)))


def ink_fraction(images):
    """The mean share of pixels above 0 (on the -1 background: ink), over images and channels."""
    return float(np.mean(np.asarray(images) > 0.0))


def classifier_view(images, input_shape):
    """Images as the classifier saw its training data: the padding cut (32 -> 28 px) and whole-factor
    upsampling undone by block means (16 -> 8 px), clipped to [-1, 1].

    The centred window is the largest multiple of the classifier's side that fits the image; each block of
    (multiple x multiple) pixels becomes one.
    """
    images = np.clip(np.asarray(images, dtype="float32"), -1.0, 1.0)
    height, width, channels = (int(d) for d in input_shape)
    factors = images.shape[1] // height, images.shape[2] // width
    if min(factors) < 1 or images.shape[-1] != channels:
        raise EvaluationError(
            f"images of shape {images.shape[1:]} cannot be shown to a {tuple(input_shape)} classifier."
        )
    top, left = (images.shape[1] - factors[0] * height) // 2, (images.shape[2] - factors[1] * width) // 2
    window = images[:, top : top + factors[0] * height, left : left + factors[1] * width]
    return window.reshape(len(images), height, factors[0], width, factors[1], channels).mean(axis=(2, 4))


def _classifier_for(data, classifier):
    """None -> the task's cached evaluation classifier (if it has one and labels to check); False -> none."""
    if classifier is False:
        return None
    if classifier is not None:
        return classifier
    if data.classifier_dataset is None or data.test_labels is None:
        return None
    from train.evaluation import classifier as classifiers

    return classifiers.load_or_train(data.classifier_data_dir or data.classifier_dataset, verbose=False)
