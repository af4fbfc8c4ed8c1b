"""Conveners' monthly figures, behind the `import` command and the Submit page: read (check, no store), apply
(plan, write one batch, roll back), templates. An optional metric's missing column or blank cell means "not
reported": a new row stores NULL, a stored row keeps its value (roll back the batch to take one back).
"""
