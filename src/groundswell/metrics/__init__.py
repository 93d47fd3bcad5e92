"""Backend-neutral definitions of every figure. See docs/metrics.md."""
