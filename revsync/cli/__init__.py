"""Command line: the `revsync` typer app (also `starter.py`), one module per command group."""
