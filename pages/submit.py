"""Submit data: upload monthly figures, see exactly what changes, confirm. Signed-in users, for the
partnerships their grants name (rsp_data/grants.py) only."""

import math

import pandas as pd
import streamlit as st

from rsp_data import grants
from rsp_data.imports import apply, read, templates
from rsp_data.metrics import METRICS, OPTIONAL_KEYS, REQUIRED_KEYS
from rsp_data.registry import registry
from ui import auth, sidebar, store
from ui.export import safe_csv

sidebar.ensure_routed()
st.title("Submit monthly figures")
writer = auth.current_writer()
if writer is None:
    auth.sign_in_form()
    st.stop()

engine = store.engine()
scope = grants.scope(engine, writer)
if scope.empty:
    auth.no_grant_notice(writer)
    st.stop()

top = st.columns([3, 1])
names = {p.id: p.name for p in registry().partnerships}
may_write = (
    "every partnership's figures"
    if scope.every
    else "the figures of " + ", ".join(f"{names.get(r, r)} (`{r}`)" for r in sorted(scope.rsp_ids))
)
top[0].markdown(
    f"Signed in as **{writer.identity}**. You may submit {may_write}. Each import is recorded with this "
    "account and can be rolled back."
)
top[1].button("Sign out", on_click=auth.sign_out, width="stretch")

st.header("1. Fill in the template")
st.markdown(
    f"One row per partnership per month: `rsp_id, month (YYYY-MM), {', '.join(REQUIRED_KEYS)}`. Counts are "
    "whole numbers; enter 0 where there were none. Optional, where you track them: "
    + ", ".join(f"`{m}` ({METRICS[m].label.lower()}, {METRICS[m].unit})" for m in OPTIONAL_KEYS)
    + "; a blank cell there is not reported and keeps what the store has. A row for a month already in the "
    "store is a correction: the new values replace the old ones, which stay in the history so the import "
    "can be undone."
)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATES = (
    ("Template (Excel)", templates.template_xlsx, "xlsx", XLSX_MIME),
    ("Template (CSV)", templates.template_csv, "csv", "text/csv"),
)
own = None if scope.every else sorted(scope.rsp_ids)  # a convener's template lists only their partnerships
for column, (label, make, suffix, mime) in zip(st.columns(2), TEMPLATES, strict=True):
    column.download_button(
        label,
        make(rsp_ids=own),
        file_name=f"rsp_monthly_template.{suffix}",
        mime=mime,
        icon=":material/download:",
        width="stretch",
    )

st.header("2. Upload it")
MB = 1024 * 1024
limit = f"{read.MAX_BYTES // MB} MB" if read.MAX_BYTES >= MB else f"{read.MAX_BYTES:,} bytes"
upload = st.file_uploader(
    f"CSV or Excel (.xlsx), up to {limit}",
    type=["csv", "xlsx"],
    key="upload",
    max_upload_size=max(1, math.ceil(read.MAX_BYTES / MB)),  # the server's own cap: server.maxUploadSize
)
if upload is None:
    st.stop()

content = upload.getvalue()
bar = st.progress(0.0, text="Reading and checking the file")


def show_progress(fraction: float, message: str) -> None:
    bar.progress(min(max(fraction, 0.0), 1.0), text=message)


def problem_table(found: list[read.Problem]) -> pd.DataFrame:
    table = pd.DataFrame(found, columns=["row", "column", "value", "reason"])
    table["row"] = [str(p.row) if p.row else "whole file" for p in found]
    return table


def where(c: apply.Change) -> dict:
    """Which row of the file, and which partnership and month, a change is about."""
    return {"row": c.line, "partnership": c.rsp_id, "month": f"{c.month:%Y-%m}"}


report = read.validate(content, upload.name)
if report.ok:
    grants.refuse_rows(engine, writer, report)  # a row of another partnership refuses the whole file
show_progress(0.5, "Comparing with the store")
if not report.ok:
    problems = problem_table(report.problems)
    bar.empty()
    st.error(
        f"**{upload.name} cannot be imported: {len(report.errors)} problem(s).** Nothing was written. "
        "Fix every row below and upload the file again."
    )
    st.dataframe(problems, hide_index=True, width="stretch")
    st.download_button(
        "Download this report (CSV)",
        safe_csv(problems),
        file_name=f"{upload.name}.problems.csv",
        mime="text/csv",
    )
    st.stop()

plan = apply.plan_import(engine, report, show_progress)
bar.empty()

st.header("3. Check what will change")
if report.warnings:
    st.warning(f"{len(report.warnings)} thing(s) look unusual. They do not block the import; check them.")
    st.dataframe(problem_table(report.warnings), hide_index=True, width="stretch")
if plan.already_imported is not None or not (plan.added or plan.changed):
    st.info(plan.summary())
    st.stop()

st.markdown(f"**{plan.summary()}**")
changes = [
    {**where(c), "measure": m, "old value": c.old[m], "new value": c.new[m]}
    for c in plan.changed
    for m in c.new
    if c.old[m] != c.new[m]
]
if changes:
    st.markdown("Corrections (old value → new value):")
    st.dataframe(pd.DataFrame(changes), hide_index=True, width="stretch")
if plan.added:
    st.markdown("New rows:")
    st.dataframe(pd.DataFrame([{**where(c), **c.new} for c in plan.added]), hide_index=True, width="stretch")

st.header("4. Confirm")
if st.button(f"Import {len(plan.added) + len(plan.changed)} row(s)", type="primary"):
    bar = st.progress(0.0, text="Importing")
    try:
        result = apply.apply_import(
            engine, content, upload.name, writer.identity, progress=show_progress, writer=writer
        )
    except read.ImportRejected as exc:  # the store, the file or the grants changed since the preview
        st.error(exc.report.text())
        st.stop()
    bar.empty()
    store.refresh_data_version()  # every page shows the new figures on its next run
    st.success(f"{result.message} The dashboard now shows the new figures; the Data page lists the batch.")
