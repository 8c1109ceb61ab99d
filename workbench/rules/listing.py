"""What the rule library holds, for people and scripts: ``workbench rules [--json|--markdown]``
(the command is declared and run by :mod:`workbench.rules.cli`).

Everything printed comes from the rule files themselves (and a bureau's ``--rules-dir``), so
``docs/rule-library.md`` cannot drift from the library: it is this module's Markdown, written
into the hand-written frame of ``library_doc.md`` (``{rule_count}``, ``{rule_table}``,
``{rule_sections}``).
"""
from __future__ import annotations

import json
from pathlib import Path

from . import local
from .loader import RULES_DIR

TEMPLATE = RULES_DIR / "library_doc.md"
TIER_ZH = {"policy": "政策类", "management": "管理类", "medical": "医疗类"}
TYPE_ZH = {"suspicious": "可疑", "violation": "明确违规"}
SEVERITY_ZH = {"irregular": "违规使用", "fraud": "欺诈骗保"}


def rule_entry(rule) -> dict:
    """One rule as plain data (the ``--json`` record).

    Parameters
    ----------
    rule : Rule

    Returns
    -------
    dict
        ``id``, ``version``, ``official_code``, ``name_zh``, ``name_en``, ``tier``,
        ``result_type``, ``severity``, ``stage``, ``tables``, ``optional_tables``, ``columns``,
        ``params`` (name → type, default, min, max, zh, en), ``answers``, ``basis``, ``notes``,
        ``source`` (``built-in`` or ``local``) and ``definition_hash``.
    """
    return {
        "id": rule.id, "version": rule.version, "official_code": rule.official_code,
        "name_zh": rule.name_zh, "name_en": rule.name_en, "tier": rule.tier,
        "result_type": rule.result_type, "severity": rule.severity, "stage": list(rule.stage),
        "tables": list(rule.tables), "optional_tables": list(rule.optional_tables),
        "columns": list(rule.columns),
        "params": {n: {"type": p.type, "default": p.default, "min": p.min, "max": p.max, "zh": p.zh, "en": p.en}
                   for n, p in rule.params.items()},
        "answers": rule.answers or None, "basis": rule.basis, "notes": (rule.notes or "").strip(),
        "source": local.origin(rule), "definition_hash": rule.definition_hash,
    }


def entries(library: dict) -> list:
    """:func:`rule_entry` of every rule, by id."""
    return [rule_entry(library[rid]) for rid in sorted(library)]


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _params_short(e) -> str:
    return "; ".join(f"`{n}`={json.dumps(p['default'], ensure_ascii=False)}" for n, p in e["params"].items()) or "—"


def _code(e) -> str:
    return e["official_code"] or "— (local)"


def _source(e) -> str:
    return "" if e["source"] == "built-in" else " (local)"


def table(rows: list) -> str:
    """The overview table: one line per rule."""
    out = ["| rule_id | official code | 名称 / name | tier | type | severity | stage | tables | parameters (default) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in rows:
        out.append(" | ".join([
            f"| [`{e['id']}`](#{e['id']}){_source(e)}", _cell(_code(e)),
            _cell(f"{e['name_zh']} / {e['name_en']}"), f"{TIER_ZH[e['tier']]} {e['tier']}",
            f"{TYPE_ZH[e['result_type']]} {e['result_type']}", f"{SEVERITY_ZH[e['severity']]} {e['severity']}",
            ", ".join(e["stage"]), ", ".join(e["tables"] + [f"({t})" for t in e["optional_tables"]]),
            _cell(_params_short(e)),
        ]) + " |")
    return "\n".join(out)


def sections(rows: list) -> str:
    """One section per rule: what it answers, its basis, its parameters and its notes."""
    out = []
    for e in rows:
        out += [f'<a id="{e["id"]}"></a>', f"### `{e['id']}` — {e['name_zh']} / {e['name_en']}", ""]
        out.append(f"{_code(e)} · {TIER_ZH[e['tier']]} {e['tier']} · {TYPE_ZH[e['result_type']]} "
                   f"{e['result_type']} · {SEVERITY_ZH[e['severity']]} {e['severity']} · stage "
                   f"{', '.join(e['stage'])} · version {e['version']} · {e['source']}")
        out.append("")
        reads = ", ".join(f"`{t}`" for t in e["tables"])
        if e["optional_tables"]:
            reads += " (read as empty when absent: " + ", ".join(f"`{t}`" for t in e["optional_tables"]) + ")"
        if e["columns"]:
            reads += "; optional columns " + ", ".join(f"`{c}`" for c in e["columns"])
        out.append(f"- **Reads:** {reads}")
        if e["answers"]:
            out.append(f"- **Answers:** {_cell(e['answers'])}")
        out.append(f"- **Basis:** {_cell(e['basis'])}")
        for n, p in e["params"].items():
            bounds = ""
            if p["min"] is not None or p["max"] is not None:
                bounds = f", {'' if p['min'] is None else p['min']}..{'' if p['max'] is None else p['max']}"
            out.append(f"- **`{n}`** ({p['type']}{bounds}) = {json.dumps(p['default'], ensure_ascii=False)}: "
                       f"{_cell(p['zh'])} / {_cell(p['en'])}")
        if e["notes"]:
            out += ["", " ".join(e["notes"].split())]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def markdown(library: dict, template=None) -> str:
    """The rule-library page: the template's frame with the table and sections filled in."""
    rows = entries(library)
    frame = Path(template or TEMPLATE).read_text(encoding="utf-8")
    return (frame.replace("{rule_count}", str(len(rows)))
            .replace("{rule_table}", table(rows)).replace("{rule_sections}", sections(rows).rstrip()))


def text(library: dict) -> str:
    """A terminal listing: id, code, type, stage, parameters and the Chinese name, one rule a line."""
    rows = entries(library)
    width = max((len(e["id"]) for e in rows), default=0)
    lines = [f"{e['id']:<{width}}  {(e['official_code'] or '-'):<17} {e['tier']:<10} {e['result_type']:<10} "
             f"{','.join(e['stage']):<15} {e['source']:<8} {e['name_zh']}  [{_params_short(e)}]" for e in rows]
    return "\n".join(lines + [f"{len(rows)} rules"]) + "\n"
