"""daglab's one way to talk to Dagster: a GraphQL client over HTTP with retries, a circuit
breaker, error classification and a sandbox."""

from daglab._client._async import AsyncDagsterClient
from daglab._client._client import DagsterClient
from daglab._client._models import Asset, ConfigProblem, Discovery, Job, JobRef, Run, StepFailure

__all__ = [
    "Asset",
    "AsyncDagsterClient",
    "ConfigProblem",
    "DagsterClient",
    "Discovery",
    "Job",
    "JobRef",
    "Run",
    "StepFailure",
]
