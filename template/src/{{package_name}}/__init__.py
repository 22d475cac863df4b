"""The squad's own code: its AI features, their offline models and their routes.

The machinery they run on (gateway, prompt registry, evals, observability, the `squad`
CLI, the service toolkit) is the `squadkit` library, pinned in pyproject.toml. squadkit
finds this package through the `squadkit.squad` entry point declared there, and reads:

- `features/`: one module per feature (typed input, typed output, one async function);
- `offline/`: offline `local/...` models for the features, so everything runs with no key;
- `routes/` (with the service): one module per feature's HTTP operation.
"""
