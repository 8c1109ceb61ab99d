"""The workbench CLI as a ``spark-submit`` application (the cluster recipe in README.md).

    WORKBENCH_SPARK_MASTER=submit spark-submit --master yarn --deploy-mode client \\
        scripts/spark_submit_workbench.py audit /shared/data --out /shared/run --engine spark

``WORKBENCH_SPARK_MASTER=submit`` (the default here) makes the workbench take the master and the
resources from ``spark-submit`` instead of its local two-core settings.
"""
import os
import sys

os.environ.setdefault("WORKBENCH_SPARK_MASTER", "submit")

from workbench.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
