"""Every pretrained model in saved_models/index.json: loads by name both ways, matches its ONNX, draws its kind.

Generators (noise -> image) and translators (pix2pix / CycleGAN, image -> image) alike; the index tells them apart
by "kind" (an entry without one is a generator).
"""

import json

import numpy as np
import pytest

import saved_models
from conftest import ROOT, SHARED_DATA
from export import GeneratorSession, TranslatorSession

NAMES = saved_models.names("generator")
TRANSLATORS = saved_models.names("translator")
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
    assert {"pix2pix_edges2fashion", "cyclegan_thin2thick"} <= set(TRANSLATORS)
    assert saved_models.names() == sorted(NAMES + TRANSLATORS)
    assert len(saved_models.names()) == len(saved_models.index())  # no name twice
    raw = json.loads(saved_models.INDEX.read_text())["models"]
    assert [model.get("kind") for model in raw] == [model["kind"] for model in saved_models.index()]  # written out
    assert {model["kind"] for model in saved_models.index()} == set(saved_models.MODEL_KINDS)
    with pytest.raises(ValueError, match="generator"):
        saved_models.names("translators")


def test_an_index_without_kinds_lists_generators(tmp_path, monkeypatch):
    """Indexes written before translators were shipped name no kind: every entry is a generator."""
    old = tmp_path / "index.json"
    old.write_text(json.dumps({"models": [{k: v for k, v in model.items() if k != "kind"}
                                          for model in saved_models.index("generator")]}))
    monkeypatch.setattr(saved_models, "INDEX", old)
    assert saved_models.names("generator") == saved_models.names() == NAMES
    assert saved_models.names("translator") == []
    assert saved_models.entry("conditional_mnist", "generator")["kind"] == "generator"


def test_saved_models_stays_small():
    shipped = [saved_models.FOLDER / name for model in saved_models.index() for name in model["files"].values()]
    shipped += [path.with_suffix(".metadata.json") for path in shipped if path.suffix == ".onnx"]
    assert all(path.is_file() for path in shipped)
    # 73.2 MB used: the papers' MNIST generators, 2.4-2.5M parameters each (vanilla_mnist and cgan_mnist: 9.7-10.0 MB
    # .keras, the generator alone, + 4.8-5.0 MB fp16 .onnx), the translators (pix2pix whole: 4.4 MB .keras + 4.2 MB .onnx; CycleGAN's A -> B
    # generator alone: 2.2 + 2.1 MB), and the digits generators' ONNX files at 2.5-2.7 MB since their 4x4 layer
    # became one GEMM (benchmarks/inference.md).
    assert sum(path.stat().st_size for path in shipped) < 75e6


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
    with pytest.raises(ValueError, match="the pretrained translators are: cyclegan_thin2thick, pix2pix_edges2fashion"):
        TranslatorSession.from_pretrained("pix2pix_edges2shoes")


def test_a_name_of_the_other_kind_says_how_to_open_it():
    with pytest.raises(ValueError, match=r"'pix2pix_edges2fashion' is a pretrained translator, not a generator: "
                                         r"open it with export\.TranslatorSession\.from_pretrained"):
        GeneratorSession.from_pretrained("pix2pix_edges2fashion")
    with pytest.raises(ValueError, match=r"'conditional_mnist' is a pretrained generator, not a translator: "
                                         r"open it with export\.GeneratorSession\.from_pretrained"):
        TranslatorSession.from_pretrained("conditional_mnist")


@pytest.mark.parametrize("name", NAMES)
def test_loads_by_name_and_matches_its_onnx(name):
    import zoo
    from export.exporter import FP16_TOLERANCE, FP32_TOLERANCE, dropout_masks_from_noise, parity_check

    gan = zoo.load_pretrained(name)
    session = GeneratorSession.from_pretrained(name, providers="cpu")
    assert isinstance(gan, zoo.GAN)
    generator, masks = gan.sampling_generator, session.metadata.get("dropout_masks_in_z")
    if masks:  # a G that samples with its dropout on (cgan_mnist): its masks are z's last columns in the file
        generator, masks = dropout_masks_from_noise(generator)
        assert gan.sampling_dropout and masks == session.metadata["dropout_masks_in_z"]
    assert gan.data_shape == session.image_shape and generator.inputs[0].shape[-1] == session.latent_dim
    assert gan.num_classes == session.num_classes
    tolerance = FP16_TOLERANCE if session.metadata["precision"] == "fp16" else FP32_TOLERANCE
    _, rows = parity_check(generator, session.path, tolerance)  # raises beyond the tolerance
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


# ---------------------------------------------------------------------------------------------- translators

TRANSLATOR_FIGURES = {"l1", "class_accuracy"}


@pytest.mark.parametrize("name", TRANSLATORS)
def test_translator_entry_and_metadata_are_complete(name):
    from PIL import Image

    entry = saved_models.entry(name, "translator")
    session = TranslatorSession.from_pretrained(name, providers="cpu")
    meta = session.metadata
    assert session.path == saved_models.path(name, "onnx") and session.provider == "CPUExecutionProvider"
    assert meta["kind"] == "translator" and meta["model"] == entry["model"] == entry["preset"]
    assert meta["direction"] == entry["direction"] == "ab" and meta["generator"] == entry["generator"]
    assert meta["dataset"] == entry["dataset"] and meta["precision"] == entry["onnx_precision"] == "fp32"
    assert list(session.training_image_shape) == entry["image_shape"] and session.size_multiple == entry["size_multiple"]
    assert meta["training"] == {key: entry["training"][key] for key in ("epochs", "seed", "batch_size")}
    assert meta["training"]["seed"] == 0 and entry["training"]["steps"] > 0 and entry["training"]["train_seconds"] > 0
    assert meta["license"] == "Apache-2.0" and (ROOT / meta["model_card"]).is_file()
    assert meta["test_time_dropout"] == entry["test_time_dropout"]
    sidecar = json.loads(saved_models.path(name, "onnx").with_suffix(".metadata.json").read_text())
    assert sidecar.pop("ganzoo.format") == "gan-zoo-translator/1" and sidecar == meta
    assert entry["keras_holds"] in ("gan", "generator") and entry["keras_holds_why"]
    assert entry["parity_max_abs_diff"] <= 1e-4
    # The task figures, beside the identity's and the real data's, and how they were taken.
    metrics = entry["metrics"]
    expected = TRANSLATOR_FIGURES | (set() if entry["data"]["paired"] else {"ink_fraction", "ink_fraction_real_b"})
    for row in ("model", "identity", "real"):
        assert set(metrics[row]) == expected
    assert metrics["protocol"]["split"] == "test" and metrics["protocol"]["count"] == entry["data"]["test_examples"]
    assert metrics["model"]["l1"] < metrics["identity"]["l1"] and metrics["real"]["l1"] == 0.0
    assert entry["protocol"] and entry["recreate"] and entry["description"] and entry["task"] and entry["samples"]
    assert any(line.startswith("ganzoo train ") for line in entry["recreate"])
    # The sample grid: a row per class (10), each example as input | output | target at 2x, grey lines between.
    with Image.open(saved_models.path(name, "samples")) as grid:
        assert grid.format == "PNG" and grid.mode == "L"
        height, width = entry["image_shape"][:2]
        assert grid.size[1] == 2 * (10 * (height + 2) + 2) and grid.size[0] > 2 * 3 * width
    # The model card speaks of it: its section, its figures, its protocol, what the export does with dropout.
    card = (ROOT / "saved_models" / "README.md").read_text()
    section = card.split(f"## `{name}`")[1].split("\n## ")[0]
    assert entry["task"] in section and entry["protocol"] in section and f"L1 {metrics['model']['l1']:.4f}" in section
    assert "Test-time dropout" in section and "Licence: Apache-2.0" in section and entry["files"]["samples"] in section
    assert all(line in section for line in entry["recreate"])


@pytest.mark.parametrize("name", TRANSLATORS)
def test_translator_loads_by_name_and_matches_its_onnx(name):
    """`zoo.load_pretrained` gives the Keras generator the ONNX file was exported from: parity 1e-4 at its size."""
    import keras

    import zoo
    from export.translation import TOLERANCE, parity_check

    entry = saved_models.entry(name)
    generator = zoo.load_pretrained(name)
    session = TranslatorSession.from_pretrained(name, providers="cpu")
    assert isinstance(generator, keras.Model) and not isinstance(generator, zoo.TranslationGAN)
    assert generator.name == entry["generator"] and generator.count_params() == entry["parameters"]["generator"]
    assert zoo.size_multiple(generator) == session.size_multiple
    height, width, _ = session.training_image_shape
    _, rows = parity_check(generator, session.path, [(height, width)], batch_sizes=(4,), seed=0)  # raises beyond it
    assert rows[0]["max_abs_diff"] <= TOLERANCE == 1e-4
    if entry["keras_holds"] == "gan":  # the whole model ships: it loads as one, to fine-tune
        whole = keras.models.load_model(saved_models.path(name, "keras"), compile=False)
        assert isinstance(whole, zoo.TranslationGAN) and whole.sampling_generator.name == generator.name


def _fashion_test_pairs(n):
    """The first `n` edges2fashion test pairs, built as `train.translation_data` builds them: (edges, items) in
    [-1, 1], (n, 32, 32, 1), from the Fashion-MNIST test images only (the whole task takes seconds to build)."""
    from train import datasets, translation_data

    folder = SHARED_DATA / "fashion_mnist"
    files = [folder / f"t10k-images-idx3-ubyte{suffix}" for suffix in ("", ".gz")]
    if not any(path.is_file() for path in files):
        pytest.skip(f"no Fashion-MNIST IDX files at {folder}")
    items = datasets.read_idx(next(path for path in files if path.is_file()))[:n].astype("float32") / 255.0
    margin = (translation_data.PADDED_SIZE - items.shape[1]) // 2
    items = np.pad(items, ((0, 0), (margin, margin), (margin, margin)))
    edges = translation_data.edge_map(items)
    return edges[..., None] * 2.0 - 1.0, items[..., None] * 2.0 - 1.0


def test_pix2pix_draws_items_from_edge_maps():
    """On the first 64 test edge maps the shipped pix2pix is far closer to the real items than the edge maps are."""
    from train.evaluation.translation import mean_l1

    edges, items = _fashion_test_pairs(64)
    outputs = TranslatorSession.from_pretrained("pix2pix_edges2fashion", providers="cpu").translate(edges)
    model, identity = mean_l1(outputs, items), mean_l1(edges, items)
    # The whole test split: 0.105 against 0.537 (saved_models/README.md).
    assert model < 0.15 and model < identity / 3, (model, identity)
    assert outputs.shape == items.shape and np.abs(outputs).max() <= 1.0 + 1e-6  # tanh, float32 rounding


def test_cli_translate_by_name(tmp_path):
    from PIL import Image

    from train import cli

    edges, _ = _fashion_test_pairs(2)
    pixels = np.rint((edges + 1.0) * 127.5).astype(np.uint8)
    sources = []
    for index, image in enumerate(pixels):
        sources.append(tmp_path / f"edges{index}.png")
        Image.fromarray(image[..., 0]).save(sources[-1])
    out = tmp_path / "items"
    assert cli.main(["translate", "pix2pix_edges2fashion", *map(str, sources), "--out", str(out)]) == 0
    expected = TranslatorSession.from_pretrained("pix2pix_edges2fashion", providers="cpu").translate(pixels)
    for index, source in enumerate(sources):
        assert np.array_equal(np.asarray(Image.open(out / source.name))[..., None], expected[index])


def test_cli_translate_names_errors(tmp_path, capsys):
    from train import cli

    image = tmp_path / "x.png"
    for model, expected in (("conditional_mnist", "ganzoo sample conditional_mnist"),
                            ("pix2pix_edges2shoes", "cyclegan_thin2thick, pix2pix_edges2fashion")):
        assert cli.main(["translate", model, str(image), "--out", str(tmp_path / "out")]) == 2
        message = capsys.readouterr().err.strip().splitlines()
        assert len(message) == 1 and expected in message[0], message
    assert not (tmp_path / "out").exists()


def test_cli_list_shows_each_translator_on_one_line(capsys):
    from train import cli

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    section = out.split("Pretrained translators")[1].split("\n\n")[0].strip().splitlines()[1:]
    assert [line.split()[0] for line in section] == [model["name"] for model in saved_models.index("translator")]
    generators = out.split("Pretrained models")[1].split("Pretrained translators")[0]
    assert all(name in generators for name in NAMES) and not any(name in generators for name in TRANSLATORS)
    for model in saved_models.index("translator"):  # the task and its figures: `ganzoo show NAME`
        assert cli.main(["show", model["name"]]) == 0
        shown = " ".join(capsys.readouterr().out.split())
        assert model["task"] in shown and f"L1 {model['metrics']['model']['l1']:.4f}" in shown
