"""docs/catalogue.md's convolution table is what ``python -m gfx catalogue`` measures."""
import os

import pytest

from gfx.catalogue import table

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "catalogue.md")


@pytest.mark.slow
def test_catalogue_doc_matches_measurement():
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    measured = table()
    assert measured in doc, ("docs/catalogue.md is out of date; regenerate its table with "
                             "`python -m gfx catalogue`:\n" + measured)


def test_catalogue_doc_lists_every_documented_component_as_measured():
    from tests.catalogue_coverage import coverage_table
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    measured = coverage_table()
    assert measured in doc, ("docs/catalogue.md's component table is out of date; "
                             "regenerate it with `python -m tests.catalogue_coverage`:\n"
                             + measured)
