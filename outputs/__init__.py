"""What is made from the published snapshot, without Dagster: the HTML report, alert
composition and delivery state, terminal tables, amount wording."""
