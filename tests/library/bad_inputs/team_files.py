"""Bad team files of config/ and prompts/ (and .env): YAML, encodings, fields, caps, links."""

from __future__ import annotations

from tests.library.bad_inputs.breaks import (
    CHECK_MODELS,
    CHECK_PROMPTS,
    DOTENV,
    GATE,
    LABELS,
    LOCK,
    MODELS,
    OBSERVABILITY,
    V2,
    Bad,
    append,
    delete,
    folder,
    replace,
    symlink,
    write,
)
from tests.library.squad import ROOT as SQUAD

CONFIG_FILES = [
    # config/models.yaml
    Bad("models-not-yaml", CHECK_MODELS, "models.yaml:", write(MODELS, "aliases: [\n")),
    Bad("models-empty", CHECK_MODELS, "models.yaml", write(MODELS, "")),
    Bad("models-a-list", CHECK_MODELS, "models.yaml", write(MODELS, "- triage\n")),
    Bad("models-not-utf8", CHECK_MODELS, "models.yaml", write(MODELS, b"aliases:\n\xff\n")),
    Bad(
        "models-duplicate-alias",
        CHECK_MODELS,
        "key 'triage' appears twice in one mapping (first on line 9)",
        append(MODELS, "  triage:\n    deployments:\n      - model: local/triage-rules-v1\n"),
    ),
    Bad(
        "models-unknown-local-model",
        CHECK_MODELS,
        "local/nope-v9 is not a known local model",
        replace(MODELS, "local/triage-rules-v1", "local/nope-v9"),
    ),
    Bad(
        "models-unknown-field",
        CHECK_MODELS,
        "timeout_seconds",
        replace(MODELS, "timeout_s: 5", "timeout_seconds: 5"),
    ),
    Bad(
        "models-negative-timeout",
        CHECK_MODELS,
        "timeout_s",
        replace(MODELS, "timeout_s: 5", "timeout_s: -5"),
    ),
    Bad(
        "models-no-deployments",
        CHECK_MODELS,
        "deployments",
        replace(
            MODELS,
            "    deployments:\n      - model: local/triage-rules-v1\n"
            "        timeout_s: 5\n        max_retries: 0\n",
            "    deployments: []\n",
        ),
    ),
    Bad(
        "models-routing-not-a-number",
        CHECK_MODELS,
        "cooldown_s",
        replace(MODELS, "cooldown_s: 30", "cooldown_s: soon"),
    ),
    Bad(
        "models-file-missing",
        CHECK_MODELS,
        "models.yaml",
        delete(MODELS),
    ),
    Bad(
        "models-judge-alias-missing",
        GATE,
        "judge",
        replace(MODELS, "  judge:\n", "  grader:\n"),
    ),
    # config/observability.yaml
    Bad(
        "observability-bad-regex",
        GATE,
        "observability.yaml",
        replace(OBSERVABILITY, "'A(?<=\\bA)KIA[0-9A-Z]{16}", "'[unclosed'  #"),
    ),
    Bad(
        "observability-not-yaml",
        GATE,
        "observability.yaml:",
        write(OBSERVABILITY, "quality: {sample_rate: [\n"),
    ),
    Bad(
        "observability-rate-above-one",
        GATE,
        "sample_rate",
        replace(OBSERVABILITY, "sample_rate: 0.1", "sample_rate: 7"),
    ),
    Bad(
        "observability-not-utf8",
        GATE,
        "observability.yaml",
        write(OBSERVABILITY, b"quality:\n  \xff\n"),
    ),
    # prompts/labels.yaml
    Bad(
        "labels-version-not-a-number",
        CHECK_PROMPTS,
        "labels.yaml:10: field 'labels.triage.production'",
        replace(LABELS, "production: 1", "production: one"),
    ),
    Bad(
        "labels-unknown-version",
        ("prompts", "check"),
        "labels.yaml:10: label triage:production points to v9, which does not exist",
        replace(LABELS, "production: 1", "production: 9"),
        exit=1,
        listing=True,
    ),
    Bad("labels-not-yaml", CHECK_PROMPTS, "labels.yaml:", write(LABELS, "labels: {triage: [\n")),
    Bad("labels-not-utf8", CHECK_PROMPTS, "labels.yaml: not UTF-8", write(LABELS, b"\xff\n")),
    Bad(
        "labels-duplicate-label",
        CHECK_PROMPTS,
        "labels.yaml:12: invalid YAML: key 'production' appears twice",
        replace(LABELS, "    staging: 2\n", "    staging: 2\n    production: 2\n"),
    ),
    Bad(
        "labels-gated-not-a-list",
        CHECK_PROMPTS,
        "gated_labels",
        replace(LABELS, "gated_labels:\n- production\n- staging\n", "gated_labels: 3\n"),
    ),
    # prompts/prompts.lock
    Bad(
        "lock-bad-hash",
        ("prompts", "check"),
        "prompts.lock:3: entry 'triage/v1.yaml'",
        replace(LOCK, "triage/v1.yaml: sha256:bf8a", "triage/v1.yaml: md5:bf8a"),
    ),
    Bad(
        "lock-not-utf8",
        ("prompts", "check"),
        "prompts.lock: not UTF-8",
        write(LOCK, b"\xfe\xff\n"),
    ),
    Bad(
        "lock-tampered-prompt",
        ("prompts", "check"),
        "prompts/triage/v2.yaml: changed since it was locked",
        replace(V2, "max_tokens: 400", "max_tokens: 401"),
        exit=1,
        listing=True,
    ),
    # prompt version files
    Bad(
        "prompt-not-yaml",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml:",
        write("prompts/triage/v3.yaml", "name: [\n"),
    ),
    Bad(
        "prompt-not-utf8",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml: not UTF-8",
        write("prompts/triage/v3.yaml", b"name: triage\n\xff\n"),
    ),
    Bad(
        "prompt-duplicate-key",
        CHECK_PROMPTS,
        "v3.yaml:72: invalid YAML: key 'model' appears twice",
        write(
            "prompts/triage/v3.yaml",
            (SQUAD / V2).read_text().replace("version: 2", "version: 3") + "model: judge\n",
        ),
    ),
    Bad(
        "prompt-range-overflow",
        (*GATE, "--version", "3"),
        "prompts/triage/v3.yaml: messages[1]: too large: range() of 1,000,000,000,000 items",
        write(
            "prompts/triage/v3.yaml",
            (SQUAD / V2)
            .read_text()
            .replace("version: 2", "version: 3")
            .replace("{{ body }}", "{% for i in range(10**12) %}x{% endfor %}{{ body }}"),
        ),
    ),
    Bad(
        "labels-version-a-boolean",
        CHECK_PROMPTS,
        "labels.yaml:10: field 'labels.triage.production'",
        replace(LABELS, "production: 1", "production: true"),
    ),
    Bad(
        "labels-symlink-out-of-the-repo",
        CHECK_PROMPTS,
        "prompts/labels.yaml: leads out of the repository",
        symlink(LABELS, "/etc/hostname"),
    ),
    Bad(
        "models-larger-than-the-cap",
        CHECK_MODELS,
        "config/models.yaml: larger than the 1 MiB cap",
        append(MODELS, "# padding\n" * 120_000),
    ),
    Bad(
        "prompt-larger-than-the-cap",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml: larger than the 1 MiB cap",
        write("prompts/triage/v3.yaml", "# padding\n" * 120_000),
    ),
    Bad(
        "models-timeout-infinite",
        CHECK_MODELS,
        "timeout_s",
        replace(MODELS, "timeout_s: 5", "timeout_s: 1e309"),
    ),
    Bad(
        "models-api-base-a-file-url",
        CHECK_MODELS,
        "api_base",
        replace(
            MODELS,
            "      - model: local/triage-rules-v1\n",
            "      - model: openai/gpt-4o-mini\n        api_base: file:///etc/passwd\n",
        ),
    ),
    Bad(
        "dotenv-not-utf8",
        ("info",),
        ".env: not UTF-8",
        write(".env", b"SQUAD_LOG_LEVEL=\xff\xfe\x00\x01\n"),
    ),
    # more of config/models.yaml
    Bad(
        "models-alias-name-with-spaces",
        CHECK_MODELS,
        "config/models.yaml:8: field 'aliases': alias 'the judge' must be lowercase",
        replace(MODELS, "  judge:\n", "  the judge:\n"),
    ),
    Bad(
        "models-model-without-a-provider",
        CHECK_MODELS,
        "models.yaml:12",
        replace(MODELS, "local/triage-rules-v1", "triage-rules-v1"),
    ),
    Bad(
        "models-retries-above-the-cap",
        CHECK_MODELS,
        "max_retries",
        replace(MODELS, "max_retries: 0", "max_retries: 1000000"),
    ),
    Bad(
        "models-allowed-fails-negative",
        CHECK_MODELS,
        "models.yaml:4: field 'routing.allowed_fails'",
        replace(MODELS, "allowed_fails: 3", "allowed_fails: -3"),
    ),
    Bad(
        "models-deadline-infinite",
        CHECK_MODELS,
        "models.yaml:6: field 'routing.deadline_s'",
        replace(MODELS, "deadline_s: 60", "deadline_s: .inf"),
    ),
    Bad(
        "models-key-variable-not-a-name",
        CHECK_MODELS,
        "api_key_env",
        replace(
            MODELS,
            "      - model: local/triage-rules-v1\n",
            "      - model: openai/gpt-4o-mini\n        api_key_env: 'my key!'\n",
        ),
    ),
    Bad(
        "models-unknown-top-level-key",
        CHECK_MODELS,
        "models.yaml",
        append(MODELS, "fallbacks: {triage: judge}\n"),
    ),
    Bad(
        "models-symlink-out-of-the-repo",
        CHECK_MODELS,
        "config/models.yaml: leads out of the repository",
        symlink(MODELS, "/etc/hostname"),
    ),
    Bad("models-a-folder", CHECK_MODELS, "config/models.yaml", folder(MODELS)),
    # more of config/observability.yaml
    Bad(
        "observability-unknown-scorer",
        GATE,
        "config/observability.yaml: quality.scorers: unknown scorer(s) vibes",
        replace(OBSERVABILITY, "scorers: [schema_valid,", "scorers: [vibes,"),
    ),
    Bad(
        "observability-window-zero",
        GATE,
        "config/observability.yaml:12: field 'drift.window'",
        replace(OBSERVABILITY, "window: 200", "window: 0"),
    ),
    Bad(
        "observability-length-min-above-max",
        GATE,
        "config/observability.yaml:8: field 'quality.length': min_chars is greater than",
        replace(OBSERVABILITY, "min_chars: 1,", "min_chars: 9000,"),
    ),
    Bad(
        "observability-unknown-key",
        GATE,
        "observability.yaml",
        append(OBSERVABILITY, "exporter: jaeger\n"),
    ),
    Bad(
        "observability-duplicate-key",
        GATE,
        "observability.yaml:29: invalid YAML: key 'drift' appears twice",
        append(OBSERVABILITY, "drift: {window: 5}\n"),
    ),
    Bad(
        "observability-symlink-out-of-the-repo",
        GATE,
        "config/observability.yaml: leads out of the repository",
        symlink(OBSERVABILITY, "/etc/hostname"),
    ),
    Bad(
        "observability-larger-than-the-cap",
        GATE,
        "config/observability.yaml: larger than the 1 MiB cap",
        append(OBSERVABILITY, "# padding\n" * 120_000),
    ),
    # .env
    Bad(
        "dotenv-setting-out-of-range",
        CHECK_MODELS,
        "SQUAD_SERVICE_PORT='70000'",
        write(DOTENV, "SQUAD_SERVICE_PORT=70000\n"),
    ),
    Bad(
        "dotenv-larger-than-the-cap",
        ("info",),
        ".env: larger than the 1 MiB cap",
        write(DOTENV, "# padding\n" * 120_000),
    ),
    Bad(
        "dotenv-symlink-out-of-the-repo",
        ("info",),
        ".env: leads out of the repository",
        symlink(DOTENV, "/etc/hostname"),
    ),
]
