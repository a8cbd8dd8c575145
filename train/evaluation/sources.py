"""What `evaluate` measures: a sampler read from a run folder, a .keras file or an exported .onnx file."""

import dataclasses
import pathlib


@dataclasses.dataclass
class Source:
    """A sampler (the `export.sampling.Sampler` protocol), how to name it, and what its run recorded.

    `config` is the run's config.json (or the ONNX metadata): `evaluate` takes the dataset and its
    data_dir from it when they are not given.
    """

    sampler: object
    description: str
    config: dict = dataclasses.field(default_factory=dict)


def load_source(source):
    """A `Source` for a run folder, a .keras file (GAN or generator) or an .onnx file.

    Args:
        source: the path. A run folder gives its gan.keras (else generator.keras) and config.json;
            an .onnx file its `GeneratorSession`, with the exported metadata as config.

    Raises FileNotFoundError when nothing is there, ValueError for another kind of file.
    """
    path = pathlib.Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{source} does not exist (expected a run folder, .keras or .onnx file).")
    if path.suffix == ".onnx":
        from export import GeneratorSession

        session = GeneratorSession(str(path))
        return Source(session, f"ONNX {path}", dict(session.metadata))
    if not path.is_dir() and path.suffix != ".keras":
        raise ValueError(f"cannot evaluate {source}: expected a run folder, a .keras file or an .onnx file.")
    import zoo
    from train import run_folder

    sampler, config = run_folder.load_sampler(path)
    if isinstance(sampler, zoo.GAN):
        description = f"GAN {run_folder.model_file(path)[0]}"
    else:
        description = f"generator {run_folder.model_file(path)[0]} ({sampler.prior} prior)"
    return Source(sampler, description, config)
