"""README.md's Python examples run, and the benchmark table agrees everywhere it is printed (issue #14).

Every fenced block whose info string starts with ``python`` is extracted in README order; each is
one test, named after its nearest heading and its index under that heading. Indented (4-space)
examples are shell commands and are not collected.

Namespaces: the blocks of one ``##`` section share a namespace and run in README order, as a reader
working through that section would run them; every section starts from an empty namespace, so no
section depends on another (each block imports what it uses). A block whose earlier section-mate
failed is skipped. scikit-learn's global configuration is restored after every block (a block that
needs metadata routing enables it itself), and a block must not raise a warning from
``sklearn_eeg`` (the alarm scorer's warning about dropped windows, for one).

Data: the module works in a temporary folder (``chdir``) with ``$SKLEARN_EEG_CACHE`` pointing at its
``cache/``, so the embedded ``tiny`` dataset (3 subjects x 2 h, generated once, about 30 s), the
window stores and the blocks' relative paths (``data/null``) land there, never in the checkout.

Blocks that cannot run here are fenced as ``python no-run: <reason>``. Only blocks that need
downloaded data may be: :data:`NO_RUN` lists them by heading, each must read ``data/chbmit`` and
give its reason; any other ``no-run`` block fails :func:`test_only_blocks_needing_downloaded_data_skip`.

:func:`test_loso_console_summary_csv_and_final_summary_agree` runs ``pipelines/loso.py --preset
tiny`` in the same folder (reusing the dataset) and checks that the console table,
``loso_summary.csv`` and ``final_summary.md`` show the same values for every FAH target.
"""

from __future__ import annotations

import os
import re
import runpy
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from sklearn_eeg.evaluation.benchmark_summary import (
    STD_DEFINITION,
    format_mean_std,
    identical_targets_notes,
    summary_table,
)

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
#: Headings of the blocks allowed to be ``no-run`` (they read the downloaded CHB-MIT).
NO_RUN = ("Getting and checking CHB-MIT",)
DOWNLOADED_DATA = "data/chbmit"

_FENCE = re.compile(r"^```(\S*)\s*(.*)$")
_HEADING = re.compile(r"^(#{1,4}) (.+?)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced ``python`` block of the README."""

    section: str  # the enclosing "##" heading: blocks of a section share a namespace
    heading: str  # the nearest heading of any level
    index: int  # position under that heading, from 1
    line: int  # README line of the first code line
    source: str
    no_run: str | None  # the reason after "no-run:", None for a block that runs

    @property
    def id(self) -> str:
        return f"{re.sub(r'[^a-z0-9]+', '-', self.heading.lower()).strip('-')}-{self.index}"


def readme_blocks(text: str) -> list[Block]:
    """The ``python`` blocks of a Markdown text, in order."""
    blocks, section, heading, counts = [], "", "", {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            title = _HEADING.match(lines[i])
            if title:
                heading = title.group(2)
                section = heading if len(title.group(1)) <= 2 else section
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        language, rest = fence.group(1), fence.group(2)
        if language == "python":
            counts[heading] = counts.get(heading, 0) + 1
            no_run = None
            if rest.startswith("no-run"):
                no_run = rest.removeprefix("no-run").lstrip(":").strip()
            blocks.append(Block(section, heading, counts[heading], i + 2, "\n".join(lines[i + 1 : end]), no_run))
        i = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 7
    assert readme_blocks("## A\n```python\nx = 1\n```\n    indented = 2\n```bash\nls\n```\n### B\n"
                         "```python no-run: needs data/chbmit\ny\n```\n") == [
        Block("A", "A", 1, 3, "x = 1", None), Block("A", "B", 1, 11, "y", "needs data/chbmit")]


def test_only_blocks_needing_downloaded_data_skip():
    skipped = [b for b in BLOCKS if b.no_run is not None]
    assert [b.heading for b in skipped] == list(NO_RUN)
    for block in skipped:
        assert DOWNLOADED_DATA in block.source and DOWNLOADED_DATA in block.no_run, block.id
        compile(block.source, f"README.md:{block.line}", "exec")  # still valid Python


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A temporary working folder whose cache/ holds the embedded datasets; the checkout stays clean."""
    folder = tmp_path_factory.mktemp("readme")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("SKLEARN_EEG_CACHE", str(folder / "cache"))
        yield folder


_NAMESPACES: dict[str, dict] = {}
_FAILED: set[str] = set()


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.no_run is None], ids=lambda b: b.id)
def test_readme_block_runs(block: Block, workdir: Path):
    if block.section in _FAILED:
        pytest.skip(f"an earlier block of section {block.section!r} failed")
    namespace = _NAMESPACES.setdefault(block.section, {"__name__": "__readme__"})
    code = compile("\n" * (block.line - 1) + block.source, str(README), "exec")  # tracebacks give README lines
    _FAILED.add(block.section)
    with sklearn.config_context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(code, namespace)
    _FAILED.discard(block.section)
    ours = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught
            if f"{os.sep}sklearn_eeg{os.sep}" in w.filename]
    assert not ours, ours


# --------------------------------------------------------------------------- the printed benchmark table


def test_loso_console_summary_csv_and_final_summary_agree(workdir: Path, capsys):
    """One table, three places: console, loso_summary.csv, final_summary.md; every FAH target."""
    main = runpy.run_path(str(REPO / "pipelines" / "loso.py"))["main"]
    out = workdir / "loso_tiny"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*using n_val_subjects=1")
        assert main(["--preset", "tiny", "--out_dir", str(out), "--quiet", "--n_jobs", "1"]) == 0
    console = capsys.readouterr().out
    tables = out / "tables"
    results = pd.read_csv(tables / "loso_results.csv")
    summary = pd.read_csv(tables / "loso_summary.csv")
    markdown = (tables / "final_summary.md").read_text()
    text = (tables / "final_summary.txt").read_text()

    targets = [0.1, 0.2, 0.5, 1.0]  # the packaged default config's
    assert sorted(results["fah_target"].unique()) == targets and list(summary["fah_target"]) == targets
    table = summary_table(summary)
    assert list(table["FAH target (/h)"]) == ["0.1", "0.2", "0.5", "1"]
    assert table.to_string(index=False) in console and table.to_string(index=False) in text
    for row in table.itertuples(index=False):
        assert "| " + " | ".join(map(str, row)) + " |" in markdown
    assert STD_DEFINITION in console and STD_DEFINITION in markdown

    # the std is the sample std over folds (one per test subject), from the per-fold CSV
    n_subjects = results["test_subject"].nunique()
    for target, part in results.groupby("fah_target"):
        assert len(part) == n_subjects
        row = summary.set_index("fah_target").loc[target]
        for metric in ("auroc", "sensitivity", "fah", "ioc"):
            assert row[f"{metric}_std"] == pytest.approx(part[metric].std(ddof=1), nan_ok=True)
            shown = format_mean_std(part[metric].mean(), part[metric].std(ddof=1))
            line = next(ln for ln in markdown.splitlines() if ln.startswith(f"| {target:g} |"))
            assert shown in line, (metric, shown, line)

    # identical rows get their explanation wherever the table is printed
    notes = identical_targets_notes(table, results)
    for note in notes:
        assert note in console and note in markdown
    grouped = [re.findall(r"[\d.]+", note.split(" give identical rows")[0]) for note in notes]
    thresholds = results.pivot(index="test_subject", columns="fah_target", values="threshold")
    for low, high in zip(targets, targets[1:]):
        if np.allclose(thresholds[low], thresholds[high], equal_nan=True):  # same thresholds: same row, explained
            assert any({f"{low:g}", f"{high:g}"} <= set(group) for group in grouped), notes
