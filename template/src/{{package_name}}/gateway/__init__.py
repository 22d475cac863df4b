"""Model gateway: code asks for an alias, `config/models.yaml` decides what answers.

Calls go through litellm's Router (retries honouring Retry-After, fallbacks along the
chain, cooldowns, timeouts); the gateway adds an overall deadline, structured output with
one repair attempt, typed errors and one small typed result per call.
"""

from .config import AliasConfig, Deployment, ModelsConfig, RoutingConfig, load_models_config

__all__ = [
    "AliasConfig",
    "Deployment",
    "ModelsConfig",
    "RoutingConfig",
    "load_models_config",
]
