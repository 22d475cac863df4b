"""Model gateway: code asks for an alias, `config/models.yaml` decides what answers.

Calls go through litellm's Router (retries honouring Retry-After, fallbacks along the
chain, cooldowns, timeouts), except a chain of one provider deployment with nothing for the
Router to do (no fallback, no rpm/tpm limit, no Redis), which calls `litellm.acompletion`
with the same retries (`direct.py`); the gateway adds an overall deadline, structured output with
one repair attempt, typed errors and one small typed result per call. litellm is imported
only when the first call is made.
"""

from ..calls import CallResult, Completion, DeploymentFailure, PromptRef, Provenance
from .answers import parse_answer
from .config import Deployment, ModelsConfig, load_models_config
from .errors import DeadlineExceeded, InvalidOutput, ProviderUnavailable
from .gateway import Gateway
from .protocol import ModelGateway

__all__ = [
    "CallResult",
    "Completion",
    "DeadlineExceeded",
    "Deployment",
    "DeploymentFailure",
    "Gateway",
    "InvalidOutput",
    "ModelGateway",
    "ModelsConfig",
    "PromptRef",
    "Provenance",
    "ProviderUnavailable",
    "load_models_config",
    "parse_answer",
]
