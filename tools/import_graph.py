"""The project's module import graph, its cycles, and the imports that run against the layers.

    python tools/import_graph.py            # this checkout
    python tools/import_graph.py --quiet    # only the problems (exit status 1 if there are any)

The layers, lowest first: saved_models (the index of shipped models: data, json and pathlib only)
<- zoo <- export <- train <- benchmarks. A module may import its own
layer and the ones below it, never one above. Every import statement counts, also the ones inside
functions (they are still a dependency, only a later one), and so does a module named in a string
for `importlib`. `tests/test_architecture.py` runs
these checks on the tree and on planted violations.
"""

import argparse
import ast
import pathlib
import sys

LAYERS = ("saved_models", "zoo", "export", "train", "benchmarks")


def module_name(root, path):
    """'train/evaluation/report.py' -> 'train.evaluation.report'; a package's __init__ is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def find_modules(root, packages=LAYERS):
    """{module name: path} for every .py file of `packages` under `root`."""
    root = pathlib.Path(root)
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            modules[module_name(root, path)] = path
    return modules


def _absolute(module, level, name, is_package):
    """The absolute name of a (possibly relative) `from ... import` target."""
    if not level:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(module, path, known):
    """[(imported module, imported name or None, line)] for the project modules `module` imports.

    `from a import b` counts as an import of `a.b` when that is a module, else of `a` (name b).
    A string that is exactly a project module's name ("train.cli_train") counts too: it is what
    `importlib.import_module` is given for lazy attributes and command tables.
    """
    tree = ast.parse(pathlib.Path(path).read_text(), filename=str(path))
    is_package = pathlib.Path(path).name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known or alias.name.split(".")[0] in LAYERS:
                    found.append((alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node.level, node.module or "", is_package)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in known:
                    found.append((submodule, None, node.lineno))
                elif target in known or target.split(".")[0] in LAYERS:
                    found.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value and node.value in known:
            found.append((node.value, None, node.lineno))
    return [(name, imported, line) for name, imported, line in found if name.split(".")[0] in LAYERS]


def import_graph(root, packages=LAYERS):
    """{module: sorted list of the project modules it imports} (itself excluded)."""
    modules = find_modules(root, packages)
    graph = {}
    for module, path in modules.items():
        graph[module] = sorted({name for name, _, _ in imports_of(module, path, modules) if name != module})
    return graph


def layer(module):
    """Index of a module's layer in LAYERS (None for modules outside them)."""
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def _each_import(root, packages):
    """(importing module, imported module, imported name or None, line) for every project import."""
    modules = find_modules(root, packages)
    for module, path in modules.items():
        for name, imported, line in imports_of(module, path, modules):
            yield module, name, imported, line


def layer_violations(root, packages=LAYERS):
    """['train.x:12 imports benchmarks.y (layer train may not import benchmarks)', ...]."""
    return [
        f"{module}:{line} imports {name} (layer {LAYERS[layer(module)]} may not import {LAYERS[layer(name)]})"
        for module, name, _, line in _each_import(root, packages)
        if layer(name) is not None and layer(name) > layer(module)
    ]


def private_imports(root, packages=LAYERS):
    """Imports of an underscore name from another top-level package: ['benchmarks.x:3 imports export.y._z']."""
    return [
        f"{module}:{line} imports {name}.{imported}"
        for module, name, imported, line in _each_import(root, packages)
        if imported and imported.startswith("_") and name.split(".")[0] != module.split(".")[0]
    ]


def cycles(graph):
    """The import cycles: each strongly connected component of more than one module, sorted (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in graph.get(node, ()):
            if child not in graph:
                continue
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def report(root, quiet=False):
    """The graph and its problems as text, and how many problems there are."""
    graph = import_graph(root)
    found_cycles = cycles(graph)
    violations = layer_violations(root)
    private = private_imports(root)
    lines = []
    if not quiet:
        lines.append(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports between them:")
        for module, names in graph.items():
            lines.append(f"  {module} -> {', '.join(names) if names else '-'}")
    lines.append(f"cycles: {len(found_cycles)}")
    lines += [f"  {' <-> '.join(component)}" for component in found_cycles]
    lines.append(f"layer violations ({' <- '.join(LAYERS)}): {len(violations)}")
    lines += [f"  {problem}" for problem in violations]
    lines.append(f"private names imported across packages: {len(private)}")
    lines += [f"  {problem}" for problem in private]
    return "\n".join(lines), len(found_cycles) + len(violations) + len(private)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=pathlib.Path(__file__).resolve().parents[1], type=pathlib.Path)
    parser.add_argument("--quiet", action="store_true", help="print only the problems")
    args = parser.parse_args(argv)
    text, problems = report(args.root, args.quiet)
    print(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
