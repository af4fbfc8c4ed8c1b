"""Importing conveners' monthly figures, one pipeline behind the `import` command and the Submit page.

read.validate(content, file_name) reads and checks a file with no store (every problem at once);
apply.plan_import / apply_import / rollback compare with, write (one batch, one transaction) and
restore the store; templates.template_csv / template_xlsx carry the columns of the metric list.
An optional metric's missing column or empty cell means "not reported": a new row stores NULL, a
stored row keeps its value (roll back the batch that wrote a value to take it back).
"""
