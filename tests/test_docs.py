"""The README's data dictionary and settings stay in step with the code."""

import re
from pathlib import Path

from rsp_data import schema
from rsp_data.metrics import METRICS, data_dictionary_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_data_dictionary_is_the_generated_one():
    block = re.search(r"<!-- data-dictionary:start.*?-->\n(.*?)\n<!-- data-dictionary:end -->", README, re.S)
    assert block, "README lost its data-dictionary markers"
    assert block.group(1) == data_dictionary_markdown()


def test_every_metric_is_in_the_readme():
    for key in METRICS:
        assert f"`{key}`" in README


def test_every_store_column_is_documented():
    for table in schema.metadata.sorted_tables:
        assert f"`{table.name}`" in README, table.name
        for column in table.columns:
            assert f"`{column.name}`" in README, f"{table.name}.{column.name}"


def test_readme_quotes_the_two_commands_and_the_setting():
    assert "make run" in README and "make test" in README
    assert "DATABASE_URL" in README
