"""Deployment files for a workspace's code locations: Dagster+, Helm, or a self-hosted server.

``configure`` renders them (``_cloud``, ``_helm``, ``_selfhosted``), checks them with the tools
their consumers use (dagster-cloud-cli's model, the Helm chart's schema) and writes what changed.
"""

from __future__ import annotations

from daglab._deploy._configure import STRATEGIES, Check, Options, Plan, PlannedFile, configure

__all__ = ["STRATEGIES", "Check", "Options", "Plan", "PlannedFile", "configure"]
