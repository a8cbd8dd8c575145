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
