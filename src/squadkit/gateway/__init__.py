"""Model gateway: code asks for an alias, `config/models.yaml` decides what answers.

Calls go through litellm's Router (retries honouring Retry-After, fallbacks along the
chain, cooldowns, timeouts); the gateway adds an overall deadline, structured output with
one repair attempt, typed errors and one small typed result per call. litellm is imported
only when the first call is made.
"""

from ..calls import (
    CallContext,
    CallResult,
    Completion,
    GatewayObserver,
    NoopObserver,
    PromptRef,
    Provenance,
    RenderedPrompt,
    RouterCall,
)
from .answers import parse_answer
from .config import AliasConfig, Deployment, ModelsConfig, RoutingConfig, load_models_config
from .errors import (
    ConfigError,
    DeadlineExceeded,
    DeploymentFailure,
    GatewayError,
    InvalidOutput,
    ProviderUnavailable,
)
from .gateway import Gateway
from .protocol import ModelGateway

__all__ = [
    "AliasConfig",
    "CallContext",
    "CallResult",
    "Completion",
    "ConfigError",
    "DeadlineExceeded",
    "Deployment",
    "DeploymentFailure",
    "Gateway",
    "GatewayError",
    "GatewayObserver",
    "InvalidOutput",
    "ModelGateway",
    "ModelsConfig",
    "NoopObserver",
    "PromptRef",
    "Provenance",
    "ProviderUnavailable",
    "RenderedPrompt",
    "RouterCall",
    "RoutingConfig",
    "load_models_config",
    "parse_answer",
]
