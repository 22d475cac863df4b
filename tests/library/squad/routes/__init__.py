"""The fixture squad's operations, one module per feature (each defines `router`)."""

API_VERSION = "1.0.0"
"""Version of `contracts/openapi.json`."""
