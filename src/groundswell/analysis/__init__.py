"""Python-side algorithms on aggregates (bursts, gaps) and on small subsets (language detection)."""
