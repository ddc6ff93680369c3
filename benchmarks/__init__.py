"""Performance measurements of oaflow's hot paths (`python -m benchmarks`; see BENCHMARKS.md)."""
