"""``workbench rules [--json|--markdown] [--rules-dir DIR]``: the rule library, listed."""
from __future__ import annotations

import json
import sys

from . import local
from .listing import entries, markdown, text


def register(parser) -> None:
    """Declare the options of ``workbench rules`` on its parser (``workbench.cli`` assembles them)."""
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="every field of every rule, for scripts")
    fmt.add_argument("--markdown", action="store_true", help="the rule-library page (docs/rule-library.md)")
    parser.add_argument("--rules-dir", default=None, metavar="DIR",
                        help="also list a bureau's own rule files (source: local)")


def cli_rules(args) -> int:
    """``workbench rules [--json|--markdown] [--rules-dir DIR]`` (:mod:`workbench.rules.listing`)."""
    library = local.library_with(getattr(args, "rules_dir", None))
    if args.json:
        out = json.dumps(entries(library), ensure_ascii=False, indent=1) + "\n"
    elif args.markdown:
        out = markdown(library)
    else:
        out = text(library)
    sys.stdout.write(out)
    return 0
