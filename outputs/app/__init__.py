"""The triage app (issue 16): queue, break page, actions, exports; no Dagster."""
