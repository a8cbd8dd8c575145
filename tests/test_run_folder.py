"""`train.run_folder`: a run's model identity is recorded, and derived for runs that predate it."""

import pytest

from train import run_folder
from train.runner import RunSpec, plan_run


@pytest.mark.parametrize(
    "config, backbone, conditional",
    [
        ({"preset": "dcgan", "options": {"num_classes": 10}}, "dcgan", True),  # the demo's conditional DCGAN
        ({"preset": "conditional", "options": {"backbone": "dcgan"}}, "dcgan", True),
        ({"preset": "conditional", "options": {}}, "mlp", True),
        ({"preset": "vanilla", "options": {}}, "mlp", False),
        ({"preset": "vanilla", "backbone": "mlp", "conditional": False}, "mlp", False),
    ],
)
def test_old_configs_get_their_identity(config, backbone, conditional):
    derived = run_folder.with_identity(config)
    assert (derived["backbone"], derived["conditional"]) == (backbone, conditional)


def test_a_new_run_records_backbone_and_conditional(tmp_path):
    config, _, run_dir, resuming = plan_run(RunSpec("dcgan", epochs=1, options={"num_classes": 10}), out=tmp_path / "r")
    assert (config["preset"], config["backbone"], config["conditional"]) == ("dcgan", "dcgan", True)
    assert run_dir == tmp_path / "r" and not resuming
    run_folder.write_config(run_dir, config)
    assert run_folder.read_config(run_dir) == config
    assert run_folder.read_config(tmp_path / "nothing here") == {}


def test_a_run_from_before_the_papers_presets_loads_but_does_not_resume(tmp_path, capsys):
    """A run folder written when `dcgan` built the tuned DCGAN (no presets_version in its config) still samples and
    loads from its gan.keras, and the same command refuses to continue it as the paper's DCGAN."""
    import json

    import keras

    import zoo
    from train import cli

    out = tmp_path / "run"
    options = ["--option", "filters=4", "--option", "latent_dim=8", "--batch-size", "64"]
    argv = ["train", "dcgan_mbd_code_ema", "--dataset", "digits", "--epochs", "1", "--seed", "0", "--quiet", "--out", str(out)]
    assert cli.main([*argv, *options]) == 0
    config = json.loads((out / "config.json").read_text())
    config.pop("presets_version")
    config["preset"], config["epochs"] = "dcgan", 2  # as version 1 wrote it, one epoch still to go
    (out / "config.json").write_text(json.dumps(config))
    state = json.loads((out / "state.json").read_text())
    (out / "state.json").write_text(json.dumps({**state, "status": "running"}))
    sampler, _ = run_folder.load_sampler(out)
    assert sampler.generate(4, seed=0).shape == (4, 8, 8, 1)
    assert isinstance(keras.models.load_model(out / "gan.keras"), zoo.GAN)
    capsys.readouterr()
    try:
        code = cli.main(["train", "dcgan", "--dataset", "digits", "--epochs", "2", "--seed", "0", "--quiet",
                         "--out", str(out), *options])
    except SystemExit as exit:
        code = exit.code
    assert code == 2
    assert "from before the presets became their papers' models" in capsys.readouterr().err
