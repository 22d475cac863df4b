"""Command groups of the `squad` CLI, one module per capability.

Each module exposes a `typer.Typer` named `app`. Modules import their capability lazily
inside each command so that `squad --help` never pays for litellm, FastAPI or OpenTelemetry.
"""
