"""Names of the telemetry the squad emits, in one place.

Standard names follow the OpenTelemetry GenAI semantic conventions, pinned to
`SEMCONV_VERSION` (the registry packaged as `opentelemetry-semantic-conventions` 0.66b2;
the GenAI conventions have since moved to their own `semantic-conventions-genai`
repository, still at development stability). We spell the names out here rather than
importing that package's `_incubating` modules, which change in minor releases.
Everything the conventions do not cover is namespaced `squad.*`.
"""

from typing import Final

SEMCONV_VERSION: Final = "1.44.0"
SCHEMA_URL: Final = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"

# -- GenAI span attributes -----------------------------------------------------------------
OPERATION_NAME: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
RESPONSE_MODEL: Final = "gen_ai.response.model"
REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
REQUEST_TOP_P: Final = "gen_ai.request.top_p"
REQUEST_TOP_K: Final = "gen_ai.request.top_k"
REQUEST_SEED: Final = "gen_ai.request.seed"
REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
OUTPUT_TYPE: Final = "gen_ai.output.type"
USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
RESPONSE_ID: Final = "gen_ai.response.id"
TOKEN_TYPE: Final = "gen_ai.token.type"  # noqa: S105 - an attribute name
PROMPT_NAME: Final = "gen_ai.prompt.name"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
ERROR_TYPE: Final = "error.type"

# -- gen_ai.evaluation.result event ---------------------------------------------------------
EVALUATION_EVENT: Final = "gen_ai.evaluation.result"
EVALUATION_NAME: Final = "gen_ai.evaluation.name"
EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# -- squad extensions ---------------------------------------------------------------------
PROMPT_VERSION: Final = "gen_ai.prompt.version"
PROMPT_HASH: Final = "squad.prompt.hash"
PROMPT_LABEL: Final = "squad.prompt.label"
ALIAS: Final = "squad.model.alias"
ATTEMPTS: Final = "squad.gateway.attempts"
FALLBACK_USED: Final = "squad.gateway.fallback_used"
COST_USD: Final = "squad.cost.usd"
OUTCOME: Final = "squad.outcome"
ATTEMPT_EVENT: Final = "squad.gateway.attempt"
ATTEMPT_NUMBER: Final = "squad.attempt.number"
ATTEMPT_PURPOSE: Final = "squad.attempt.purpose"
ATTEMPT_TRIES: Final = "squad.attempt.tries"
ATTEMPT_LATENCY: Final = "squad.attempt.latency_s"
FAILURE_CAUSE: Final = "squad.failure.cause"  # gateway.errors.FailureCause: rate_limited, ...
SCORER: Final = "squad.quality.scorer"

# -- metrics --------------------------------------------------------------------------------
METRIC_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TOKENS: Final = "gen_ai.client.token.usage"
METRIC_COST: Final = "squad.gen_ai.cost"
METRIC_FALLBACKS: Final = "squad.gen_ai.fallbacks"
METRIC_PROVIDER_ERRORS: Final = "squad.gen_ai.provider_errors"
METRIC_INVALID_OUTPUTS: Final = "squad.gen_ai.invalid_outputs"
METRIC_QUALITY: Final = "squad.gen_ai.quality.score"
METRIC_GROUNDING_FAILURES: Final = "squad.gen_ai.grounding.failures"
METRIC_QUALITY_SAMPLES: Final = "squad.gen_ai.quality.samples"
METRIC_DRIFT: Final = "squad.gen_ai.quality.drift"
METRIC_DEGRADED: Final = "squad.gen_ai.degraded"

# Explicit bucket boundaries the GenAI conventions advise for the two client histograms.
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
QUALITY_BUCKETS: Final = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

# litellm provider prefix -> `gen_ai.provider.name` well-known value (others pass through).
PROVIDER_NAMES: Final = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "groq": "groq",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "ollama_chat": "ollama",
}


def provider_name(model: str) -> str:
    """`openai/gpt-4.1-mini` -> `openai`; `bedrock/...` -> `aws.bedrock`."""
    prefix = model.split("/", 1)[0] if "/" in model else "unknown"
    return PROVIDER_NAMES.get(prefix, prefix)


def model_name(model: str) -> str:
    """The model as the provider knows it: `openai/gpt-4.1-mini` -> `gpt-4.1-mini`."""
    return model.split("/", 1)[1] if "/" in model else model
