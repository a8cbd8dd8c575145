"""The documentation runs: every ```bash and ```python block of README.md and docs/*.md, on the bundled data.

A renamed flag or API then breaks the suite, not the reader. A block is left out only where the markdown says so,
visibly, on the line before it, with the reason:

    <!-- docs-test: skip (needs the network) -->

Each block runs on its own, in a fresh folder that holds links to the checkout's files (saved_models/ is a real
folder of links, so runs written there stay in the temporary folder), with the checkout's virtual environment
first on PATH and the checkout on PYTHONPATH: shell blocks under `bash -e -o pipefail`, Python blocks as a script.
Blocks that show output rather than commands are ```text and are not run. The blocks are written to be quick for
real users too (`--dataset digits --epochs 1`, the shipped models): the whole file takes about 90 s of CPU.

The README's tables are checked against the code: a row for every preset (`zoo.presets.PRESETS` and the
translators) and for every shipped model (`saved_models.index()`), with the index's figures; and
docs/pretrained.png must show every shipped model (`python tools/pretrained_grid.py` redraws it).
"""

import dataclasses
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL, PYTHON = ("bash", "sh", "shell"), ("python",)
FENCE = re.compile(r"^(\s*)```(.*)$")
MARKER = re.compile(r"<!--\s*docs-test:(.*?)-->")
SKIP = re.compile(r"^\s*skip\s*\((?P<reason>.*)\)\s*$")
README_MAX_LINES = 150
PICTURE = ROOT / "docs" / "pretrained.png"
PICTURE_MAX_BYTES = 300 * 1024
BLOCK_TIMEOUT = 300


@dataclasses.dataclass
class Block:
    page: pathlib.Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    marker: str | None  # the docs-test marker on the line before, without the comment's brackets

    @property
    def name(self):
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"

    @property
    def runs(self):
        return self.language in SHELL + PYTHON


def parse(page):
    """(the fenced blocks of `page`, [(line, marker)] of the markers that precede no block)."""
    lines = page.read_text().splitlines()
    markers = {n: m.group(1).strip() for n, text in enumerate(lines) if (m := MARKER.search(text))}
    blocks, used, i = [], set(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, language = opening.group(1), opening.group(2).strip()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise AssertionError(f"{page.name}:{i + 1}: a ``` block that never closes")
        previous = next((j for j in range(i - 1, -1, -1) if lines[j].strip()), None)
        marker = markers.get(previous)
        if marker is not None:
            used.add(previous)
        code = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1 : end])
        blocks.append(Block(page, i + 1, language, code + "\n", marker))
        i = end + 1
    return blocks, [(n + 1, lines[n]) for n in markers if n not in used]


def all_blocks():
    return [block for page in PAGES for block in parse(page)[0]]


def skip_reason(block):
    """The reason a block is marked to skip, None if it runs; AssertionError for a marker that is not a skip."""
    if block.marker is None:
        return None
    match = SKIP.match(block.marker)
    assert match, f"{block.name}: unknown marker <!-- docs-test:{block.marker} -->; the one marker is `skip (reason)`"
    return match.group("reason").strip()


RUNNABLE = [block for block in all_blocks() if block.runs]


# ---------------------------------------------------------------------------------------------- the markdown


def marker_problems(pages):
    """What is wrong with the blocks and markers of `pages`, one line each."""
    problems = []
    for page in pages:
        blocks, stray = parse(page)
        problems += [f"{page.name}:{line}: marker not on the line before a ``` block: {text.strip()}"
                     for line, text in stray]
        for block in blocks:
            where = f"{page.name}:{block.line}"
            if not block.language:
                problems.append(f"{where}: a ``` block without a language (bash, python, or text for output)")
            try:
                reason = skip_reason(block)
            except AssertionError as error:
                problems.append(str(error))
                continue
            if block.marker is not None and not reason:
                problems.append(f"{where}: a skip without a reason: <!-- docs-test: skip (why) -->")
            if reason and not block.runs:
                problems.append(f"{where}: a skip marker on a ```{block.language} block, which never runs")
    return problems


def test_every_block_names_its_language_and_every_skip_says_why():
    problems = marker_problems(PAGES)
    assert not problems, "\n".join(problems)


def test_the_marker_checks_find_planted_problems(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: skip (needs the network) -->\n```bash\npip install x\n```\n\n"
        "<!-- docs-test: skip -->\n```bash\nls\n```\n\n"
        "<!-- docs-test: skip () -->\n\n```python\npass\n```\n\n"
        "<!-- docs-test: run -->\n```bash\nls\n```\n\n"
        "```\nno language\n```\n\n"
        "<!-- docs-test: skip (nothing follows) -->\n\nsome prose\n"
    )
    blocks, stray = parse(page)
    assert [b.language for b in blocks] == ["bash", "bash", "python", "bash", ""]
    assert skip_reason(blocks[0]) == "needs the network"
    problems = marker_problems([page])
    assert [p.split(": ", 1)[1].split(":")[0] for p in problems] == [
        "marker not on the line before a ``` block",
        "unknown marker <!-- docs-test",  # "skip" without its (reason)
        "a skip without a reason",
        "unknown marker <!-- docs-test",
        "a ``` block without a language (bash, python, or text for output)",
    ], problems
    assert stray == [(26, "<!-- docs-test: skip (nothing follows) -->")]


def test_the_readme_is_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; keep it to {README_MAX_LINES}, the rest in docs/"


def _slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_links_between_pages_resolve():
    problems = []
    for page in [*PAGES, ROOT / "saved_models" / "README.md", ROOT / "examples" / "web" / "README.md"]:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                problems.append(f"{page.relative_to(ROOT)}: link to {target}: no such file")
            elif anchor and file.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", file.read_text(), flags=re.M)
                if anchor not in {_slug(h) for h in headings}:
                    problems.append(f"{page.relative_to(ROOT)}: link to {target}: no such heading")
    assert not problems, "\n".join(problems)


def _table(text, first_header):
    """The rows (lists of cells) of the markdown table whose first header cell is `first_header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    raise AssertionError(f"README.md has no table whose first column is {first_header!r}")


def test_the_readme_presets_table_has_every_preset():
    import zoo
    from zoo.presets import PRESETS

    rows = _table((ROOT / "README.md").read_text(), "preset")
    names = [row[0].strip("`") for row in rows]
    assert names == [*PRESETS, *zoo.TRANSLATORS], "one row per preset, in zoo.presets.PRESETS' order, then translators"
    import saved_models

    for row in rows:
        name = row[0].strip("`")
        for column, key in ((3, "paper_result"), (4, "our_result")):
            # Every figure the README gives is one the preset states (a link's address aside).
            stated = PRESETS.get(name, {}).get(key)
            given = re.findall(r"\d[\d,.]*%?", re.sub(r"\]\([^)]*\)", "]", row[column]))
            if stated:
                missing = [figure for figure in given if figure.rstrip(".,") not in stated]
                assert not missing, f"{name}: the README's {key} has {missing}, not in the preset's {stated!r}"
        shipped = sorted(m["name"] for m in saved_models.index() if m.get("preset") == name)
        listed = sorted(re.findall(r"`(\w+)`", row[-1]))
        assert listed == shipped, f"{row[0]}: its pretrained column lists {listed}, the index {shipped}"


def test_the_readme_pretrained_table_has_every_shipped_model_with_its_figures():
    import saved_models

    rows = {row[0].strip("`"): " | ".join(row) for row in _table((ROOT / "README.md").read_text(), "pretrained")}
    assert sorted(rows) == saved_models.names(), "one row per shipped model (saved_models.index())"
    for model in saved_models.index():
        metrics, row = model["metrics"], rows[model["name"]]
        if saved_models.kind_of(model) == saved_models.GENERATOR:
            generated = metrics["generated"]
            figures = [f"{generated['classifier_score']:.2f}", f"{generated['frechet_distance']:.2f}"]
        else:
            figures = [f"{metrics['model']['l1']:.3f}", f"{metrics['model']['class_accuracy']:.1%}"]
        missing = [figure for figure in figures if figure not in row]
        assert not missing, f"{model['name']}: the README's row lacks the index's {missing}: {row}"


# ---------------------------------------------------------------------------------------------- the picture


def _grid_tool():
    spec = importlib.util.spec_from_file_location("pretrained_grid", ROOT / "tools" / "pretrained_grid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_picture_shows_every_shipped_model():
    import saved_models

    tool = _grid_tool()
    drawn = tool.drawn_models(PICTURE)
    kinds = (saved_models.GENERATOR, saved_models.TRANSLATOR)
    shipped = [m["name"] for kind in kinds for m in saved_models.index(kind)]
    assert drawn == shipped, f"docs/pretrained.png shows {drawn}; redraw it: python tools/pretrained_grid.py"
    assert PICTURE.stat().st_size <= PICTURE_MAX_BYTES


def test_the_picture_script_draws_a_row_per_model(tmp_path):
    from PIL import Image

    tool = _grid_tool()
    out = tmp_path / "grid.png"
    assert tool.main(["--models", "conditional_dcgan_digits", "cyclegan_thin2thick", "--out", str(out)]) == 0
    assert tool.drawn_models(out) == ["conditional_dcgan_digits", "cyclegan_thin2thick"]
    first = out.read_bytes()
    tool.main(["--models", "conditional_dcgan_digits", "cyclegan_thin2thick", "--out", str(out)])
    assert out.read_bytes() == first  # seeded: the same picture every time
    width, height = Image.open(out).size
    assert height == 2 * tool.MARGIN + 2 * tool.TILE + tool.ROW_GAP and width > tool.LABEL_WIDTH + 10 * tool.TILE
    with pytest.raises(SystemExit):
        tool.main(["--models", "no_such_model", "--out", str(out)])


# ---------------------------------------------------------------------------------------------- the blocks


def _workspace(folder):
    """`folder` with a link to each top-level entry of the checkout; saved_models/ a real folder of links."""
    for entry in ROOT.iterdir():
        if entry.name in (".git", ".venv", "saved_models") or entry.name.startswith("."):
            continue
        (folder / entry.name).symlink_to(entry)
    (folder / "saved_models").mkdir()
    for entry in (ROOT / "saved_models").iterdir():
        if entry.is_file():
            (folder / "saved_models" / entry.name).symlink_to(entry)
    return folder


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("block", RUNNABLE, ids=[f"{b.name}-{b.language}" for b in RUNNABLE])
def test_the_block_runs(block, tmp_path):
    reason = skip_reason(block)
    if reason:
        pytest.skip(f"marked in the page: {reason}")
    folder = _workspace(tmp_path)
    script = tmp_path / ("block.py" if block.language in PYTHON else "block.sh")
    script.write_text(block.code)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               PATH=os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]),
               KERAS_BACKEND="tensorflow", MPLBACKEND="Agg")
    shell = ["bash", "-e", "-o", "pipefail", str(script)]
    command = [sys.executable, str(script)] if block.language in PYTHON else shell
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    assert result.returncode == 0, (
        f"{block.name}: the ```{block.language} block failed (exit {result.returncode}):\n{block.code}\n"
        f"--- output (end) ---\n{(result.stdout + result.stderr)[-4000:]}"
    )
