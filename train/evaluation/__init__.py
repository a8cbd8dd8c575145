"""Evaluating generators: sample metrics beside a real-data baseline (`ganzoo evaluate`).

    from train.evaluation import evaluate
    report = evaluate("saved_models/dcgan-digits-...", n=2000)   # or a GAN, a GeneratorSession

- `evaluator`: `evaluate`, which picks the protocol for the dataset;
- `sources`: reading a run folder, .keras or .onnx file into a sampler;
- `classifier`: the evaluation classifier (a small CNN per dataset, cached), not a discriminator;
- `metrics`: the numbers, plain numpy / scipy functions;
- `inception`: FID / KID with InceptionV3 where its weights load;
- `parzen`: Goodfellow et al.'s Gaussian Parzen-window log-likelihood (MNIST), `evaluate_parzen`;
- `report`: the text table and the JSON form.
"""

from train.evaluation.evaluator import EvaluationError, evaluate
from train.evaluation.inception import inception_metrics, load_inception
from train.evaluation.parzen import (
    cross_validate_sigma,
    evaluate_parzen,
    format_parzen_report,
    parzen_evaluation,
    parzen_log_likelihood,
)
from train.evaluation.report import format_report, to_json
from train.evaluation.sources import Source, load_source

__all__ = [
    "EvaluationError",
    "Source",
    "cross_validate_sigma",
    "evaluate",
    "evaluate_parzen",
    "format_parzen_report",
    "format_report",
    "inception_metrics",
    "load_inception",
    "load_source",
    "parzen_evaluation",
    "parzen_log_likelihood",
    "to_json",
]
