"""Outputs: the terminal summary, the self-contained HTML report, and the exports."""
