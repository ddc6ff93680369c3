"""Performance measurements: `python -m benchmarks.<name>`."""
