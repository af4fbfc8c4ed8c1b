"""All SQL of the dashboard: plain functions (engine, filters) -> pandas DataFrame or a small value."""
