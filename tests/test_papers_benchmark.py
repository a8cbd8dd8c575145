"""benchmarks/papers.py: the row keeps the checkpoint the validation set chose (never the test set), and the
table says so; InfoGAN's row renders its code error."""

import json

import pytest

from benchmarks import papers


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(papers, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(papers, "TABLE", tmp_path / "papers.md")
    return tmp_path


def _run_folder(folder, history, status="running", epochs_done=15):
    folder.mkdir(parents=True)
    (folder / "parzen.jsonl").write_text("".join(json.dumps(row) + "\n" for row in history))
    (folder / "config.json").write_text(json.dumps({"epochs": 250, "steps_per_epoch": 500, "batch_size": 100}))
    (folder / "state.json").write_text(json.dumps(
        {"status": status, "epochs_done": epochs_done, "history": {"seconds": [20.0] * epochs_done}}))


def test_the_row_reports_the_checkpoint_with_the_best_validation_figure(results):
    history = [
        {"epoch": 5, "validation": 100.0, "test": 101.0, "test_std_error": 2.0, "sigma": 0.2},
        {"epoch": 10, "validation": 150.0, "test": 149.0, "test_std_error": 2.0, "sigma": 0.2},
        {"epoch": 15, "validation": 149.0, "test": 152.0, "test_std_error": 2.0, "sigma": 0.2},  # best test, not chosen
    ]
    _run_folder(results / "vanilla-seed0", history)
    row = papers.save_row(papers.collect_row("vanilla", results / "vanilla-seed0"))
    assert row["best"]["epoch"] == 10 and row["last"]["epoch"] == 15
    assert (row["epochs"], row["steps"], row["status"]) == (15, 7500, "running")
    table = papers.render().read_text()
    assert "| `vanilla` | 225 ± 2 | **149.0 ± 2.0** | 10 | 152.0 ± 2.0 (epoch 15) | 15 of 250 (not finished) (7,500, 100) |" in table
    assert "- `vanilla` (epoch: test log-likelihood): 5: 101, 10: 149, 15: 152" in table


def test_infogans_row_renders_its_code_error(results):
    results.joinpath("results").mkdir()
    row = {"preset": "infogan", "measure": "code_error", "paper": "5%", "test_code_error": 0.0512,
           "generated_code_error": 0.0731, "epochs": 11, "steps": 5148, "batch_size": 128, "train_seconds": 1800.0,
           "machine": "x86_64, 2 cores"}
    (results / "results" / "papers_infogan.json").write_text(json.dumps(row))
    table = papers.render().read_text()  # a row from before the two other readings: dashes in their columns
    assert "| `infogan` | 5% | **5.1%** | - | - | 7.3% | 11 (5,148, 128) | 30 min | x86_64, 2 cores |" in table
    row.update(test_code_error_majority=0.0433, test_code_error_batch_statistics=0.0608)
    (results / "results" / "papers_infogan.json").write_text(json.dumps(row))
    table = papers.render().read_text()
    assert "| `infogan` | 5% | **5.1%** | 4.3% | 6.1% | 7.3% | 11 (5,148, 128) | 30 min | x86_64, 2 cores |" in table
    assert "other seeds" not in table


def test_infogans_other_seeds_are_listed_beside_its_row_with_their_median_and_best(results):
    row = {"preset": "infogan", "measure": "code_error", "paper": "5%", "seed": 0, "test_code_error": 0.1744,
           "test_code_error_majority": 0.1744, "test_code_error_batch_statistics": 0.1688, "generated_code_error": 0.1422,
           "epochs": 11, "steps": 5148, "batch_size": 128, "train_seconds": 2270.0, "machine": "x86_64, 1 cores"}
    papers.save_row(row)
    for seed, error in ((2, 0.052), (1, 0.09)):
        papers.save_row({**row, "seed": seed, "test_code_error": error, "test_code_error_majority": error - 0.01,
                         "test_code_error_batch_statistics": error + 0.01})
    assert sorted(path.name for path in (results / "results").iterdir()) == [
        "papers_infogan.json", "papers_infogan_seed1.json", "papers_infogan_seed2.json"]
    table = papers.render().read_text()
    assert table.count("| `infogan` |") == 1  # the other seeds are not rows of their own
    assert ("The same preset, budget and protocol with other seeds: seed 1: 9.0% (majority digit 8.0%, batch statistics "
            "10.0%); seed 2: 5.2% (majority digit 4.2%, batch statistics 6.2%). Over the 3 seeds the error via Q is 5.2%, "
            "9.0%, 17.4%: median 9.0%, best 5.2%") in table


def test_wgans_row_renders_both_curves_and_their_correlation(results):
    results.joinpath("results").mkdir()
    history = [{"step": 200, "estimate": 0.0123, "frechet_distance": 150.0},
               {"step": 400, "estimate": 0.0061, "frechet_distance": 80.0}]
    row = {"preset": "wgan", "measure": "critic", "paper": "falls", "history": history, "spearman": 1.0,
           "spearman_p": 0.0, "steps": 4800, "batch_size": 50, "train_seconds": 600.0, "machine": "x86_64",
           "status": "finished", "epochs": 4, "epochs_planned": 4}
    (results / "results" / "papers_wgan.json").write_text(json.dumps(row))
    table = papers.render().read_text()
    assert "the estimate went from 0.0123 (step 200) to 0.0061 (step 400) while the Frechet distance went from 150.0 to 80.0" in table
    assert "| 400 | 0.0061 | 80.0 |" in table

    row["history"] = [{**h, "estimate_batch_statistics": e, "frechet_distance_batch_statistics": fd}
                      for h, e, fd in zip(history, (0.5, 0.25), (90.0, 60.0))]
    row.update(spearman_batch_statistics=1.0, spearman_p_batch_statistics=0.0, batch_statistics_batch=50)
    (results / "results" / "papers_wgan.json").write_text(json.dumps(row))
    table = papers.render().read_text()
    assert "each batch of 50 by its own statistics" in table and "| 400 | 0.0061 | 80.0 | 0.25 | 60.0 |" in table


def test_the_batch_statistics_reading_normalises_each_batch_and_leaves_the_averages():
    """The reference codes' way of sampling: every batch of G's BatchNorm on its own statistics, so a batch's rows
    depend on each other; the moving averages stay, so the model samples as before afterwards."""
    import keras
    import numpy as np

    import zoo

    gan = zoo.create("dcgan", data_shape=(8, 8, 1), latent_dim=4, filters=4)
    norms = [v for v in gan.generator.non_trainable_variables]
    before = [keras.ops.convert_to_numpy(v) for v in norms]
    sampler = papers.BatchStatisticsSampler(gan, batch_size=4)
    images = sampler.generate(6, seed=1)  # two batches of 4, the last one filled up from the same stream
    z = np.asarray(gan.sample_noise(8, seed=1))
    np.testing.assert_allclose(images[4:], papers.with_batch_statistics(gan.generator, z[4:])[:2], atol=1e-6)
    assert np.abs(papers.with_batch_statistics(gan.generator, z[:2]) - images[:2]).max() > 1e-3  # another batch
    assert np.abs(images[:4] - gan.generate_from(z[:4])).max() > 1e-3  # not the moving averages
    for variable, value in zip(norms, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)


def test_every_row_is_a_preset_with_its_papers_number():
    import zoo

    for preset, (measure, published, _, _) in papers.ROWS.items():
        assert preset in zoo.available() and published
        assert measure in ("parzen", "code_error", "critic", "modes", "samples")
        # The preset names what the row measures, unless its paper published nothing on MNIST (the "samples" rows).
        assert bool(zoo.describe(preset)["paper_result"]) == (measure != "samples"), preset


def test_lsgans_row_renders_both_mode_counts_and_the_runs_that_cover_the_ring(results):
    results.joinpath("results").mkdir()

    def run(seed, captured, quality, visible, near):
        return {"seed": seed, "modes_captured": captured, "high_quality": quality, "modes_visible": visible,
                "near_share": near}

    row = {"preset": "lsgan", "measure": "modes", "paper": "covers the modes", "steps": 35100, "batch_size": 512,
           "results": {"least squares": [run(0, 8, 40.0, 8, 90.0), run(1, 3, 1.0, 5, 20.0)],
                       "regular": [run(0, 2, 30.0, 1, 50.0), run(1, 8, 3.6, 7, 58.9)]},
           "figure": "papers_lsgan.png"}
    (results / "results" / "papers_lsgan.json").write_text(json.dumps(row))
    table = papers.render().read_text()
    assert "| least squares | 8, 3 | 40.0%, 1.0% | 8, 5 | 90.0%, 20.0% |" in table
    assert "- least squares: all 8 modes visible in 1 of 2 runs, all 8 captured (PacGAN) in 1." in table
    assert "- regular: all 8 modes visible in 0 of 2 runs, all 8 captured (PacGAN) in 1." in table
