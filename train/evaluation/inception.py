"""FID and KID with InceptionV3 ImageNet features, where the weights can be loaded (they are downloaded once)."""

import socket

import numpy as np

from train.evaluation import metrics


def load_inception(timeout=10.0):
    """InceptionV3 (ImageNet, no top, average pooled 2048-d), or raise RuntimeError saying why not."""
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # keras' download would otherwise wait on a dead network
    try:
        return keras.applications.InceptionV3(include_top=False, pooling="avg", weights="imagenet")
    except Exception as error:  # noqa: BLE001 - any failure means "unavailable", with its reason
        raise RuntimeError(
            "InceptionV3 ImageNet weights could not be loaded (they are downloaded once from "
            f"storage.googleapis.com into ~/.keras/models; offline that fails): {type(error).__name__}: {error}"
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def inception_features(model, images, batch_size=100):
    """2048-d pool features of images in [-1, 1], resized to 299x299 RGB (Inception's own input range)."""
    import tensorflow as tf

    features = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[start : start + batch_size])
        if batch.shape[-1] == 1:
            batch = tf.image.grayscale_to_rgb(batch)
        batch = tf.image.resize(batch, (299, 299), method="bilinear")
        features.append(np.asarray(model(batch, training=False), dtype="float64"))
    return np.concatenate(features)


def inception_metrics(real_train, generated, real_test):
    """FID and KID of generated (and, as baseline, real train) images against the test split."""
    try:
        model = load_inception()
    except RuntimeError as error:
        return {"status": "unavailable", "reason": str(error)}
    test = inception_features(model, real_test)
    result = {"status": "ok", "reference": f"{len(real_test)} real test images, InceptionV3 pool3 features"}
    for name, images in (("generated", generated), ("baseline", real_train)):
        features = inception_features(model, images)
        kid_mean, kid_std = metrics.kernel_inception_distance(features, test)
        result[name] = {"fid": metrics.frechet_distance_of(features, test), "kid": kid_mean, "kid_std": kid_std}
    return result
