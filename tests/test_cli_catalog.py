"""`ganzoo list` fits a screen, `ganzoo list --verbose` and `ganzoo show NAME` give the details and full commands."""

import pytest

import saved_models
import zoo
from train import cli, datasets, recipes, translation_data, translation_runner
from train.cli import catalog


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_has_one_short_line_per_name_and_fits_a_screen(capsys):
    code, out, _ = _run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) - len(saved_models.names()) <= 41  # everything else leaves a 50-line screen room for 9 models
    assert max(len(line) for line in lines) <= catalog.LINE_WIDTH
    # Each name is the first word of exactly one indented line (placeholders such as <folder> aside).
    names = [line.split()[0] for line in lines if line.startswith("  ")]
    expected = [*zoo.available(), *translation_runner.MODELS, *translation_data.OFFLINE_TASKS, "<folder>",
                *datasets.dataset_names(), "<tfds", "<folder>", *recipes.RECIPES,
                *saved_models.names()]
    assert sorted(names) == sorted(expected)
    vanilla = next(line for line in lines if line.startswith("  vanilla "))
    ours = zoo.describe("vanilla")["our_result"].split(" ±")[0]  # the short form: the figure without its error
    assert "Goodfellow et al. 2014: MLP G" in vanilla and vanilla.endswith(f"; paper 225, ours {ours}")
    recipe = next(line for line in lines if line.startswith("  example1-gaussian1d "))
    assert recipe.endswith(catalog.ELLIPSIS)  # cut, not wrapped
    assert "ganzoo list --verbose" in lines[-1] and "ganzoo show NAME" in lines[-1]
    assert "shared/data" not in out


def test_list_verbose_has_the_full_descriptions_and_commands(capsys):
    code, out, _ = _run(capsys, "list", "--verbose")
    assert code == 0
    for name in recipes.RECIPES:
        assert recipes.recipe_command(name) in out  # whole, on one line
    assert "default_optimizer={'name': 'sgd', 'learning_rate': 0.1" in " ".join(out.split())
    assert "Parzen log-likelihood 225 ± 2 on the MNIST test set (Table 1)" in " ".join(out.split())
    budget = recipes.PRESET_BUDGETS["vanilla"]
    assert f"{budget['steps']:,} generator steps in batches of {budget['batch_size']}" in out
    assert _shipped_score("conditional_mnist") in out and "ganzoo sample conditional_mnist" in out
    translator = saved_models.entry("pix2pix_edges2fashion")["metrics"]
    l1 = {row: f"{translator[row]['l1']:.4f}" for row in ("model", "identity", "real")}
    assert f"L1 {l1['model']} (identity {l1['identity']}, real {l1['real']})" in out


def _shipped_score(name):
    """How the catalog gives a shipped generator's classifier score, from its index entry."""
    metrics = saved_models.entry(name)["metrics"]
    return (f"classifier score {metrics['generated']['classifier_score']:.2f} "
            f"(real {metrics['real']['classifier_score']:.2f})")


@pytest.mark.parametrize("name, kind, expected", [
    ("vanilla", "preset", ["paper:", "Goodfellow et al. 2014", "builds:", "options:", "budget:",
                           "paper's result: Parzen log-likelihood 225 ± 2", "ours:",
                           zoo.describe("vanilla")["our_result"].split(" (")[0],
                           "\n  train:          ganzoo train vanilla   #"]),
    ("dcgan-mnist", "recipe", [recipes.recipe_command("dcgan-mnist"), "ganzoo train --recipe dcgan-mnist"]),
    ("ring8", "dataset", ["PacGAN's 2D-ring", "minibatch-ring8", "ganzoo train vanilla --dataset ring8"]),
    ("mnist", "dataset", ["--dataset /path/to/mnist", "train-images-idx3-ubyte[.gz]", "ossci-datasets"]),
    ("cyclegan", "image-to-image model", ["Zhu et al. 2017", "ganzoo train cyclegan --dataset thin2thick_digits"]),
    ("thin2thick", "image-to-image task", ["unpaired", "ganzoo train cyclegan --dataset thin2thick --data-dir"]),
    ("conditional_mnist", "pretrained generator", [
        _shipped_score("conditional_mnist"), "protocol:", str(saved_models.path("conditional_mnist", "onnx")),
        "recreate:", "ganzoo sample conditional_mnist --out", 'GeneratorSession.from_pretrained("conditional_mnist")']),
    ("pix2pix_edges2fashion", "pretrained translator", [
        f"L1 {saved_models.entry('pix2pix_edges2fashion')['metrics']['model']['l1']:.4f}", "ganzoo translate pix2pix_edges2fashion IMAGE... --out DIR", "TranslatorSession"]),
])
def test_show_gives_one_names_details(capsys, name, kind, expected):
    code, out, _ = _run(capsys, "show", name)
    assert code == 0
    assert out.startswith(f"{name} ({kind})\n")
    for text in expected:
        assert text in out, text


def test_show_an_unknown_name_suggests_close_ones(capsys):
    code, out, err = _run(capsys, "show", "vanila")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("ganzoo show: error: nothing is named 'vanila'; did you mean vanilla")
    assert "`ganzoo list`" in err
    code, _, err = _run(capsys, "show", "qqqq")
    assert code == 2 and "did you mean" not in err and "`ganzoo list`" in err


def test_shorten_cuts_at_a_word_with_an_ellipsis():
    assert catalog.shorten("short", 10) == "short"
    assert catalog.shorten("a long line of words", 12) == "a long line" + catalog.ELLIPSIS
    assert catalog.shorten("a long line of words", 11) == "a long" + catalog.ELLIPSIS
    assert len(catalog.shorten("x" * 50, 20)) == 20
