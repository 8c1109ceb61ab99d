import re
from pathlib import Path

import pyarrow as pa

from workbench import schema

SCHEMA_MD = Path(__file__).resolve().parents[2] / "shared" / "schema.md"


def test_every_table_and_column_of_schema_md_is_in_the_contract():
    if not SCHEMA_MD.is_file():  # shared/ lies beside the repo in every checkout we run in
        import pytest

        pytest.skip("shared/schema.md not beside the repo")
    text = SCHEMA_MD.read_text(encoding="utf-8")
    # tables documented with a column table: "## name — ..." followed by "| name | type |" rows
    for block in re.split(r"\n## ", text)[1:]:
        name = block.split()[0]
        if name not in schema.TABLES:
            continue
        cols = re.findall(r"^\| ([a-z_]+) \| ", block, flags=re.M)
        cols = [c for c in cols if c != "column"]
        inline = re.findall(r"\b([a-z_]+) \((?:str|date|dec|num|int)", block)
        for c in cols + inline:
            assert c in schema.TABLES[name].column_names, (name, c)
    for name in ["psn", "insu", "medins", "dr", "mdtrt", "setl", "fee", "list", "list_incl", "stock", "inspector"]:
        assert name in schema.TABLES


def test_keys_types_and_sensitive_flags():
    psn = schema.table("psn")
    assert psn.key == ("psn_no",)
    assert set(psn.sensitive_columns) == {"certno", "psn_name"}
    assert schema.table("dr").sensitive_columns == ["dr_name"]
    assert schema.table("fee").key == ("mdtrt_id", "feedetl_sn")
    assert schema.table("setl").column("hifp_pay").arrow_type == pa.decimal128(18, 2)
    assert schema.table("mdtrt").column("begntime").arrow_type == pa.timestamp("us")
    assert schema.table("mdtrt").column("med_type").codes["21"].startswith("普通住院")
    assert ("psn_no", "psn", "psn_no") in schema.table("mdtrt").references
    assert schema.REQUIRED_TABLES == ["psn", "medins", "mdtrt"]
    assert schema.table("stock").optional and not schema.table("mdtrt").optional


def test_arrow_schema_limited_to_present_columns():
    s = schema.table("psn").arrow_schema(present={"psn_no", "gend"})
    assert s.names == ["psn_no", "gend"]


def test_unknown_table_names_the_table():
    import pytest

    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="'visits'"):
        schema.table("visits")
