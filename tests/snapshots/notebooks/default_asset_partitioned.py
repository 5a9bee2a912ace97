import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Explore orders/daily_summary")


@app.cell(hide_code=True)
def _(
    DAGLAB_VERSION,
    NOTEBOOK_AUTHOR,
    NOTEBOOK_CREATED,
    NOTEBOOK_TITLE,
    NOTEBOOK_VERSION,
    TARGET,
    views,
):
    views.header(
        NOTEBOOK_TITLE,
        TARGET,
        version=NOTEBOOK_VERSION,
        author=NOTEBOOK_AUTHOR,
        created=NOTEBOOK_CREATED,
        daglab_version=DAGLAB_VERSION,
    )
    return


@app.cell
def metadata():
    # 1. Metadata & version: written by `daglab scaffold`; edit freely.
    NOTEBOOK_VERSION = "1.0.0"
    NOTEBOOK_TITLE = "Explore orders/daily_summary"
    NOTEBOOK_NAME = "default_asset_explore"
    NOTEBOOK_TEMPLATE = "default"
    NOTEBOOK_AUTHOR = "Ada Lovelace"
    NOTEBOOK_CREATED = "2026-01-02"
    NOTEBOOK_MODIFIED = "2026-01-02"
    DAGLAB_VERSION = "0.1.0"
    TARGET = {
        "kind": "asset",
        "name": "orders/daily_summary",
        "job": "__ASSET_JOB",
        "repository": "__repository__",
        "location": "sample_location",
        "assets": "orders/daily_summary",
        "module": "sample.assets",
        "attach_to": "orders/daily_summary",
    }
    TEMPLATE_VARS = {}
    return (
        DAGLAB_VERSION,
        NOTEBOOK_AUTHOR,
        NOTEBOOK_CREATED,
        NOTEBOOK_MODIFIED,
        NOTEBOOK_NAME,
        NOTEBOOK_TEMPLATE,
        NOTEBOOK_TITLE,
        NOTEBOOK_VERSION,
        TARGET,
        TEMPLATE_VARS,
    )


@app.cell
def imports():
    # 2. Imports: the logic lives in daglab.helpers, so these cells stay short.
    import marimo as mo
    from daglab.helpers import (
        attach_metadata,
        connect,
        discover,
        manage_state,
        run_inprocess,
        run_job,
        track_performance,
        validate_config,
        views,
    )

    return (
        attach_metadata,
        connect,
        discover,
        manage_state,
        mo,
        run_inprocess,
        run_job,
        track_performance,
        validate_config,
        views,
    )


@app.cell
def notebook_state(manage_state, track_performance):
    # 3. State shared by the cells below, with a history of every change.
    state = manage_state(
        {
            "run_ids": [],
            "runs": [],
            "last_config": None,
            "performance_metrics": {},
            "error_log": [],
        }
    )
    perf = track_performance()
    return perf, state


@app.cell(hide_code=True)
def _(mo):
    # 4. Connection & auth. None means dagster.url / host / port from daglab.yaml or DAGLAB_*.
    # The token comes from the variable named by dagster.auth.token_env: never paste it here.
    DAGSTER_URL = None
    reconnect = mo.ui.button(label="Reconnect", value=0, on_click=lambda count: count + 1)
    return DAGSTER_URL, reconnect


@app.cell(hide_code=True)
def _(DAGSTER_URL, connect, mo, reconnect, state, views):
    _ = reconnect.value  # pressing Reconnect runs this cell again
    conn = connect(DAGSTER_URL, project=mo.notebook_dir())
    views.note_connection(conn, state)
    mo.vstack([views.connection_status(conn), reconnect])
    return (conn,)


@app.cell(hide_code=True)
def _(mo):
    # 5. Controls: what to run, filled from Dagster's own discovery.
    refresh = mo.ui.button(label="Refresh", value=0, on_click=lambda count: count + 1)
    return (refresh,)


@app.cell(hide_code=True)
def _(conn, discover, refresh, state, views):
    _ = refresh.value
    _found = views.attempt(discover, conn, state=state) if conn.ok else views.Attempt(None)
    discovery = _found.value
    views.problem(_found.error, title="Discovery failed") if _found.error else None
    return (discovery,)


@app.cell(hide_code=True)
def _(TARGET, discovery, mo, views):
    _options = views.locations(discovery)
    location_select = mo.ui.dropdown(
        options=_options, value=views.pick(_options, TARGET["location"]), label="Location"
    )
    return (location_select,)


@app.cell(hide_code=True)
def _(TARGET, discovery, location_select, mo, views):
    _options = views.repositories(discovery, location_select.value)
    repository_select = mo.ui.dropdown(
        options=_options, value=views.pick(_options, TARGET["repository"]), label="Repository"
    )
    return (repository_select,)


@app.cell(hide_code=True)
def _(TARGET, discovery, location_select, mo, repository_select, views):
    _options = views.jobs(discovery, location_select.value, repository_select.value)
    job_select = mo.ui.dropdown(
        options=_options, value=views.pick(_options, TARGET["job"]), label="Job"
    )
    return (job_select,)


@app.cell(hide_code=True)
def _(TARGET, mo):
    run_config = mo.ui.code_editor(
        value="",
        language="yaml",
        label="Run config (YAML)",
        min_height=100,
    )
    asset_selection = mo.ui.text(
        value=TARGET["assets"],
        label="Assets (keys or wildcards such as orders/*, comma-separated)",
        full_width=True,
    )
    return asset_selection, run_config


@app.cell(hide_code=True)
def _(TARGET, conn, mo, refresh, views):
    # The target is partitioned: its keys from Dagster, or from the definitions without it.
    _ = refresh.value
    partition_select = views.partition_picker(TARGET, conn, project=mo.notebook_dir())
    return (partition_select,)


@app.cell(hide_code=True)
def _(
    asset_selection,
    job_select,
    location_select,
    mo,
    partition_select,
    refresh,
    repository_select,
    run_config,
):
    mo.vstack(
        [
            mo.md("## Controls"),
            mo.hstack([location_select, repository_select, job_select, refresh], justify="start"),
            partition_select,
            asset_selection,
            run_config,
        ]
    )
    return


@app.cell(hide_code=True)
def _(asset_selection, discovery, views):
    selected_keys, _issue = views.selected_assets(discovery, asset_selection.value)
    views.selection_status(selected_keys, _issue)
    return (selected_keys,)


@app.cell(hide_code=True)
def _(conn, job_select, run_config, selected_keys, validate_config, views):
    config_check = validate_config(
        job_select.value, run_config.value, assets=selected_keys or None, conn=conn
    )
    views.config_status(config_check)
    return (config_check,)


@app.cell(hide_code=True)
def _(conn, refresh, views):
    _ = refresh.value
    views.queue_status(conn)
    return


@app.cell(hide_code=True)
def _(mo):
    # 6. Launch in Dagster: validate, submit, show the run URL at once, follow its status.
    launch_button = mo.ui.run_button(label="Launch in Dagster", kind="success")
    mo.hstack([launch_button], justify="start")
    return (launch_button,)


@app.cell(hide_code=True)
def _(
    NOTEBOOK_NAME,
    conn,
    job_select,
    launch_button,
    partition_select,
    perf,
    run_config,
    run_job,
    selected_keys,
    state,
    views,
):
    launched = (
        views.launch(
            run_job,
            job=job_select.value,
            config=run_config.value,
            assets=selected_keys,
            conn=conn,
            state=state,
            tracker=perf,
            tags={"daglab/notebook": NOTEBOOK_NAME},
            partition=partition_select.value,
        )
        if launch_button.value
        else None
    )
    views.launched_view(
        launched,
        "Press **Launch in Dagster** to validate the run config, submit a run and follow it here.",
    )
    return (launched,)


@app.cell
def _(mo, views):
    # 7. In-process: the real definition from the project, run on a throwaway instance.
    views.ensure_importable(mo.notebook_dir())
    try:
        from sample.assets import daily_summary as target_definition

        target_import_problem = None
    except ImportError as _exc:
        target_definition = None
        target_import_problem = views.import_problem("sample.assets", _exc)
    return target_definition, target_import_problem


@app.cell(hide_code=True)
def _(mo):
    inprocess_button = mo.ui.run_button(label="Run in-process")
    mo.hstack([inprocess_button], justify="start")
    return (inprocess_button,)


@app.cell(hide_code=True)
def _(
    TARGET,
    inprocess_button,
    mo,
    partition_select,
    perf,
    run_config,
    run_inprocess,
    state,
    target_import_problem,
    views,
):
    inprocess_result = (
        views.inprocess(
            run_inprocess,
            TARGET["name"],
            kind=TARGET["kind"],
            module=TARGET["module"],
            config=run_config.value,
            project=mo.notebook_dir(),
            partition_key=partition_select.value,
            state=state,
            tracker=perf,
        )
        if inprocess_button.value and target_import_problem is None
        else None
    )
    views.inprocess_view(
        inprocess_result,
        target_import_problem
        or "Press **Run in-process** for a fast loop: same code, timing and memory.",
    )
    return (inprocess_result,)


@app.cell(hide_code=True)
def _(mo):
    # 8. Performance: UI runs against in-process runs, memory, success rate.
    perf_refresh = mo.ui.button(label="Refresh", value=0, on_click=lambda count: count + 1)
    return (perf_refresh,)


@app.cell(hide_code=True)
def _(inprocess_result, launched, mo, perf, perf_refresh, views):
    _ = (perf_refresh.value, launched, inprocess_result)  # refresh after every run
    mo.vstack([mo.md("## Performance"), views.performance(perf), perf_refresh])
    return


@app.cell(hide_code=True)
def _(mo):
    # 9. Export this notebook as HTML and attach it to the asset in Dagster's UI.
    export_button = mo.ui.run_button(label="Export HTML & attach")
    compress_export = mo.ui.checkbox(label="gzip the HTML")
    mo.hstack([export_button, compress_export], justify="start")
    return compress_export, export_button


@app.cell(hide_code=True)
def _(
    TARGET,
    attach_metadata,
    compress_export,
    conn,
    export_button,
    mo,
    partition_select,
    state,
    views,
):
    exported = (
        views.export_and_attach(
            mo.notebook_dir() / "default_asset_explore.py",
            attach_metadata,
            asset=TARGET["attach_to"],
            conn=conn,
            compress=compress_export.value,
            metadata_key="exploration",
            partition=partition_select.value,
            retention_days=30,
            state=state,
        )
        if export_button.value
        else None
    )
    views.export_view(
        exported,
        "Press **Export HTML & attach** to save this notebook as HTML and link it from the"
        " asset's page in Dagster, on the partition picked above.",
    )
    return (exported,)


@app.cell(hide_code=True)
def _(mo):
    # 10. Error recovery: reset, retry a failed run with the edited config, diagnostics.
    reset_button = mo.ui.run_button(label="Reset state", kind="warn")
    retry_button = mo.ui.run_button(label="Retry the failed run with the config above")
    diagnostics_button = mo.ui.run_button(label="Export diagnostics")
    mo.hstack([reset_button, retry_button, diagnostics_button], justify="start")
    return diagnostics_button, reset_button, retry_button


@app.cell(hide_code=True)
def _(
    NOTEBOOK_NAME,
    conn,
    diagnostics_button,
    job_select,
    launched,
    mo,
    perf,
    reset_button,
    retry_button,
    run_config,
    run_job,
    selected_keys,
    state,
    views,
):
    recovery = views.recover(
        reset=reset_button.value,
        retry=retry_button.value,
        diagnostics=diagnostics_button.value,
        run_job=run_job,
        launched=launched,
        job=job_select.value,
        config=run_config.value,
        assets=selected_keys,
        conn=conn,
        state=state,
        tracker=perf,
        diagnostics_path=mo.notebook_dir() / f"{NOTEBOOK_NAME}.diagnostics.json",
        tags={"daglab/notebook": NOTEBOOK_NAME},
    )
    mo.vstack([recovery, views.error_log(state)])
    return


if __name__ == "__main__":
    app.run()
