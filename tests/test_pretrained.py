"""Every pretrained model in saved_models/index.json: loads by name both ways, matches its ONNX, draws its kind."""

import json

import numpy as np
import pytest

import saved_models
from conftest import ROOT, SHARED_DATA
from export import GeneratorSession

NAMES = saved_models.names()
METRICS = ("classifier_score", "frechet_distance", "class_kl", "classes_covered", "conditional_accuracy")
# What a quick nearest-neighbour check must see in 200 samples (its own accuracy on real test images is
# about 96% on MNIST, 83% on Fashion-MNIST, 98% on digits): requested labels for conditional models,
# many classes for unconditional ones.
MIN_LABEL_AGREEMENT = {"mnist": 0.85, "fashion_mnist": 0.65, "digits": 0.85}
MIN_CLASSES_SEEN = 8


def test_index_lists_the_shipped_models():
    shipped = {"dcgan_digits", "conditional_dcgan_digits", "conditional_mnist", "conditional_fashion_mnist", "dcgan_mnist",
               "dcgan_fashion_mnist"}
    assert shipped <= set(NAMES)
    assert len(NAMES) == len(saved_models.index())  # no name twice


def test_saved_models_stays_small():
    shipped = [saved_models.FOLDER / name for model in saved_models.index() for name in model["files"].values()]
    shipped += [path.with_suffix(".metadata.json") for path in shipped if path.suffix == ".onnx"]
    assert all(path.is_file() for path in shipped)
    assert sum(path.stat().st_size for path in shipped) < 40e6


@pytest.mark.parametrize("name", NAMES)
def test_entry_and_metadata_are_complete(name):
    entry = saved_models.entry(name)
    session = GeneratorSession.from_pretrained(name, providers="cpu")
    meta = session.metadata
    assert session.path == saved_models.path(name, "onnx")
    assert meta["preset"] == entry["preset"] and meta["dataset"] == entry["dataset"]
    assert session.conditional == entry["conditional"]
    assert meta["training"]["seed"] == 0 and meta["training"]["epochs"] > 0
    assert meta["license"] == "Apache-2.0" and (ROOT / meta["model_card"]).is_file()
    sidecar = json.loads(saved_models.path(name, "onnx").with_suffix(".metadata.json").read_text())
    assert sidecar.pop("ganzoo.format") == "gan-zoo-generator/2" and sidecar == meta
    if session.conditional:
        assert len(session.class_names) == session.num_classes
    for side in ("generated", "real"):
        assert set(METRICS) <= set(entry["metrics"][side])
    assert entry["metrics"]["generated"]["classes_covered"] <= entry["metrics"]["num_classes"]
    assert entry["protocol"] and entry["recreate"] and entry["description"]
    assert name in (ROOT / "saved_models" / "README.md").read_text()  # the model card speaks of it


def test_unknown_name_lists_the_names():
    import zoo

    for load in (zoo.load_pretrained, GeneratorSession.from_pretrained):
        with pytest.raises(ValueError, match="conditional_mnist"):
            load("conditional_mnits")


@pytest.mark.parametrize("name", NAMES)
def test_loads_by_name_and_matches_its_onnx(name):
    import zoo
    from export.exporter import FP16_TOLERANCE, FP32_TOLERANCE, parity_check

    gan = zoo.load_pretrained(name)
    session = GeneratorSession.from_pretrained(name, providers="cpu")
    assert isinstance(gan, zoo.GAN)
    assert gan.data_shape == session.image_shape and gan.latent_dim == session.latent_dim
    assert gan.num_classes == session.num_classes
    tolerance = FP16_TOLERANCE if session.metadata["precision"] == "fp16" else FP32_TOLERANCE
    _, rows = parity_check(gan.sampling_generator, session.path, tolerance)  # raises beyond the tolerance
    assert max(row["max_abs_diff"] for row in rows) <= tolerance
    assert np.isfinite(gan.generate(4, labels=0 if gan.conditional else None, seed=0)).all()


def _nearest_neighbours(dataset):
    """5-nearest-neighbours on 10,000 real training images in the models' [-1, 1] scale."""
    from sklearn.neighbors import KNeighborsClassifier

    from train import datasets

    if dataset == "digits":
        real = datasets.load_arrays("digits", split="train")
    else:
        if not (SHARED_DATA / dataset).is_dir():
            pytest.skip(f"no {dataset} IDX files at {SHARED_DATA}")
        real = datasets.load_arrays(str(SHARED_DATA / dataset), split="train")
    x, y = real.x[:10_000], real.y[:10_000]
    return KNeighborsClassifier(n_neighbors=5).fit(x.reshape(len(x), -1), y)


@pytest.fixture(scope="module")
def classifiers():
    """One classifier per dataset, fitted on first use and kept for the module."""
    cache = {}

    def get(dataset):
        if dataset not in cache:
            cache[dataset] = _nearest_neighbours(dataset)
        return cache[dataset]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_samples_are_of_the_right_kind(name, classifiers):
    entry = saved_models.entry(name)
    classifier = classifiers(entry["dataset"])
    session = GeneratorSession.from_pretrained(name, providers="cpu")
    labels = np.arange(200) % session.num_classes if session.conditional else None
    images = session.generate(200, labels=labels, seed=0)
    predicted = classifier.predict(images.reshape(len(images), -1))
    if session.conditional:
        assert np.mean(predicted == labels) >= MIN_LABEL_AGREEMENT[entry["dataset"]]
    else:
        assert len(set(predicted.tolist())) >= MIN_CLASSES_SEEN


def test_cli_samples_by_name(tmp_path, classifiers):
    from PIL import Image

    from export import save_grid
    from train import cli

    out = tmp_path / "sevens.png"
    command = ["sample", "conditional_mnist", "--label", "7", "--n", "16", "--nrow", "4", "--seed", "3", "--out", str(out)]
    assert cli.main(command) == 0
    session = GeneratorSession.from_pretrained("conditional_mnist", providers="cpu")
    sevens = session.generate(16, labels=7, seed=3)
    expected = save_grid(session.generate_images(16, labels=7, seed=3), tmp_path / "expected.png", nrow=4)
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(expected)))
    assert np.mean(classifiers("mnist").predict(sevens.reshape(16, -1)) == 7) >= 0.85


def test_cli_unknown_name_is_a_usage_error(tmp_path, capsys):
    from train import cli

    assert cli.main(["sample", "conditional_mnits", "--out", str(tmp_path / "x.png")]) == 2
    message = capsys.readouterr().err.strip().splitlines()
    assert len(message) == 1 and "conditional_mnist" in message[0] and "dcgan_digits" in message[0]
    assert not (tmp_path / "x.png").exists()
