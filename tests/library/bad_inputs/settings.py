"""Bad settings: environment variables the library reads."""

from __future__ import annotations

from tests.library.bad_inputs.breaks import (
    CHECK_MODELS,
    GATE,
    RUN,
    SERVE,
    Bad,
)

SETTINGS = [
    Bad(
        "port-not-a-number",
        CHECK_MODELS,
        "SQUAD_SERVICE_PORT='abc'",
        env={"SQUAD_SERVICE_PORT": "abc"},
    ),
    Bad(
        "port-out-of-range",
        CHECK_MODELS,
        "SQUAD_SERVICE_PORT='70000'",
        env={"SQUAD_SERVICE_PORT": "70000"},
    ),
    Bad(
        "log-level-unknown", CHECK_MODELS, "SQUAD_LOG_LEVEL='LOUD'", env={"SQUAD_LOG_LEVEL": "LOUD"}
    ),
    Bad(
        "deadline-negative",
        CHECK_MODELS,
        "SQUAD_SERVICE_DEADLINE_S='-1'",
        env={"SQUAD_SERVICE_DEADLINE_S": "-1"},
    ),
    Bad(
        "deadline-not-a-number",
        CHECK_MODELS,
        "SQUAD_SERVICE_DEADLINE_S='soon'",
        env={"SQUAD_SERVICE_DEADLINE_S": "soon"},
    ),
    Bad(
        "environment-unknown", CHECK_MODELS, "SQUAD_ENVIRONMENT", env={"SQUAD_ENVIRONMENT": "moon"}
    ),
    Bad(
        "models-file-missing",
        CHECK_MODELS,
        "nowhere.yaml",
        env={"SQUAD_MODELS_FILE": "/nowhere.yaml"},
    ),
    Bad("root-missing", CHECK_MODELS, "/nowhere", env={"SQUAD_ROOT": "/nowhere"}),
    Bad(
        "prompt-label-unknown",
        ("eval", "gate", "triage", "--no-evidence"),
        "SQUAD_PROMPT_LABEL__TRIAGE=nolabel: triage has no label 'nolabel'",
        env={"SQUAD_PROMPT_LABEL__TRIAGE": "nolabel"},
    ),
    Bad(
        "prompt-label-of-an-unknown-prompt",
        ("eval", "gate", "triage", "--no-evidence"),
        "SQUAD_PROMPT_LABEL__NOSUCH",
        env={"SQUAD_PROMPT_LABEL__NOSUCH": "production"},
    ),
    Bad(
        "prompt-label-not-a-label-for-prompts-check",
        ("prompts", "check"),
        "SQUAD_PROMPT_LABEL__TRIAGE='Staging!': not a label name",
        env={"SQUAD_PROMPT_LABEL__TRIAGE": "Staging!"},
    ),
    Bad(
        "prompt-label-not-a-label-for-serve",
        SERVE,
        "SQUAD_PROMPT_LABEL__TRIAGE='staging\\nx': not a label name",
        env={"SQUAD_PROMPT_LABEL__TRIAGE": "staging\nx"},
    ),
    Bad(
        "prompt-label-too-long-for-gate",
        GATE,
        "SQUAD_PROMPT_LABEL__TRIAGE='" + "a" * 40 + "'...: not a label name",
        env={"SQUAD_PROMPT_LABEL__TRIAGE": "a" * 65},
    ),
    Bad(
        "deadline-infinite",
        CHECK_MODELS,
        "SQUAD_SERVICE_DEADLINE_S='inf'",
        env={"SQUAD_SERVICE_DEADLINE_S": "inf"},
    ),
    Bad(
        "host-too-long",
        CHECK_MODELS,
        "SQUAD_SERVICE_HOST=",
        env={"SQUAD_SERVICE_HOST": "h" * 300},
    ),
    Bad(
        "package-a-path",
        GATE,
        "SQUAD_PACKAGE='../evil'",
        env={"SQUAD_PACKAGE": "../evil"},
    ),
    Bad(
        "oversubscribe-not-a-switch",
        RUN,
        "SQUAD_EVAL_OVERSUBSCRIBE='abc'",
        env={"SQUAD_EVAL_OVERSUBSCRIBE": "abc"},
    ),
    Bad(
        "models-file-a-device",
        CHECK_MODELS,
        "/dev/zero: not a regular file",
        env={"SQUAD_MODELS_FILE": "/dev/zero"},
    ),
    Bad(
        "log-format-unknown",
        CHECK_MODELS,
        "SQUAD_LOG_FORMAT='xml'",
        env={"SQUAD_LOG_FORMAT": "xml"},
    ),
    Bad(
        "max-body-zero",
        CHECK_MODELS,
        "SQUAD_SERVICE_MAX_BODY_BYTES='0'",
        env={"SQUAD_SERVICE_MAX_BODY_BYTES": "0"},
    ),
    Bad(
        "max-json-depth-above-the-cap",
        CHECK_MODELS,
        "SQUAD_SERVICE_MAX_JSON_DEPTH='100000'",
        env={"SQUAD_SERVICE_MAX_JSON_DEPTH": "100000"},
    ),
    Bad(
        "concurrency-per-client-negative",
        CHECK_MODELS,
        "SQUAD_SERVICE_MAX_CONCURRENCY_PER_CLIENT='-3'",
        env={"SQUAD_SERVICE_MAX_CONCURRENCY_PER_CLIENT": "-3"},
    ),
    Bad(
        "shutdown-timeout-not-a-number",
        CHECK_MODELS,
        "SQUAD_SERVICE_SHUTDOWN_TIMEOUT_S='nan'",
        env={"SQUAD_SERVICE_SHUTDOWN_TIMEOUT_S": "nan"},
    ),
    Bad(
        "trusted-proxies-too-long",
        CHECK_MODELS,
        "SQUAD_SERVICE_TRUSTED_PROXIES=",
        env={"SQUAD_SERVICE_TRUSTED_PROXIES": "10.0.0.1," * 1000},
    ),
    Bad(
        "ready-when-degraded-not-a-switch",
        CHECK_MODELS,
        "SQUAD_SERVICE_READY_WHEN_DEGRADED='maybe'",
        env={"SQUAD_SERVICE_READY_WHEN_DEGRADED": "maybe"},
    ),
    Bad(
        "inference-log-enabled-not-a-switch",
        CHECK_MODELS,
        "SQUAD_INFERENCE_LOG_ENABLED='perhaps'",
        env={"SQUAD_INFERENCE_LOG_ENABLED": "perhaps"},
    ),
    Bad(
        "inference-log-url-too-long",
        CHECK_MODELS,
        "SQUAD_INFERENCE_LOG_URL=",
        env={"SQUAD_INFERENCE_LOG_URL": "sqlite:///" + "a" * 3000},
    ),
    Bad(
        "inference-log-url-not-a-database",
        ("inference-log", "migrate"),
        "SQUAD_INFERENCE_LOG_URL",
        env={"SQUAD_INFERENCE_LOG_URL": "not a url"},
    ),
    Bad(
        "inference-log-retention-infinite",
        CHECK_MODELS,
        "SQUAD_INFERENCE_LOG_RETENTION_DAYS='inf'",
        env={"SQUAD_INFERENCE_LOG_RETENTION_DAYS": "inf"},
    ),
    Bad(
        "inference-log-flush-interval-above-the-cap",
        CHECK_MODELS,
        "SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S='99999'",
        env={"SQUAD_INFERENCE_LOG_FLUSH_INTERVAL_S": "99999"},
    ),
    Bad(
        "inference-log-queue-zero",
        CHECK_MODELS,
        "SQUAD_INFERENCE_LOG_QUEUE_SIZE='0'",
        env={"SQUAD_INFERENCE_LOG_QUEUE_SIZE": "0"},
    ),
    Bad(
        "experiments-guardrail-check-zero",
        CHECK_MODELS,
        "SQUAD_EXPERIMENTS_GUARDRAIL_CHECK_S='0'",
        env={"SQUAD_EXPERIMENTS_GUARDRAIL_CHECK_S": "0"},
    ),
    Bad(
        "models-file-a-folder",
        CHECK_MODELS,
        "not a regular file (a folder)",
        env={"SQUAD_MODELS_FILE": "/etc"},
    ),
    Bad("root-a-file", CHECK_MODELS, "/etc/hostname", env={"SQUAD_ROOT": "/etc/hostname"}),
    Bad(
        "callers-file-missing-for-serve",
        ("serve", "--port", "0"),
        "SQUAD_CALLERS_FILE",
        env={"SQUAD_CALLERS_FILE": "/nowhere.yaml"},
    ),
    Bad(
        "package-not-importable",
        GATE,
        "package 'no_such_squad' cannot be imported (named by SQUAD_PACKAGE",
        env={"SQUAD_PACKAGE": "no_such_squad"},
    ),
    Bad(
        "allow-offline-only-not-a-switch",
        CHECK_MODELS,
        "SQUAD_SERVICE_ALLOW_OFFLINE_ONLY='maybe'",
        env={"SQUAD_SERVICE_ALLOW_OFFLINE_ONLY": "maybe"},
    ),
]
