from pathlib import Path

from workbench import dictionary, schema

ROOT = Path(__file__).resolve().parents[1]


def test_data_readme_is_the_generated_dictionary():
    # regenerate with: workbench dictionary --out data/README.md
    assert (ROOT / "data" / "README.md").read_text(encoding="utf-8") == dictionary.render()


def test_dictionary_lists_every_column_with_both_languages():
    text = dictionary.render()
    for t in schema.TABLES.values():
        assert f"## {t.name}" in text
        for c in t.columns:
            assert f"| `{c.name}` | {c.type} | {c.zh} | {c.en} |" in text
    assert "**sensitive 敏感**" in text
