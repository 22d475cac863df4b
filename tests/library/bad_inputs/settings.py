"""Bad settings: environment variables the library reads."""

from __future__ import annotations

from tests.library.bad_inputs.breaks import (
    CHECK_MODELS,
    GATE,
    RUN,
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
]
