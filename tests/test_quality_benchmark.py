"""The quality benchmark's image rows: what each row builds and trains for, and how the table judges it.

The training itself is `make bench`'s job (an hour and more on a CPU); these check the plan and the
rendering, so a typo in a row's options fails here and not after an hour of benchmark.
"""

import json

import pytest

import zoo
from benchmarks import quality
from train import recipes


@pytest.mark.parametrize("variant", list(quality.IMAGE_VARIANTS))
def test_every_image_row_builds_its_model(variant):
    row = quality.IMAGE_VARIANTS[variant]
    options = dict(row["options"])
    if zoo.presets.PRESETS[row["preset"]]["options"].get("num_classes"):
        options["num_classes"] = 10
    gan = zoo.create(row["preset"], data_shape=(28, 28, 1), seed=0, **options)
    assert gan.generator.output.shape[1:] == (28, 28, 1)


def test_each_stabiliser_row_changes_one_thing_of_the_plain_dcgan():
    plain = quality.IMAGE_VARIANTS["plain DCGAN"]
    assert plain["options"] == quality.PLAIN_DCGAN and plain["d_lr"] is None
    stabilisers = {name: row for name, row in quality.IMAGE_VARIANTS.items() if name.startswith("+ ")}
    assert len(stabilisers) == 10
    for name, row in stabilisers.items():
        changed = {k for k in {*row["options"], *plain["options"]} if row["options"].get(k) != plain["options"].get(k)}
        changed |= {k for k in ("d_lr", "g_lr") if row[k] is not None}
        assert row["preset"] == "dcgan_mbd_code_ema" and row["budget"] == "steps", name
        assert len(changed) == (2 if name == "+ TTUR" else 1), (name, changed)


def test_plain_dcgan_switches_off_the_dcgan_presets_additions():
    gan = zoo.create("dcgan_mbd_code_ema", data_shape=(28, 28, 1), seed=0, **quality.PLAIN_DCGAN)
    default = zoo.create("dcgan_mbd_code_ema", data_shape=(28, 28, 1), seed=0)
    assert not gan.latent_code and gan.ema_generator is None
    assert "minibatch" not in [layer.name for layer in gan.discriminator.layers]
    assert default.latent_code == 10 and default.ema_generator is not None
    assert gan.generator.count_params() < default.generator.count_params()


def test_preset_rows_train_for_exactly_what_ganzoo_train_runs():
    assert quality.PRESET_ROWS == ("dcgan_mbd_code_ema", "conditional_dcgan_mbd")
    for preset in quality.PRESET_ROWS:
        epochs, batch = recipes.budget(preset, 60_000)
        assert quality.image_row_budget(preset, 60_000, 3000, 64) == (epochs * (60_000 // batch), batch, 2e-4, 2e-4)
    assert quality.image_row_budget("dcgan_mbd_code_ema", 60_000, 3000, 64)[0] == 8433  # 9 epochs of 937 steps
    assert quality.image_row_budget("+ hinge loss", 60_000, 3000, 64) == (3000, 64, 2e-4, 2e-4)
    assert quality.image_row_budget("+ TTUR", 60_000, 3000, 64) == (3000, 64, 4e-4, 1e-4)


def test_steps_per_execution_divides_the_steps():
    # 8,433 = 3^2 x 937 and 3,748 = 4 x 937: a run must make exactly its steps, so the divisor <= 50.
    assert [quality._compile_options(s)["steps_per_execution"] for s in (3000, 8433, 3748, 937, 7810)] == [50, 9, 4, 1, 22]


def _row(dataset, score, fd=3.0, kl=0.01, classes=10, accuracy=None, budget="preset"):
    generated = {"classifier_score": score, "frechet_distance": fd, "class_kl": kl, "classes_covered": classes}
    if accuracy is not None:
        generated["conditional_accuracy"] = accuracy
    return {"dataset": dataset, "variant": "dcgan_mbd_code_ema", "budget": budget, "steps": 6559,
            "generated": generated}


def test_targets_name_what_a_row_misses():
    real_mnist = {"classifier_score": 9.64}
    assert quality.image_target(_row("mnist", 8.98, 3.31, 0.004), real_mnist) == "met"
    assert quality.image_target(_row("mnist", 5.69, 77.0, 0.134), real_mnist) == (
        "missed: score 5.69 < 8.5; FD 77.0 > 5; class KL 0.134 > 0.02")
    assert quality.image_target(_row("mnist", 9.6, accuracy=0.90), real_mnist) == "missed: accuracy 90.0% < 95%"
    assert quality.image_target(_row("mnist", 9.0, classes=9), real_mnist) == "missed: 9 classes"
    real_fashion = {"classifier_score": 7.80}
    assert quality.image_target(_row("fashion_mnist", 6.89), real_fashion) == "met (11.7% below real)"
    assert quality.image_target(_row("fashion_mnist", 6.5), real_fashion) == "missed: score 16.7% below real"


def test_table_shows_every_row_with_its_budget_and_target(tmp_path, monkeypatch):
    monkeypatch.setitem(quality.SHORT_OF_TARGET_REASONS, "dcgan_mbd_code_ema", "the reason")
    monkeypatch.setattr(quality, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(quality, "TABLE", tmp_path / "quality.md")
    monkeypatch.setattr(quality, "FIGURES", tmp_path / "figures")
    quality.RESULTS.mkdir()
    real = {"classifier_score": 9.64, "frechet_distance": 0.5, "class_kl": 0.001, "classes_covered": 10,
            "conditional_accuracy": 0.99}
    payload = {
        "protocol": "5000 generated images (noise seed 0)",
        "num_samples": 5000,
        "budget": {"steps": 3000, "batch_size": 64, "learning_rate": 2e-4, "optimizer": "Adam", "seed": 0},
        "classifiers": {"mnist": {"test_accuracy": 0.9889, "num_test": 10000, "epochs": 3.0, "num_train": 60000}},
        "rows": [
            {**_row("mnist", 5.69, 77.0, 0.134), "options": {}, "train_seconds": 500.0},
            {**_row("mnist", 7.0, 12.0, 0.02, budget="steps"), "variant": "+ hinge loss", "steps": 3000,
             "options": {"loss": "hinge"}, "train_seconds": 150.0},
            {"dataset": "mnist", "variant": "real data (train subset)", "generated": real},
        ],
        "wall_seconds": 660.0,
    }
    (quality.RESULTS / "quality_images_mnist.json").write_text(json.dumps(payload))
    quality.render()
    table = quality.TABLE.read_text()
    assert "| dcgan_mbd_code_ema | 6,559 | 5.69 | 77.00 | 0.134 | 10 / 10 | – | 500 | missed: score 5.69 < 8.5; FD 77.0 > 5; class KL 0.134 > 0.02 | – |" in table
    assert "| + hinge loss | 3,000 | 7.00 | 12.00 | 0.020 | 10 / 10 | – | 150 | – | – |" in table
    assert "| real data (train subset) | – | 9.64 |" in table
    assert "Whole run: 11 min" in table and quality.TARGETS_TEXT in table
    assert "- dcgan_mbd_code_ema: the reason." in table
    payload["rows"][0]["variant"] = "conditional_dcgan_mbd"
    (quality.RESULTS / "quality_images_mnist.json").write_text(json.dumps(payload))
    quality.render()
    assert "- conditional_dcgan_mbd: reason not known yet." in quality.TABLE.read_text()


def test_a_partial_image_rerun_keeps_the_other_rows_of_the_same_budget(tmp_path):
    budget = {"steps": 3000, "batch_size": 64, "seed": 0}
    real = {"dataset": "mnist", "variant": "real data (train subset)", "generated": {"classifier_score": 9.6}}
    previous = {"num_samples": 5000, "budget": budget, "rows": [
        {"dataset": "mnist", "variant": "plain DCGAN", "generated": {"classifier_score": 5.7}},
        {"dataset": "mnist", "variant": "+ hinge loss", "generated": {"classifier_score": 6.0}},
        {"dataset": "mnist", "variant": "a row the benchmark no longer has", "generated": {"classifier_score": 1.0}},
        real,
    ]}
    path = tmp_path / "quality_images_mnist.json"
    path.write_text(json.dumps(previous))
    redo = {"num_samples": 5000, "budget": budget, "rows": [
        {"dataset": "mnist", "variant": "+ hinge loss", "generated": {"classifier_score": 7.0}}, real]}
    merged = quality._merged_image_rows(path, redo)
    assert [(r["variant"], r["generated"]["classifier_score"]) for r in merged["rows"]] == [
        ("plain DCGAN", 5.7), ("+ hinge loss", 7.0), ("real data (train subset)", 9.6)]  # the obsolete row dropped
    assert merged["merged"] is True
    other_budget = {**redo, "budget": {**budget, "steps": 2000}}
    assert quality._merged_image_rows(path, other_budget)["rows"] == redo["rows"]
    assert quality._merged_image_rows(path, {**redo, "num_samples": 1000})["merged"] is False


def test_workers_split_the_whole_benchmark_and_keep_its_budget():
    args = quality.parser().parse_args(["--image-steps", "500", "--seeds", "2", "--image-tag", "_x",
                                        "--image-variants", "conditional_dcgan_mbd", "+ TTUR",
                                        "--image-seeds", "0", "3"])
    argvs = quality.worker_argvs(args)
    workers = [quality.parser().parse_args(argv) for argv in argvs]
    assert sorted(part for w in workers for part in w.part) == ["gaussian1d", "images", "images", "inception", "toy"]
    assert sorted(d for w in workers if w.part == ["images"] for d in w.image_datasets) == sorted(quality.IMAGE_DATASETS)
    budget = {k: v for k, v in vars(args).items() if k not in ("part", "image_datasets", "jobs")}
    for worker in workers:
        assert {k: v for k, v in vars(worker).items() if k not in ("part", "image_datasets", "jobs")} == budget


def test_workers_share_the_cores_and_a_failed_one_fails_the_benchmark(tmp_path, monkeypatch):
    calls = []

    def run(command, cwd, env):
        calls.append((command, env["TF_NUM_INTRAOP_THREADS"]))
        return type("Done", (), {"returncode": 1 if "toy" in command else 0})()

    monkeypatch.setattr(quality.subprocess, "run", run)
    monkeypatch.setattr(quality.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(quality, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(quality, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(quality, "render", lambda: None)
    assert quality.main(["--jobs", "2"]) == 1
    assert len(calls) == 3 and {threads for _, threads in calls} == {"4"}
    assert all(command[1:3] == ["-m", "benchmarks.quality"] for command, _ in calls)
    monkeypatch.setattr(quality.subprocess, "run", lambda command, cwd, env: type("Done", (), {"returncode": 0})())
    assert quality.main([]) == 0  # default: one worker per part


def test_only_missing_runs_the_rows_a_cut_short_run_lacks(tmp_path, monkeypatch):
    budget = {"num_samples": 5000, "budget": {"steps": 3000, "batch_size": 64, "seed": 0}}
    path = tmp_path / "results" / "quality_images_mnist.json"
    assert quality.missing_image_rows(path, budget) == list(quality.IMAGE_VARIANTS)
    path.parent.mkdir()
    done = [{"dataset": "mnist", "variant": v, "generated": {}} for v in list(quality.IMAGE_VARIANTS)[:2]]
    path.write_text(json.dumps({**budget, "rows": done}))
    assert quality.missing_image_rows(path, budget) == list(quality.IMAGE_VARIANTS)[2:]
    assert quality.missing_image_rows(path, budget, ["conditional_dcgan_mbd", "+ TTUR"]) == ["+ TTUR"]
    other = {**budget, "budget": {**budget["budget"], "steps": 2000}}
    assert quality.missing_image_rows(path, other) == list(quality.IMAGE_VARIANTS)

    ran = []
    monkeypatch.setattr(quality, "RESULTS", path.parent)
    monkeypatch.setattr(quality, "run_images", lambda *a, variants, **k: ran.append(variants))
    assert quality.main(["--part", "images", "--image-datasets", "mnist", "--only-missing"]) == 0
    assert ran == [list(quality.IMAGE_VARIANTS)[2:]]


def test_table_names_the_rows_not_run_yet(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(quality, "TABLE", tmp_path / "quality.md")
    monkeypatch.setattr(quality, "FIGURES", tmp_path / "figures")
    quality.RESULTS.mkdir()
    row = {**_row("mnist", 5.69, 77.0, 0.134), "options": {}, "train_seconds": 500.0}
    payload = {"protocol": "x", "num_samples": 5000, "classifiers": {}, "rows": [row],
               "budget": {"steps": 3000, "batch_size": 64, "learning_rate": 2e-4, "optimizer": "Adam", "seed": 0}}
    (quality.RESULTS / "quality_images_mnist.json").write_text(json.dumps(payload))
    quality.render()
    table = quality.TABLE.read_text()
    assert f"**Not run yet: {', '.join(list(quality.IMAGE_VARIANTS)[1:])}**" in table
    assert "--image-datasets mnist --only-missing" in table


def test_a_partial_toy_rerun_keeps_the_other_rows_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "RESULTS", tmp_path)
    budget = {"steps": 6000, "batch_size": 100, "seeds": [0, 1, 2, 3, 4]}
    rows = [{"dataset": d, "variant": v, "modes": 1} for d in ("ring8", "grid25") for v in ("vanilla", "vanilla + latent code 25")]
    (tmp_path / "quality_toy.json").write_text(json.dumps({"budget": budget, "rows": rows}))
    redo = [{"dataset": d, "variant": "vanilla + latent code 25", "modes": 2} for d in ("grid25", "ring8")]
    merged = quality._merged_toy_rows({"budget": budget, "rows": redo})
    assert [(r["dataset"], r["variant"], r["modes"]) for r in merged["rows"]] == [
        ("ring8", "vanilla", 1), ("ring8", "vanilla + latent code 25", 2),
        ("grid25", "vanilla", 1), ("grid25", "vanilla + latent code 25", 2)]
    assert merged["merged"] is True
    assert quality._merged_toy_rows({"budget": {**budget, "steps": 100}, "rows": redo})["merged"] is False


def test_other_seeds_rerun_the_preset_rows_into_their_own_files(tmp_path, monkeypatch):
    calls = []

    def run_images(steps, batch_size, n, seed, variants, on_row, tag, **kwargs):
        calls.append((seed, variants, tag))
        on_row({"num_samples": n, "budget": {"steps": steps, "batch_size": batch_size, "seed": seed}, "rows": []})

    monkeypatch.setattr(quality, "RESULTS", tmp_path)
    monkeypatch.setattr(quality, "run_images", run_images)
    monkeypatch.setattr(quality, "render", lambda: None)
    monkeypatch.setattr(quality, "_machine", lambda: {})
    assert quality.main(["--part", "images", "--image-datasets", "mnist", "--image-seeds", "0", "2"]) == 0
    assert calls == [(0, None, ""), (2, list(quality.PRESET_ROWS), "_seed2")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quality_images_mnist.json", "quality_images_mnist_seed2.json"]
    assert json.loads((tmp_path / "quality_images_mnist_seed2.json").read_text())["budget"]["seed"] == 2


def test_table_summarises_the_preset_rows_over_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(quality, "TABLE", tmp_path / "quality.md")
    monkeypatch.setattr(quality, "FIGURES", tmp_path / "figures")
    quality.RESULTS.mkdir()
    real = {"dataset": "mnist", "variant": quality.REAL_ROW,
            "generated": {"classifier_score": 9.64, "frechet_distance": 0.5, "class_kl": 0.001, "classes_covered": 10}}
    for seed, score, fd in ((0, 9.0, 3.0), (1, 8.0, 6.0)):  # seed 1 misses: score < 8.5 and FD > 5
        payload = {"protocol": "x", "num_samples": 5000, "classifiers": {},
                   "budget": {"steps": 3000, "batch_size": 64, "learning_rate": 2e-4, "optimizer": "Adam", "seed": seed},
                   "rows": [{**_row("mnist", score, fd, 0.01), "options": {}, "train_seconds": 1.0,
                             "figure": f"benchmarks/figures/grid{seed}.png"}, real]}
        (quality.RESULTS / f"quality_images_mnist{quality.seed_tag(seed)}.json").write_text(json.dumps(payload))
    quality.render()
    table = quality.TABLE.read_text()
    assert table.count("### mnist") == 1  # the other seeds have no table of their own
    assert "### Preset rows over seeds" in table
    assert "`python -m benchmarks.quality --part images --image-seeds 1`" in table  # how the other seeds ran
    assert "| mnist | dcgan_mbd_code_ema | 0, 1 | 8.50 ± 0.50 | 4.50 ± 1.50 | 0.010 ± 0.000 | 10, 10 | – | 1 / 2 | [0](figures/grid0.png) [1](figures/grid1.png) |" in table
