"""Modules: code locations daglab generates from its templates and keeps current.

``read_module_meta`` reads what a module records about itself (``[tool.daglab.module]``).
"""

from __future__ import annotations

from daglab._modules.meta import ADDONS, TEMPLATES, ModuleMeta, read_module_meta

__all__ = ["ADDONS", "TEMPLATES", "ModuleMeta", "read_module_meta"]
