"""The examples of docs/models-examples.md run as written (KGE, Node2Vec, GAE)."""
import os

from tests.test_docs import ROOT, python_blocks, run_blocks

PATH = os.path.join(ROOT, "docs", "models-examples.md")


def test_three_examples_run(tmp_path, monkeypatch):
    assert len(python_blocks(PATH)) == 3
    monkeypatch.chdir(tmp_path)
    run_blocks(PATH)
