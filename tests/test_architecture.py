"""The layers hold: zoo <- export <- train <- benchmarks, no import cycles, no private names across packages.

The checks are `tools/import_graph.py`'s (`python tools/import_graph.py` prints the whole graph);
they are tried on a small planted tree first, so a checker that finds nothing cannot pass unseen.
"""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graph_tool():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checker_finds_planted_violations(graph_tool, tmp_path):
    root = _tree(tmp_path, {
        "zoo/__init__.py": "",
        "zoo/model.py": "def f():\n    from train import runner  # a lazy import still counts\n",
        "export/__init__.py": "",
        "export/runtime.py": "import numpy\n\n\ndef _hidden():\n    pass\n",
        "train/__init__.py": "",
        "train/runner.py": "from train import callbacks\n",
        "train/callbacks.py": "from train.runner import write_state\n",
        "train/cli.py": "COMMANDS = ('benchmarks.run',)\n",
        "benchmarks/__init__.py": "",
        "benchmarks/run.py": "from export.runtime import _hidden\nfrom . import other\n",
        "benchmarks/other.py": "import zoo.model\n",
    })
    graph = graph_tool.import_graph(root)
    assert graph["benchmarks.run"] == ["benchmarks.other", "export.runtime"]  # relative imports resolve
    assert graph_tool.cycles(graph) == [["train.callbacks", "train.runner"]]
    violations = graph_tool.layer_violations(root)
    assert any(v.startswith("zoo.model:2 imports train.runner") for v in violations)
    assert any(v.startswith("train.cli:1 imports benchmarks.run") for v in violations)  # named for importlib
    assert len(violations) == 2
    assert graph_tool.private_imports(root) == ["benchmarks.run:1 imports export.runtime._hidden"]
    text, problems = graph_tool.report(root, quiet=True)
    assert problems == 4 and "cycles: 1" in text


def test_the_checker_passes_a_clean_tree(graph_tool, tmp_path):
    root = _tree(tmp_path, {
        "zoo/__init__.py": "from zoo import gan\n",
        "zoo/gan.py": "import numpy\n",
        "export/__init__.py": "import zoo\n",
        "train/__init__.py": "from export import sampling\n",
        "benchmarks/__init__.py": "import train\n",
    })
    assert graph_tool.report(root, quiet=True)[1] == 0


def test_this_tree_respects_the_layers(graph_tool):
    graph = graph_tool.import_graph(ROOT)
    assert {"zoo.gan", "export.runtime", "train.cli", "benchmarks.run"} <= set(graph)  # it read the real tree
    assert graph_tool.cycles(graph) == []
    assert graph_tool.layer_violations(ROOT) == []
    assert graph_tool.private_imports(ROOT) == []


def test_public_api_documents_its_arguments():
    """Every function or class in `zoo.__all__` and `export.__all__` has a KerasHub-style `Args:` block.

    A class may carry it in its own docstring or its __init__'s; a function without parameters may
    have a `Returns:` block instead.
    """
    import inspect

    import export
    import zoo

    missing = []
    for module in (zoo, export):
        for name in module.__all__:
            item = getattr(module, name)
            if inspect.isclass(item):
                docs = [inspect.getdoc(item) or "", inspect.getdoc(item.__init__) or ""]
                ok = any("Args:" in doc for doc in docs)
            elif inspect.isfunction(item):
                doc = inspect.getdoc(item) or ""
                ok = "Args:" in doc or (not inspect.signature(item).parameters and "Returns:" in doc)
            else:
                continue  # constants such as zoo.LOSSES
            if not ok:
                missing.append(f"{module.__name__}.{name}")
    assert missing == [], f"public API without an Args: block: {missing}"
