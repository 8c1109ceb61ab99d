"""``python -m bench``: run every benchmark and print its table."""
import sys

from bench import rules

sys.exit(rules.main(sys.argv[1:]))
