"""Bad prompt files: a new version (prompts/triage/v3.yaml), labels and the lock."""

from __future__ import annotations

from tests.library.bad_inputs.breaks import (
    CHECK_PROMPTS,
    GATE,
    LABELS,
    LOCK,
    V3,
    Bad,
    append,
    folder,
    new_version,
    replace,
    symlink,
    write,
)

_V3_GATE = (*GATE, "--version", "3")

PROMPT_FILES = [
    # a new version, v3
    Bad(
        "prompt-version-not-its-file-name",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml",
        new_version(("version: 3", "version: 4")),
    ),
    Bad(
        "prompt-name-not-its-folder",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml",
        new_version(("name: triage", "name: routing")),
    ),
    Bad(
        "prompt-unknown-field",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml:12: unknown field 'temprature'",
        new_version(("params:\n  temperature: 0", "temprature: 0\nparams:\n  temperature: 0")),
    ),
    Bad(
        "prompt-no-messages",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml:5: field 'messages'",
        write(V3, "name: triage\nversion: 3\ndescription: d\nmodel: triage\nmessages: []\n"),
    ),
    Bad(
        "prompt-role-unknown",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml",
        new_version(("role: system", "role: narrator")),
    ),
    Bad(
        "prompt-template-syntax-error",
        _V3_GATE,
        "prompts/triage/v3.yaml",
        new_version(("{{ body }}", "{{ body ")),
    ),
    Bad(
        "prompt-template-unknown-variable",
        _V3_GATE,
        "prompts/triage/v3.yaml",
        new_version(("{{ body }}", "{{ bodyy }}")),
    ),
    Bad(
        "prompt-input-schema-not-a-schema",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml",
        new_version(("input_schema:\n  type: object", "input_schema:\n  type: objet")),
    ),
    Bad(
        "prompt-a-list",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml",
        write(V3, "- name: triage\n"),
    ),
    Bad(
        "prompt-symlink-out-of-the-repo",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml: is a symlink that leads out of prompts/",
        symlink(V3, "/etc/hostname"),
    ),
    Bad("prompt-a-folder", CHECK_PROMPTS, "prompts/triage/v3.yaml", folder(V3)),
    Bad(
        "prompt-file-name-not-a-version",
        CHECK_PROMPTS,
        "prompts/triage/vthree.yaml",
        write("prompts/triage/vthree.yaml", "name: triage\n"),
    ),
    # prompts/labels.yaml
    Bad(
        "labels-a-list",
        CHECK_PROMPTS,
        "prompts/labels.yaml",
        write(LABELS, "- production\n"),
    ),
    Bad(
        "labels-label-name-with-spaces",
        CHECK_PROMPTS,
        "prompts/labels.yaml:11: field 'labels.triage.my label.[key]'",
        replace(LABELS, "    staging: 2\n", "    my label: 2\n"),
    ),
    Bad(
        "labels-history-not-a-list",
        CHECK_PROMPTS,
        "prompts/labels.yaml:12: field 'history'",
        replace(LABELS, "history: []", "history: yesterday"),
    ),
    Bad(
        "labels-unknown-top-level-key",
        CHECK_PROMPTS,
        "prompts/labels.yaml",
        append(LABELS, "owners: [ana]\n"),
    ),
    Bad(
        "labels-larger-than-the-cap",
        CHECK_PROMPTS,
        "prompts/labels.yaml: larger than the 1 MiB cap",
        append(LABELS, "# padding\n" * 120_000),
    ),
    Bad(
        "labels-a-folder",
        CHECK_PROMPTS,
        "prompts/labels.yaml: a folder where a file belongs",
        folder(LABELS),
    ),
    # prompts/prompts.lock
    Bad("lock-not-yaml", ("prompts", "check"), "prompts.lock:", write(LOCK, "a: [\n")),
    Bad("lock-a-list", ("prompts", "check"), "prompts.lock", write(LOCK, "- triage/v1.yaml\n")),
    Bad(
        "lock-duplicate-entry",
        ("prompts", "check"),
        "prompts.lock:5: invalid YAML: key 'triage/v1.yaml' appears twice",
        append(LOCK, "triage/v1.yaml: sha256:" + "0" * 64 + "\n"),
    ),
    Bad(
        "lock-symlink-out-of-the-repo",
        ("prompts", "check"),
        "prompts/prompts.lock: leads out of the repository",
        symlink(LOCK, "/etc/hostname"),
    ),
]
