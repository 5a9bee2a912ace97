"""``DagsterClient``: every operation daglab performs against a Dagster webserver.

One request path for all of them (``execute``, then :mod:`daglab._client._requests`): sandbox
check, circuit breaker, retries with backoff and jitter for transient failures only (pausing as
a ``Retry-After`` asks), the audit trail of every change, then classification of the answer onto
daglab's exit codes. Mutations are retried only when the request provably never left this
machine, or the server answered 429 (refused before handling it), so a launch is never
duplicated by a retry.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from daglab._client._breaker import breaker_for
from daglab._client._documents import OPERATIONS
from daglab._client._models import (
    ASSET_JOB,
    IN_FLIGHT_STATUSES,
    LAUNCHED_BY_TAG,
    ConfigProblem,
    Discovery,
    JobRef,
    Run,
    StepFailure,
)
from daglab._client._requests import RequestPath
from daglab._client._transport import Transport
from daglab._client._waiting import POLL_INITIAL, POLL_MAX, RunPoll
from daglab._errors import (
    AuthenticationError,
    ConnectivityError,
    DaglabError,
    ValidationError,
    did_you_mean,
)

if TYPE_CHECKING:
    from daglab._config import LoadedConfig
    from daglab._config_models import DagsterSettings
    from daglab._url import SafeUrl

NOT_FOUND = {"PipelineNotFoundError", "RepositoryNotFoundError", "RepositoryLocationNotFound"}
INVALID = {"InvalidSubsetError", "RunConfigValidationInvalid", "InvalidStepError"}


def _is_loopback(url: SafeUrl) -> bool:
    host = url.hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class ServerError(DaglabError):
    """Dagster answered with a Python error of its own."""

    default_remediation = "See the webserver's log; the error above is Dagster's own."


class DagsterClient(RequestPath):
    """A client for one webserver endpoint (local, behind a path prefix, or Dagster+).

    ``DagsterClient.shared`` hands out one client per endpoint and identity, so a notebook that
    calls the helpers in many cells reuses one connection pool; the circuit breaker is per
    endpoint whichever way a client was made.
    """

    _shared: ClassVar[dict[tuple[Any, ...], DagsterClient]] = {}
    _shared_lock = threading.Lock()

    def __init__(
        self,
        settings: DagsterSettings,
        *,
        token: str | None = None,
        sandbox: bool = False,
        allowed_operations: Sequence[str] = (),
        transport: Transport | None = None,
        launched_by: str = "cli",
    ) -> None:
        from daglab._auth import auth_headers

        self.settings = settings
        self.base_url = settings.base_url
        self.graphql_url = settings.graphql_url
        self.headers = auth_headers(settings.auth, self.base_url, token=token)
        if _is_loopback(self.base_url):
            # Compressing a large answer costs the server more than loopback saves.
            self.headers.setdefault("Accept-Encoding", "identity")
        self.sandbox = sandbox
        self.allowed_operations = frozenset(allowed_operations)
        self.launched_by = launched_by
        self._transport = transport
        self._transport_lock = threading.Lock()
        graphql = settings.graphql
        self._breaker = breaker_for(
            str(self.graphql_url),
            threshold=graphql.breaker_threshold,
            cooldown=graphql.breaker_cooldown_seconds,
        )
        self.history_root = None
        #: The Dagster version the server reported, once known: it picks document variants.
        self.server_version: str | None = None

    @classmethod
    def from_config(
        cls,
        loaded: LoadedConfig,
        *,
        token: str | None = None,
        sandbox: bool | None = None,
        transport: Transport | None = None,
        launched_by: str = "cli",
    ) -> DagsterClient:
        security = loaded.config.security
        client = cls(
            loaded.config.dagster,
            token=token,
            sandbox=security.sandbox_mode if sandbox is None else sandbox,
            allowed_operations=security.allowed_operations,
            transport=transport,
            launched_by=launched_by,
        )
        client.history_root = loaded.project.root
        return client

    @classmethod
    def shared(
        cls,
        settings: DagsterSettings,
        *,
        token: str | None = None,
        sandbox: bool = False,
        allowed_operations: Sequence[str] = (),
        launched_by: str = "notebook",
    ) -> DagsterClient:
        """The process-wide client for this endpoint, credentials, sandbox and launcher tag."""
        candidate = cls(
            settings,
            token=token,
            sandbox=sandbox,
            allowed_operations=allowed_operations,
            launched_by=launched_by,
        )
        key = (
            candidate.graphql_url,
            tuple(sorted(candidate.headers.items())),
            tuple(settings.graphql.model_dump().items()),  # timeouts, retries and budgets
            candidate.sandbox,
            candidate.allowed_operations,
            launched_by,
        )
        with cls._shared_lock:
            if not cls._shared:
                import atexit

                atexit.register(cls._close_shared)
            return cls._shared.setdefault(key, candidate)

    @classmethod
    def _close_shared(cls) -> None:
        with cls._shared_lock:
            for client in cls._shared.values():
                client.close()

    # -- plumbing (the request path itself is RequestPath's) -----------------------------------

    def __enter__(self) -> DagsterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(
        self,
        operation: str,
        variables: Mapping[str, Any] | None = None,
        *,
        budget: float | None = None,
    ) -> Any:
        """Send one document and return its ``data``; raise a classified daglab error.

        ``budget`` bounds the seconds spent, retries included (default
        ``dagster.graphql.retry_budget_seconds``).

        Operations with variants for older Dagster (``daglab._compat.graphql``) send the newest
        until the server's version is known: their documents ask for ``version``, and when it
        names an older variant, or the server rejected the newest document outright, the
        variant for that version is sent instead (and from then on, directly).
        """
        from daglab._compat.graphql import has_variants

        op = OPERATIONS[operation]
        sent = op.file_for(operation, self.server_version)
        payload = {
            "query": op.text_for(operation, self.server_version),
            "variables": dict(variables or {}),
        }

        def send() -> Any:
            return self._request(
                operation, self.graphql_url, payload, self._graphql_answer, budget=budget
            )

        if not has_variants(operation) or self.server_version is not None:
            return send()
        try:
            data = send()
        except ValidationError as refused:
            try:  # an older server refused a field: ask its version, then decide
                self.version()
            except DaglabError:
                raise refused from None
            if op.file_for(operation, self.server_version) == sent:
                raise
            return self.execute(operation, variables, budget=budget)
        if isinstance(data, dict) and data.get("version"):
            self.server_version = str(data["version"])
        if op.file_for(operation, self.server_version) != sent:
            return self.execute(operation, variables, budget=budget)
        return data

    def report_observation(
        self,
        asset_key: Sequence[str],
        metadata: Mapping[str, Any],
        *,
        partition: str | None = None,
        description: str | None = None,
    ) -> None:
        """Record a runless observation of an asset, with metadata, through the REST endpoint.

        GraphQL's ``reportRunlessAssetEvents`` takes no metadata, so this one call is REST.
        """
        from urllib.parse import quote

        path = "/".join(quote(part, safe="") for part in asset_key)
        payload: dict[str, Any] = {"metadata": dict(metadata)}
        if partition is not None:
            payload["partition"] = partition
        if description is not None:
            payload["description"] = description
        url = self.base_url.join(f"report_asset_observation/{path}")
        self._request("report_observation", url, payload, self._rest_answer)

    # -- results ------------------------------------------------------------------------------

    @staticmethod
    def _check(result: Mapping[str, Any], what: str) -> Mapping[str, Any]:
        kind = result.get("__typename", "")
        message = str(result.get("message") or kind)
        if kind == "UnauthorizedError":
            raise AuthenticationError(f"{what}: {message}")
        if kind in NOT_FOUND or kind == "RunNotFoundError":
            raise ValidationError(f"{what}: {message}")
        if kind in INVALID and kind != "RunConfigValidationInvalid":
            raise ValidationError(f"{what}: {message}")
        if kind == "PythonError":
            raise ServerError(f"{what}: Dagster raised an error: {message}")
        return result

    # -- operations ---------------------------------------------------------------------------

    def version(self) -> str:
        """The Dagster version the webserver reports (remembered for choosing documents)."""
        self.server_version = str(self.execute("version")["version"])
        return self.server_version

    def discover(self) -> Discovery:
        data = self.execute("discover")
        workspace = data.get("workspaceOrError") or {}
        if workspace.get("__typename") == "PythonError":
            self._check(workspace, "workspace")
        return Discovery.from_graphql(data)

    def resolve_job(
        self,
        name: str,
        *,
        repository: str | None = None,
        location: str | None = None,
        discovery: Discovery | None = None,
    ) -> JobRef:
        """The one job called ``name``; repository and location are filled in when unique."""
        if name == ASSET_JOB and repository and location:
            return JobRef(name, repository, location)
        discovery = discovery or self.discover()
        matches = [
            job.ref
            for job in discovery.jobs
            if job.name == name
            and (repository is None or job.ref.repository == repository)
            and (location is None or job.ref.location == location)
        ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            broken = [loc for loc in discovery.failed_locations if location in (None, loc.name)]
            if broken:
                first = (broken[0].error or "").strip().splitlines()
                raise ValidationError(
                    f"no job named {name!r} in the code locations that loaded;"
                    f" {', '.join(b.name for b in broken)} failed to load"
                    + (f": {first[0]}" if first else ""),
                    remediation="Fix the location's code (`daglab discover --filter locations`"
                    " shows the error), then reload it in the Dagster UI.",
                    failed_locations=[b.name for b in broken],
                )
            names = sorted({job.name for job in discovery.jobs})
            close = difflib.get_close_matches(name, names, n=3)
            hint = (
                f"did you mean {', '.join(close)}?" if close else f"known jobs: {', '.join(names)}"
            )
            where = "".join(
                f" in {label} {value}"
                for label, value in (("repository", repository), ("location", location))
                if value
            )
            raise ValidationError(
                f"no job named {name!r}{where}; {hint}",
                remediation="`daglab discover --filter jobs` lists every job.",
            )
        options = ", ".join(f"--location {m.location} --repo {m.repository}" for m in matches)
        raise ValidationError(
            f"job {name!r} exists in {len(matches)} places: {options}",
            remediation="Pass --location and --repo to choose one.",
        )

    def asset_job_ref(self, asset_keys: Sequence[Sequence[str]], discovery: Discovery) -> JobRef:
        """Dagster launches an asset selection through the implicit ``__ASSET_JOB``."""
        wanted = {tuple(key) for key in asset_keys}
        by_key = {asset.path: asset for asset in discovery.assets}
        missing = sorted("/".join(k) for k in wanted if k not in by_key)
        if missing:
            raise ValidationError(
                f"unknown asset(s): {', '.join(missing)}"
                + did_you_mean(missing[0], ("/".join(p) for p in by_key)),
                remediation="`daglab discover --filter assets` lists every asset key.",
            )
        places = {(by_key[k].location, by_key[k].repository) for k in wanted}
        if len(places) != 1:
            raise ValidationError(
                "the selected assets live in more than one code location",
                remediation="Launch one run per code location.",
            )
        location, repository = places.pop()
        assert location is not None and repository is not None  # noqa: S101  type narrowing
        return JobRef(ASSET_JOB, repository, location)

    def validate_config(
        self,
        job: JobRef,
        run_config: Mapping[str, Any],
        asset_selection: Sequence[Sequence[str]] | None = None,
    ) -> list[ConfigProblem]:
        """Dagster's own validation of ``run_config`` for ``job``; launches nothing."""
        selector: dict[str, Any] = job.pipeline_selector()
        if asset_selection:
            selector["assetSelection"] = [{"path": list(key)} for key in asset_selection]
        data = self.execute(
            "validate_config",
            {"pipeline": selector, "runConfigData": dict(run_config), "mode": "default"},
        )
        result = self._check(data["isPipelineConfigValid"], f"job {job.name}")
        return [
            ConfigProblem(error["message"], error.get("reason"))
            for error in result.get("errors") or []
        ]

    def default_config_yaml(self, job: JobRef) -> str:
        """The job's run config with every default filled in, as YAML (required fields empty)."""
        data = self.execute("run_config_schema", {"selector": job.pipeline_selector()})
        result = self._check(data["runConfigSchemaOrError"], f"job {job.name}")
        return str(result.get("rootDefaultYaml") or "")

    def launch(
        self,
        job: JobRef,
        run_config: Mapping[str, Any] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        asset_selection: Sequence[Sequence[str]] | None = None,
    ) -> Run:
        """Submit a run; it carries ``daglab/*`` tags saying what launched it."""
        selector: dict[str, Any] = job.selector()
        if asset_selection:
            selector["assetSelection"] = [{"path": list(key)} for key in asset_selection]
        all_tags = {LAUNCHED_BY_TAG: self.launched_by, **(tags or {})}
        params = {
            "selector": selector,
            "runConfigData": dict(run_config or {}),
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]},
        }
        data = self.execute("launch_run", {"executionParams": params})
        result = self._check(data["launchRun"], f"launching {job.name}")
        kind = result.get("__typename")
        if kind == "RunConfigValidationInvalid":
            problems = "; ".join(e["message"] for e in result.get("errors") or [])
            raise ValidationError(
                f"invalid run config for {job.name}: {problems}",
                remediation="Fix the run config; `daglab run --validate-only` checks it.",
            )
        if kind != "LaunchRunSuccess":
            raise ServerError(f"launching {job.name}: {result.get('message') or kind}")
        run = result["run"]
        return Run(
            run["runId"],
            run["status"],
            run.get("jobName"),
            tags=all_tags,
            url=self.run_url(run["runId"]),
        )

    def run(self, run_id: str, *, budget: float | None = None) -> Run:
        data = self.execute("run", {"runId": run_id}, budget=budget)
        node = self._check(data["runOrError"], f"run {run_id}")
        return Run.from_graphql(dict(node), self.run_url(run_id))

    def run_poll(
        self,
        run_id: str,
        timeout: float | None,
        on_update: Callable[[Run, float], None] | None,
        poll_initial: float = POLL_INITIAL,
        poll_max: float = POLL_MAX,
    ) -> RunPoll:
        return RunPoll(
            timeout,
            on_update,
            poll_initial,
            poll_max,
            run_id=run_id,
            url=self.run_url(run_id),
            outage=self.settings.graphql.wait_outage_seconds,
        )

    def look_budget(self, poll: RunPoll) -> float:
        """What one look during a wait may take: the client's budget, or less in an outage."""
        own = self.settings.graphql.retry_budget_seconds
        left = poll.budget()
        return own if left is None else min(own, left)

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """Numeric metadata the run's materializations recorded, as ``{"asset.label": value}``."""
        data = self.execute("run_metrics", {"runId": run_id})
        node = self._check(data["runOrError"], f"run {run_id}")
        metrics: dict[str, float] = {}
        for event in node.get("assetMaterializations") or []:
            asset = "/".join((event.get("assetKey") or {}).get("path") or [])
            for entry in event.get("metadataEntries") or []:
                keys = ("floatRepr", "floatValue", "intRepr")  # floatValue: Dagster < 1.11.11
                text = next((entry[k] for k in keys if entry.get(k) is not None), None)
                if text is None:
                    continue
                try:
                    metrics[f"{asset}.{entry['label']}"] = float(text)
                except ValueError:
                    continue
        return metrics

    def partition_keys(self, asset_key: Sequence[str]) -> list[str]:
        """The partition keys an asset has now (dynamic partitions included)."""
        data = self.execute("asset_partitions", {"assetKey": {"path": list(asset_key)}})
        node = self._check(data["assetNodeOrError"], f"asset {'/'.join(asset_key)}")
        return [str(key) for key in node.get("partitionKeys") or []]

    def run_url(self, run_id: str) -> str:
        return str(self.base_url.join(f"runs/{run_id}"))  # masked: a link to show

    def terminate(self, run_id: str) -> bool:
        data = self.execute("terminate_run", {"runId": run_id})
        result = data["terminateRun"]
        if result.get("__typename") == "TerminateRunSuccess":
            return True
        self._check(result, f"terminating run {run_id}")
        return False

    def runs(
        self,
        *,
        statuses: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        run_filter: dict[str, Any] = {}
        if statuses:
            run_filter["statuses"] = list(statuses)
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        data = self.execute("runs", {"filter": run_filter or None, "limit": limit})
        result = self._check(data["runsOrError"], "listing runs")
        return [Run.from_graphql(node, self.run_url(node["runId"])) for node in result["results"]]

    def runs_in_flight(self, tags: Mapping[str, str] | None = None) -> list[Run]:
        return self.runs(statuses=IN_FLIGHT_STATUSES, tags=tags)

    def failures(self, run_id: str) -> list[StepFailure]:
        """Why a run failed: each failed step with its error (and the cause Dagster wraps)."""
        data = self.execute("run_failure", {"runId": run_id})
        result = self._check(data["logsForRun"], f"logs of run {run_id}")
        found = []
        for event in result.get("events") or []:
            if event.get("__typename") == "ExecutionStepFailureEvent":
                error = event.get("error") or {}
                cause = error.get("cause") or {}
                found.append(
                    StepFailure(
                        event.get("stepKey"),
                        error.get("message", "").strip(),
                        error.get("className"),
                        (cause.get("message") or "").strip() or None,
                    )
                )
        if not found:
            found += [
                StepFailure(None, str(e.get("message", "")).strip())
                for e in result.get("events") or []
                if e.get("__typename") == "RunFailureEvent"
            ]
        return found

    def wait(
        self,
        run_id: str,
        *,
        timeout: float | None = None,
        on_update: Callable[[Run, float], None] | None = None,
        poll_initial: float = POLL_INITIAL,
        poll_max: float = POLL_MAX,
    ) -> Run:
        """Poll until the run ends (or ``timeout``); capped backoff keeps the end lag small.

        Returns the last state seen, finished or not. An outage of the webserver is ridden out
        for ``dagster.graphql.wait_outage_seconds``; past that the error names the run, its URL
        and the ``daglab wait`` command that resumes.
        """
        poll = self.run_poll(run_id, timeout, on_update, poll_initial, poll_max)
        while True:
            try:
                run = self.run(run_id, budget=self.look_budget(poll))
            except ConnectivityError as exc:
                time.sleep(poll.lost(exc))
                continue
            pause = poll.after(run)
            if pause is None:
                return run
            time.sleep(pause)
