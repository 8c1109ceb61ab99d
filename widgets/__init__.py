"""ipywidgets components of the fund-audit workbench.

Widgets take workbench objects and never compute: the numbers come from ``workbench``.
"""
