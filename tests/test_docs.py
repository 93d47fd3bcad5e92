"""Docs are part of the feature: the schema doc and the CLI reference must say what is true."""

from pathlib import Path

from groundswell.model import schema_table

ROOT = Path(__file__).resolve().parents[1]


def test_schema_doc_is_generated_from_the_model():
    doc = (ROOT / "docs" / "schema.md").read_text()
    assert schema_table() in doc, "docs/schema.md is stale: regenerate it with `python -m groundswell.model`"


def test_cli_reference_is_current():
    from groundswell.cli.reference import reference

    doc = (ROOT / "docs" / "cli.md").read_text()
    assert doc == reference(), "docs/cli.md is stale: run `python -m groundswell.cli.reference > docs/cli.md`"
