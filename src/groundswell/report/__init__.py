"""Outputs: terminal summaries now; HTML and exports with the report issue."""
