"""Bad files of the service: config/callers.yaml, config/feedback.yaml, config/experiments.yaml.

`squad serve` reads both before it binds: a broken one is a one-line refusal at start-up,
never a traceback from inside uvicorn's worker.
"""

from __future__ import annotations

from tests.library.bad_inputs.breaks import (
    CALLERS,
    EXPERIMENTS,
    FEEDBACK,
    LIST_CALLERS,
    SERVE,
    Bad,
    append,
    folder,
    replace,
    symlink,
    write,
)

_HASH = "d9a678b5021b797563d76db80566509c3668b880078dade8c3267397ecf3c2ed"

SERVICE_FILES = [
    # config/callers.yaml
    Bad(
        "callers-not-yaml",
        LIST_CALLERS,
        "error: config/callers.yaml:2: invalid YAML",
        write(CALLERS, "callers: {a: [\n"),
    ),
    Bad("callers-not-utf8", LIST_CALLERS, "callers.yaml: not UTF-8", write(CALLERS, b"\xff\n")),
    Bad("callers-a-list", LIST_CALLERS, "callers.yaml", write(CALLERS, "- test-platform\n")),
    Bad(
        "callers-hash-not-sha256",
        LIST_CALLERS,
        "config/callers.yaml: caller 'test-platform': token_sha256 must be 64 hex digits",
        replace(CALLERS, f"token_sha256: {_HASH}", "token_sha256: abc"),
    ),
    Bad(
        "callers-unknown-scope",
        LIST_CALLERS,
        "config/callers.yaml: caller 'test-triage-only': unknown scope 'everything'",
        replace(CALLERS, "scopes: [triage]\n", "scopes: [everything]\n"),
    ),
    Bad(
        "callers-duplicate-caller",
        LIST_CALLERS,
        "error: config/callers.yaml:19: invalid YAML: key 'test-platform' appears twice",
        append(CALLERS, f"  test-platform:\n    token_sha256: {_HASH}\n    scopes: [docs]\n"),
    ),
    Bad(
        "callers-revoked-not-a-boolean",
        LIST_CALLERS,
        "config/callers.yaml: caller 'test-revoked': revoked must be true or false",
        replace(CALLERS, "    revoked: true", "    revoked: perhaps"),
    ),
    Bad(
        "callers-symlink-out-of-the-repo",
        LIST_CALLERS,
        "config/callers.yaml: leads out of the repository",
        symlink(CALLERS, "/etc/hostname"),
    ),
    Bad(
        "callers-larger-than-the-cap",
        LIST_CALLERS,
        "config/callers.yaml: larger than the 1 MiB cap",
        append(CALLERS, "# padding\n" * 120_000),
    ),
    Bad("callers-a-folder", LIST_CALLERS, "config/callers.yaml", folder(CALLERS)),
    Bad("serve-callers-not-yaml", SERVE, "callers.yaml:", write(CALLERS, "callers: {a: [\n")),
    Bad(
        "callers-file-a-device",
        LIST_CALLERS,
        "/dev/zero: not a regular file",
        env={"SQUAD_CALLERS_FILE": "/dev/zero"},
    ),
    # config/feedback.yaml (read by the service only)
    Bad("feedback-not-yaml", SERVE, "feedback.yaml:", write(FEEDBACK, "metrics: {a: [\n")),
    Bad("feedback-not-utf8", SERVE, "feedback.yaml: not UTF-8", write(FEEDBACK, b"\xff\n")),
    Bad(
        "feedback-unknown-kind",
        SERVE,
        "feedback.yaml:7: field 'metrics.correct.kind': Input should be 'boolean'",
        replace(FEEDBACK, "kind: boolean", "kind: vibes"),
    ),
    Bad(
        "feedback-number-min-above-max",
        SERVE,
        "feedback.yaml:9: field 'metrics.helpfulness': `min` is greater than `max`",
        replace(FEEDBACK, "min: 1\n", "min: 9\n"),
    ),
    Bad(
        "feedback-category-without-values",
        SERVE,
        "field 'metrics.reason'",
        replace(FEEDBACK, "    values: [wrong-queue, wrong-priority, other]\n", ""),
    ),
    Bad(
        "feedback-symlink-out-of-the-repo",
        SERVE,
        "config/feedback.yaml: leads out of the repository",
        symlink(FEEDBACK, "/etc/hostname"),
    ),
    Bad(
        "feedback-larger-than-the-cap",
        SERVE,
        "config/feedback.yaml: larger than the 1 MiB cap",
        append(FEEDBACK, "# padding\n" * 120_000),
    ),
    Bad(
        "experiments-not-yaml",
        ("prompts", "check"),
        "experiments.yaml:3: invalid YAML",
        write(EXPERIMENTS, "experiments:\n  t: [\n"),
    ),
    Bad(
        "experiments-unknown-status",
        ("prompts", "check"),
        "experiments.yaml:5: experiment 't' field 'status': Input should be 'running' or",
        write(
            EXPERIMENTS,
            "experiments:\n  t:\n    prompt: triage\n    label: production\n"
            "    status: paused\n    arms: {v1: {version: 1, weight: 1}, v2: {version: 2, "
            "weight: 1}}\n    primary: {feedback: correct}\n",
        ),
    ),
    Bad(
        "experiments-report-unknown-name",
        ("experiments", "report", "nope"),
        "config/experiments.yaml: no experiment 'nope' (experiments: (none))",
    ),
    Bad(
        "experiments-stop-unknown-name",
        ("experiments", "stop", "nope", "--reason", "done"),
        "config/experiments.yaml: no experiment 'nope' (experiments: (none))",
    ),
    Bad(
        "experiments-stop-unknown-winner",
        ("experiments", "stop", "t", "--reason", "done", "--winner", "v9"),
        "config/experiments.yaml: experiment 't' has no arm 'v9' (arms: v1, v2)",
        write(
            EXPERIMENTS,
            "experiments:\n  t:\n    prompt: triage\n    label: production\n"
            "    status: running\n    arms: {v1: {version: 1, weight: 1}, v2: {version: 2, "
            "weight: 1}}\n    primary: {feedback: correct}\n",
        ),
    ),
    Bad(
        "experiments-stop-empty-reason",
        ("experiments", "stop", "nope", "--reason", " "),
        "--reason: say why the experiment stops",
    ),
    Bad(
        "experiments-symlink-out-of-the-repo",
        ("prompts", "check"),
        "config/experiments.yaml: leads out of the repository",
        symlink(EXPERIMENTS, "/etc/hostname"),
    ),
    Bad(
        "experiments-not-utf8",
        ("prompts", "check"),
        "config/experiments.yaml: not UTF-8 text",
        write(EXPERIMENTS, b"experiments:\n  \xff\n"),
    ),
]
