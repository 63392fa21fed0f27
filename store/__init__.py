"""The lake and the warehouse engine, without Dagster: datasets, lake paths, atomic files,
landing, DuckDB loads and models, the break folding, publishing."""
