"""Click commands that the ``aup`` group registers (directory, sync)."""
