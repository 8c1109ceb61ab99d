"""``python -m bench``: run the benchmark suite and print its table (see ``bench/suite.py``)."""
import sys

from bench import suite

sys.exit(suite.main(sys.argv[1:]))
