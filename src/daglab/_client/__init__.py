"""daglab's one way to talk to Dagster: a GraphQL client over HTTP with retries, a circuit
breaker, error classification and a sandbox.

``AsyncDagsterClient`` lives in ``daglab._client._async`` (also ``daglab.AsyncDagsterClient``):
importing it loads asyncio, which no command needs.
"""

from daglab._client._client import DagsterClient
from daglab._client._models import Asset, ConfigProblem, Discovery, Job, JobRef, Run, StepFailure

__all__ = [
    "Asset",
    "ConfigProblem",
    "DagsterClient",
    "Discovery",
    "Job",
    "JobRef",
    "Run",
    "StepFailure",
]
