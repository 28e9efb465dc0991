"""The ```python examples of README.md and docs/*.md run as written.

Each file's blocks run in order in one namespace, in a fresh temporary working folder.
Blocks are compiled with their real line numbers in the Markdown file, so a traceback
(and the ``source`` that gfx records for captured nodes) points at the document line.
"""
import glob
import os
import re
import traceback

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FENCE = re.compile(r"^```python[ \t]*$")


class DocExampleError(AssertionError):
    """A documentation example failed; the message names the file, block and line."""


def doc_files():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [f for f in files if os.path.isfile(f)]


def python_blocks(path):
    """``(first_line, code)`` of every ```python block of a Markdown file (1-based lines)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, start = [], None
    for number, line in enumerate(lines, start=1):
        if start is None and _FENCE.match(line):
            start = number + 1
        elif start is not None and line.strip() == "```":
            blocks.append((start, "\n".join(lines[start - 1:number - 1]) + "\n"))
            start = None
    if start is not None:
        raise DocExampleError(f"{path}:{start - 1}: a ```python block is never closed")
    return blocks


def run_blocks(path):
    """Execute the blocks of ``path`` in order in one namespace; raise DocExampleError."""
    namespace = {"__name__": "__doc_example__"}
    for k, (first_line, code) in enumerate(python_blocks(path), start=1):
        # Pad with blank lines so that line numbers are those of the Markdown file.
        padded = "\n" * (first_line - 1) + code
        try:
            exec(compile(padded, path, "exec"), namespace)  # noqa: S102 - the docs' own code
        except Exception as exc:  # noqa: BLE001 - reported with file, block and line
            detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            raise DocExampleError(f"{os.path.relpath(path, ROOT)}: python block {k} (line "
                                  f"{first_line}) failed:\n{detail}") from exc


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_doc_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_blocks(path)


def test_failing_block_is_reported_with_file_and_block_number(tmp_path):
    doc = tmp_path / "guide.md"
    doc.write_text("# Guide\n\n```python\nvalue = 1\n```\n\ntext\n\n```bash\nexit 1\n```\n\n"
                   "```python\nassert value == 1\nassert value == 2, 'wrong'\n```\n")
    assert [line for line, _ in python_blocks(str(doc))] == [4, 14]
    with pytest.raises(DocExampleError, match=r"guide.md: python block 2 \(line 14\) failed") as info:
        run_blocks(str(doc))
    assert f'File "{doc}", line 15' in str(info.value)
    assert "AssertionError: wrong" in str(info.value)


def test_unclosed_block_is_refused(tmp_path):
    doc = tmp_path / "broken.md"
    doc.write_text("```python\nx = 1\n")
    with pytest.raises(DocExampleError, match="never closed"):
        python_blocks(str(doc))
