"""Importing conveners' monthly figures, in three parts (this package re-exports nothing).

One pipeline behind both doors (the `python -m rsp_data import` command and the Submit page):

    report = read.validate(content, file_name)         # read + check, no store: every problem at once
    plan = apply.plan_import(engine, report)          # what would be added / changed (old -> new)
    result = apply.apply_import(engine, content, file_name, loaded_by)   # one transaction
    apply.rollback(engine, batch_id, by)              # restores the exact prior values
    templates.template_xlsx()                          # the columns, from the metric list

Any error rejects the whole file. Optional metrics are read when their column is present. A
missing column or an empty cell means "not reported in this file": a new row stores NULL, and a
row already in the store keeps the value it has (a file never erases an optional value by saying
nothing about it; to take one back, roll back the batch that wrote it). fact_history records
old/new optional values only for the metrics a row states, so rollback restores exactly those.
"""
