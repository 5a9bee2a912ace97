"""Modules: code locations daglab generates from its templates and keeps current.

``read_module_meta`` reads what a module records about itself (``[tool.daglab.module]``);
``module_currency`` tells how a module stands against its stored base and the templates.
"""

from __future__ import annotations

from daglab._modules.currency import Currency, module_currency
from daglab._modules.meta import ADDONS, TEMPLATES, ModuleMeta, read_module_meta

__all__ = ["ADDONS", "TEMPLATES", "Currency", "ModuleMeta", "module_currency", "read_module_meta"]
