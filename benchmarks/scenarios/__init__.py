"""One module per scenario; each exposes ``run(params, ...) -> dict`` for the results file."""
