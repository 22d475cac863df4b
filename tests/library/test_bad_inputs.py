"""The bad-input corpus of the library: every bad team file, setting, argument and request.

Each case is one record: what it breaks in a copy of the fixture squad, the command a user
then runs, the exit code it must end with and a fragment of the one-line message, which
must name the place (file:line, field or variable). Every case also asserts that nothing
was printed but that line (no traceback) and that no file of the squad changed. The
Copier answers' half of the corpus is `tests/template/test_answers.py`.

Commands run in-process through `squadkit.cli.main` (what the `squad` script calls), so the
corpus takes seconds; `tests/library/test_cli.py` runs the script itself for the contract.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from squadkit.cli import main
from tests.library.service.servicekit import AUTH, TICKET, running, settings_with
from tests.library.squad import ROOT as SQUAD
from tests.library.squad import copy_data

Break = Callable[[Path], None]
"""An edit of the squad's copy (its root given) that makes the input bad."""


def _nothing(_repo: Path) -> None:
    return None


def _replace(relative: str, old: str, new: str, count: int = 1) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} has no {old!r}: the case is stale"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return edit


def _write(relative: str, content: str | bytes) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        path.write_bytes(data)

    return edit


def _append(relative: str, text: str) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return edit


def _delete(relative: str) -> Break:
    return lambda repo: (repo / relative).unlink()


def _dataset_line(number: int, line: str) -> Break:
    def edit(repo: Path) -> None:
        path = repo / "evals" / "datasets" / "triage.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[number - 1] = line
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return edit


def _symlink(relative: str, target: str) -> Break:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return edit


def _append_bytes(relative: str, make: Callable[[], bytes]) -> Break:
    """Append what `make` builds (called at break time: a 20 MB case costs nothing unrun)."""

    def edit(repo: Path) -> None:
        with (repo / relative).open("ab") as file:
            file.write(make())

    return edit


def _both(*edits: Break) -> Break:
    def edit(repo: Path) -> None:
        for one in edits:
            one(repo)

    return edit


@dataclass(frozen=True)
class Bad:
    """One bad input: how to break the squad, what to run, how it must end."""

    name: str
    command: tuple[str, ...]
    says: str
    breaks: Break = _nothing
    env: dict[str, str] = field(default_factory=dict)
    exit: int = 2
    listing: bool = False  # `prompts check`: a count line, then one line per problem
    xfail: str | None = None


MODELS = "config/models.yaml"
OBSERVABILITY = "config/observability.yaml"
LABELS = "prompts/labels.yaml"
LOCK = "prompts/prompts.lock"
V2 = "prompts/triage/v2.yaml"
SUITE = "evals/triage.yaml"
DATASET = "evals/datasets/triage.jsonl"
BASELINE = "evals/baselines/triage.json"
EVIDENCE = "evals/evidence/triage/v2.json"
RECORDINGS = "evals/recordings/triage.jsonl"
EXPERIMENTS = "config/experiments.yaml"

CHECK_MODELS = ("models", "check")
HARVEST = ("harvest", "triage")
REVIEW = ("review", "triage")
CHECK_PROMPTS = ("prompts", "list")
GATE = ("eval", "gate", "triage", "--no-evidence")
RUN = ("eval", "run", "triage")
PROMOTE = ("prompts", "promote", "triage", "2", "--label", "production")

TEAM_FILES = [
    # config/models.yaml
    Bad("models-not-yaml", CHECK_MODELS, "models.yaml:", _write(MODELS, "aliases: [\n")),
    Bad("models-empty", CHECK_MODELS, "models.yaml", _write(MODELS, "")),
    Bad("models-a-list", CHECK_MODELS, "models.yaml", _write(MODELS, "- triage\n")),
    Bad("models-not-utf8", CHECK_MODELS, "models.yaml", _write(MODELS, b"aliases:\n\xff\n")),
    Bad(
        "models-duplicate-alias",
        CHECK_MODELS,
        "key 'triage' appears twice in one mapping (first on line 9)",
        _append(MODELS, "  triage:\n    deployments:\n      - model: local/triage-rules-v1\n"),
    ),
    Bad(
        "models-unknown-local-model",
        CHECK_MODELS,
        "local/nope-v9 is not a known local model",
        _replace(MODELS, "local/triage-rules-v1", "local/nope-v9"),
    ),
    Bad(
        "models-unknown-field",
        CHECK_MODELS,
        "timeout_seconds",
        _replace(MODELS, "timeout_s: 5", "timeout_seconds: 5"),
    ),
    Bad(
        "models-negative-timeout",
        CHECK_MODELS,
        "timeout_s",
        _replace(MODELS, "timeout_s: 5", "timeout_s: -5"),
    ),
    Bad(
        "models-no-deployments",
        CHECK_MODELS,
        "deployments",
        _replace(
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
        _replace(MODELS, "cooldown_s: 30", "cooldown_s: soon"),
    ),
    Bad(
        "models-file-missing",
        CHECK_MODELS,
        "models.yaml",
        _delete(MODELS),
    ),
    Bad(
        "models-judge-alias-missing",
        GATE,
        "judge",
        _replace(MODELS, "  judge:\n", "  grader:\n"),
    ),
    # config/observability.yaml
    Bad(
        "observability-bad-regex",
        GATE,
        "observability.yaml",
        _replace(OBSERVABILITY, "'A(?<=\\bA)KIA[0-9A-Z]{16}", "'[unclosed'  #"),
    ),
    Bad(
        "observability-not-yaml",
        GATE,
        "observability.yaml:",
        _write(OBSERVABILITY, "quality: {sample_rate: [\n"),
    ),
    Bad(
        "observability-rate-above-one",
        GATE,
        "sample_rate",
        _replace(OBSERVABILITY, "sample_rate: 0.1", "sample_rate: 7"),
    ),
    Bad(
        "observability-not-utf8",
        GATE,
        "observability.yaml",
        _write(OBSERVABILITY, b"quality:\n  \xff\n"),
    ),
    # prompts/labels.yaml
    Bad(
        "labels-version-not-a-number",
        CHECK_PROMPTS,
        "labels.yaml:10: field 'labels.triage.production'",
        _replace(LABELS, "production: 1", "production: one"),
    ),
    Bad(
        "labels-unknown-version",
        ("prompts", "check"),
        "labels.yaml:10: label triage:production points to v9, which does not exist",
        _replace(LABELS, "production: 1", "production: 9"),
        exit=1,
        listing=True,
    ),
    Bad("labels-not-yaml", CHECK_PROMPTS, "labels.yaml:", _write(LABELS, "labels: {triage: [\n")),
    Bad("labels-not-utf8", CHECK_PROMPTS, "labels.yaml: not UTF-8", _write(LABELS, b"\xff\n")),
    Bad(
        "labels-duplicate-label",
        CHECK_PROMPTS,
        "labels.yaml:12: invalid YAML: key 'production' appears twice",
        _replace(LABELS, "    staging: 2\n", "    staging: 2\n    production: 2\n"),
    ),
    Bad(
        "labels-gated-not-a-list",
        CHECK_PROMPTS,
        "gated_labels",
        _replace(LABELS, "gated_labels:\n- production\n- staging\n", "gated_labels: 3\n"),
    ),
    # prompts/prompts.lock
    Bad(
        "lock-bad-hash",
        ("prompts", "check"),
        "prompts.lock:3: entry 'triage/v1.yaml'",
        _replace(LOCK, "triage/v1.yaml: sha256:bf8a", "triage/v1.yaml: md5:bf8a"),
    ),
    Bad(
        "lock-not-utf8",
        ("prompts", "check"),
        "prompts.lock: not UTF-8",
        _write(LOCK, b"\xfe\xff\n"),
    ),
    Bad(
        "lock-tampered-prompt",
        ("prompts", "check"),
        "prompts/triage/v2.yaml: changed since it was locked",
        _replace(V2, "max_tokens: 400", "max_tokens: 401"),
        exit=1,
        listing=True,
    ),
    # prompt version files
    Bad(
        "prompt-not-yaml",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml:",
        _write("prompts/triage/v3.yaml", "name: [\n"),
    ),
    Bad(
        "prompt-not-utf8",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml: not UTF-8",
        _write("prompts/triage/v3.yaml", b"name: triage\n\xff\n"),
    ),
    Bad(
        "prompt-duplicate-key",
        CHECK_PROMPTS,
        "v3.yaml:72: invalid YAML: key 'model' appears twice",
        _write(
            "prompts/triage/v3.yaml",
            (SQUAD / V2).read_text().replace("version: 2", "version: 3") + "model: judge\n",
        ),
    ),
    Bad(
        "prompt-range-overflow",
        (*GATE, "--version", "3"),
        "prompts/triage/v3.yaml: messages[1]: too large: range() of 1,000,000,000,000 items",
        _write(
            "prompts/triage/v3.yaml",
            (SQUAD / V2)
            .read_text()
            .replace("version: 2", "version: 3")
            .replace("{{ body }}", "{% for i in range(10**12) %}x{% endfor %}{{ body }}"),
        ),
    ),
    # evals/triage.yaml (the suite)
    Bad("suite-not-yaml", GATE, "evals/triage.yaml:", _write(SUITE, "name: [\n")),
    Bad("suite-not-utf8", GATE, "evals/triage.yaml", _write(SUITE, b"name: triage\n\xff\n")),
    Bad(
        "suite-unknown-scorer-type",
        GATE,
        "evals/triage.yaml:",
        _replace(SUITE, "type: json_schema", "type: json_schemas"),
    ),
    Bad(
        "suite-repeats-above-the-cap",
        GATE,
        "repeats",
        _replace(SUITE, "repeats: 1 ", "repeats: 5000 "),
    ),
    Bad(
        "suite-threshold-of-an-unknown-scorer",
        GATE,
        "nosuch",
        _replace(SUITE, "    schema_valid: 1.0\n", "    schema_valid: 1.0\n    nosuch: 0.5\n"),
    ),
    Bad(
        "suite-dataset-missing",
        GATE,
        "datasets/nowhere.jsonl",
        _replace(SUITE, "dataset: datasets/triage.jsonl", "dataset: datasets/nowhere.jsonl"),
    ),
    Bad(
        "suite-dataset-outside-the-repo",
        GATE,
        "triage.yaml:18: field 'dataset': /etc/passwd leads out of the repository",
        _replace(SUITE, "dataset: datasets/triage.jsonl", "dataset: /etc/passwd"),
    ),
    Bad(
        "suite-unknown-feature",
        GATE,
        "nosuchfeature",
        _replace(SUITE, "target:\n  feature: triage", "target:\n  feature: nosuchfeature"),
    ),
    Bad(
        "suite-judge-alias-unknown",
        GATE,
        "alias",
        _replace(SUITE, "alias: judge", "alias: grader"),
    ),
    Bad(
        "suite-duplicate-key",
        GATE,
        "triage.yaml:77: invalid YAML: key 'dataset' appears twice",
        _append(SUITE, "dataset: datasets/triage.jsonl\n"),
    ),
    # evals/datasets/triage.jsonl
    Bad(
        "dataset-truncated-line",
        RUN,
        "datasets/triage.jsonl:27: not valid JSON",
        _dataset_line(27, '{"id": "x", "inputs": {'),
    ),
    Bad(
        "dataset-no-inputs",
        RUN,
        "datasets/triage.jsonl:3: field 'inputs'",
        _dataset_line(3, '{"id": "x"}'),
    ),
    Bad(
        "dataset-duplicate-id",
        RUN,
        "datasets/triage.jsonl:2: duplicate case id",
        _dataset_line(2, (SQUAD / DATASET).read_text().splitlines()[0]),
    ),
    Bad("dataset-not-utf8", RUN, "datasets/triage.jsonl", _write(DATASET, b'{"id": "\xff"}\n')),
    Bad("dataset-a-list-line", RUN, "datasets/triage.jsonl:5", _dataset_line(5, "[1, 2]")),
    Bad(
        "dataset-human-verdict-not-a-verdict",
        RUN,
        "datasets/triage.jsonl:4: field 'human': verdict of 'judge' is 0.5",
        _dataset_line(4, '{"id": "x", "inputs": {}, "human": {"judge": 0.5}}'),
    ),
    Bad(
        "dataset-human-label-of-a-scorer-no-judge",
        ("eval", "judge-agreement", "triage"),
        "datasets/triage.jsonl:6: field 'human.queue': suite 'triage' has no llm_judge",
        _dataset_line(
            6, (SQUAD / DATASET).read_text().splitlines()[5][:-1] + ', "human": {"queue": true}}'
        ),
    ),
    # baselines, evidence and recordings
    Bad("baseline-not-json", GATE, "baselines/triage.json", _write(BASELINE, "{not json")),
    Bad("baseline-not-utf8", GATE, "baselines/triage.json", _write(BASELINE, b"\xff\xfe")),
    Bad("baseline-wrong-schema", GATE, "baselines/triage.json", _write(BASELINE, '{"suite": 3}')),
    Bad(
        "evidence-not-json",
        PROMOTE,
        "evals/evidence/triage/v2.json: not valid JSON",
        _write(EVIDENCE, "{not json"),
        exit=1,  # a refused promotion, as for missing evidence
    ),
    Bad(
        "evidence-of-another-prompt-hash",
        PROMOTE,
        "triage",
        _replace(EVIDENCE, '"prompt_hash": "sha256:8b11', '"prompt_hash": "sha256:0000'),
        exit=1,
    ),
    Bad(
        "recordings-not-a-recording",
        GATE,
        "recordings/triage.jsonl:121: not a recording",
        _append(RECORDINGS, "not json\n"),
    ),
    Bad(
        "recordings-not-utf8",
        GATE,
        "recordings/triage.jsonl: not UTF-8",
        _write(RECORDINGS, b"\xff\n"),
    ),
    Bad(
        "recordings-missing",
        GATE,
        "record it with",
        _write(RECORDINGS, ""),
    ),
    Bad(
        "recordings-symlink-out-of-the-repo",
        GATE,
        "recordings/triage.jsonl: leads out of the repository",
        _symlink(RECORDINGS, "/dev/zero"),
    ),
    Bad(
        "recordings-line-of-20-mb",
        GATE,
        "recordings/triage.jsonl:121: longer than the 1 MiB cap for one line",
        _append_bytes(RECORDINGS, lambda: b'{"key": "' + b"a" * 20_000_000 + b'"}\n'),
    ),
    Bad(
        "recordings-line-100k-deep",
        GATE,
        "recordings/triage.jsonl:121: not a recording",
        _append_bytes(RECORDINGS, lambda: b"[" * 100_000 + b"]" * 100_000 + b"\n"),
    ),
    Bad(
        "recordings-negative-latency-and-free-cost",
        GATE,
        "not a recording: field 'response.latency_s'",
        _replace(RECORDINGS, '"latency_s":0.', '"latency_s":-5,"cost_usd":"free","x":0.', -1),
    ),
    Bad(
        "baseline-100k-deep",
        GATE,
        "baselines/triage.json: not a readable JSON report (nested too deeply)",
        _write(BASELINE, "[" * 100_000 + "]" * 100_000),
    ),
    Bad(
        "labels-version-a-boolean",
        CHECK_PROMPTS,
        "labels.yaml:10: field 'labels.triage.production'",
        _replace(LABELS, "production: 1", "production: true"),
    ),
    Bad(
        "labels-symlink-out-of-the-repo",
        CHECK_PROMPTS,
        "prompts/labels.yaml: leads out of the repository",
        _symlink(LABELS, "/etc/hostname"),
    ),
    Bad(
        "models-larger-than-the-cap",
        CHECK_MODELS,
        "config/models.yaml: larger than the 1 MiB cap",
        _append(MODELS, "# padding\n" * 120_000),
    ),
    Bad(
        "prompt-larger-than-the-cap",
        CHECK_PROMPTS,
        "prompts/triage/v3.yaml: larger than the 1 MiB cap",
        _write("prompts/triage/v3.yaml", "# padding\n" * 120_000),
    ),
    Bad(
        "models-timeout-infinite",
        CHECK_MODELS,
        "timeout_s",
        _replace(MODELS, "timeout_s: 5", "timeout_s: 1e309"),
    ),
    Bad(
        "models-api-base-a-file-url",
        CHECK_MODELS,
        "api_base",
        _replace(
            MODELS,
            "      - model: local/triage-rules-v1\n",
            "      - model: openai/gpt-4o-mini\n        api_base: file:///etc/passwd\n",
        ),
    ),
    Bad(
        "dataset-input-against-the-schema-live",
        (*RUN, "--mode", "live"),
        "datasets/triage.jsonl:3: field 'inputs.customer_tier': Input should be 'free'",
        _dataset_line(
            3,
            '{"id": "x", "inputs": {"subject": "s", "body": "b", "customer_tier": "platinum", '
            '"channel": "email"}, "expected": {"queue": "billing", "priority": "high"}}',
        ),
    ),
    Bad(
        "dataset-line-over-the-cap",
        RUN,
        "datasets/triage.jsonl:41: longer than the 1 MiB cap for one line",
        _append_bytes(DATASET, lambda: b'{"id": "' + b"a" * 2_000_000 + b'"}\n'),
    ),
    Bad(
        "evidence-symlink-out-of-the-repo",
        PROMOTE,
        "evals/evidence/triage/v2.json: leads out of the repository",
        _symlink(EVIDENCE, "/etc/hostname"),
    ),
    # config/experiments.yaml
    Bad(
        "experiments-not-yaml",
        ("prompts", "check"),
        "experiments.yaml:3: invalid YAML",
        _write(EXPERIMENTS, "experiments:\n  t: [\n"),
    ),
    Bad(
        "experiments-unknown-status",
        ("prompts", "check"),
        "experiments.yaml:5: experiment 't' field 'status': Input should be 'running' or",
        _write(
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
        "dotenv-not-utf8",
        ("info",),
        ".env: not UTF-8",
        _write(".env", b"SQUAD_LOG_LEVEL=\xff\xfe\x00\x01\n"),
    ),
]

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

CLI_ARGUMENTS = [
    Bad("repeats-above-the-cap", (*RUN, "--repeats", "100000"), "--repeats"),
    Bad("repeats-zero", (*RUN, "--repeats", "0"), "--repeats"),
    Bad("concurrency-above-the-cap", (*RUN, "--concurrency", "5000"), "--concurrency"),
    Bad("concurrency-not-a-number", (*RUN, "--concurrency", "many"), "--concurrency"),
    Bad("shard-empty", (*RUN, "--shard", ""), "--shard ''"),
    Bad("shard-beyond-its-count", (*RUN, "--shard", "3/2"), "--shard '3/2'"),
    Bad("shard-zero", (*RUN, "--shard", "0/2"), "--shard '0/2'"),
    Bad("workers-not-a-number", (*RUN, "--workers", "lots"), "--workers 'lots'"),
    Bad("workers-above-the-cores", (*RUN, "--workers", "999"), "--workers 999"),
    Bad("mode-unknown", (*RUN, "--mode", "guess"), "--mode 'guess'"),
    Bad("suite-unknown", ("eval", "run", "nosuite"), "nosuite"),
    Bad(
        "suite-a-path-out-of-evals",
        ("eval", "run", "../config/models"),
        "config/models.yaml: field 'target'",
    ),
    Bad("version-unknown", (*GATE, "--version", "9"), "9"),
    Bad("label-unknown", (*GATE, "--label", "nolabel"), "nolabel"),
    Bad("model-alias-unknown", (*GATE, "--model", "nosuchalias"), "nosuchalias"),
    Bad("gate-of-a-shard", (*GATE, "--shard", "1/2"), "No such option: --shard"),
    Bad("gate-of-two-arms", (*GATE, "--version", "1", "--version", "2"), "the gate checks one arm"),
    Bad("gate-report-missing", (*GATE, "--report", "nowhere.json"), "nowhere.json"),
    Bad("power-suite-unknown", ("eval", "power", "nosuite"), "no suite 'nosuite'"),
    Bad(
        "power-disagreement-not-a-share",
        ("eval", "power", "triage", "--disagreement", "2"),
        "--disagreement is a share of cases",
    ),
    Bad("power-margin-out-of-range", ("eval", "power", "triage", "--margin", "1.5"), "--margin"),
    Bad(
        "power-without-a-baseline",
        ("eval", "power", "triage"),
        "evals/baselines/triage.json: no baseline for suite 'triage'",
        _delete(BASELINE),
    ),
    Bad(
        "approve-report-missing",
        ("eval", "approve", "triage", "--report", "nowhere.json", "--by", "a", "--reason", "b"),
        "nowhere.json: report not found",
    ),
    Bad(
        "approve-an-ungated-report",
        ("eval", "approve", "triage", "--report", BASELINE, "--by", "a", "--reason", "b"),
        "evals/baselines/triage.json: field 'gate': not a gated report",
    ),
    Bad(
        "approve-without-a-reason",
        ("eval", "approve", "triage", "--report", BASELINE, "--by", "a", "--reason", " "),
        "an approval names who approves (--by) and why (--reason)",
    ),
    Bad("compare-reports-missing", ("eval", "compare", "a.json", "b.json"), "a.json"),
    Bad("merge-nothing", ("eval", "merge", "--out", "merged"), "Missing argument 'reports'"),
    Bad(
        "promote-unknown-prompt",
        ("prompts", "promote", "nosuch", "1", "--label", "production"),
        "nosuch",
    ),
    Bad(
        "promote-unknown-version",
        ("prompts", "promote", "triage", "9", "--label", "production"),
        "v9",
    ),
    Bad(
        "promote-version-not-a-number",
        ("prompts", "promote", "triage", "two", "--label", "production"),
        "two",
    ),
    Bad("promote-force-without-reason", (*PROMOTE, "--force"), "--reason"),
    Bad(
        "rollback-nothing-to-undo",
        ("prompts", "rollback", "triage", "--label", "production"),
        "production",
    ),
    Bad("new-prompt-bad-name", ("prompts", "new", "Bad-Name"), "Bad-Name"),
    Bad(
        "new-prompt-unknown-alias",
        ("prompts", "new", "summarise", "--model", "nope"),
        "--model nope",
    ),
    Bad("show-unknown-prompt", ("prompts", "show", "nosuch"), "nosuch"),
    Bad("diff-unknown-version", ("prompts", "diff", "triage", "1", "9"), "9"),
    Bad("max-error-share-above-one", (*RUN, "--max-error-share", "1.5"), "--max-error-share"),
    Bad("floors-of-an-unknown-suite", ("eval", "floors", "nosuite"), "nosuite"),
    Bad(
        "prompts-check-against-an-unknown-base",
        ("prompts", "check", "--base", "nosuchref"),
        "--base nosuchref",
    ),
    Bad("unknown-command", ("eval", "explode"), "explode"),
    Bad("unknown-option", (*RUN, "--turbo"), "--turbo"),
    Bad("new-prompt-name-of-300-characters", ("prompts", "new", "a" * 300), "a" * 300),
    Bad("out-unwritable", (*RUN, "--out", "/proc/squad-report"), "--out /proc/squad-report"),
    Bad("out-in-the-prompts-folder", (*RUN, "--out", "prompts"), "--out prompts"),
    Bad("out-in-the-evals-folder", (*RUN, "--out", "evals/reports"), "--out evals/reports"),
    Bad("serve-host-not-an-address", ("serve", "--host", "999.1.1.1"), "--host '999.1.1.1'"),
    Bad("harvest-since-not-a-date", (*HARVEST, "--since", "tuesday"), "--since 'tuesday'"),
    Bad(
        "harvest-below-not-a-number",
        (*HARVEST, "--below", "helpfulness=low"),
        "--below 'helpfulness=low'",
    ),
    Bad("harvest-an-unknown-suite", ("harvest", "nosuite"), "nosuite"),
    Bad(
        "harvest-review-folder-out-of-the-repo",
        HARVEST,
        "evals/review/triage.rejected.jsonl: leads out of the repository (to /etc/",
        breaks=_symlink("evals/review", "/etc"),
    ),
    Bad("review-two-actions", (*REVIEW, "--accept", "a", "--reject", "b"), "--accept and --reject"),
    Bad(
        "review-page-in-evals", (*REVIEW, "--html", "evals/review.html"), "--html evals/review.html"
    ),
    Bad(
        "review-page-unwritable",
        (*REVIEW, "--html", "/proc/review.html"),
        "--html /proc/review.html",
    ),
    Bad("review-answer-without-a-candidate", (*REVIEW, "--expected", "{}"), "--expected: goes"),
    Bad("review-no-such-candidate", (*REVIEW, "--accept", "0190", "--by", "ana"), "'0190'"),
    Bad(
        "review-decisions-not-json",
        (*REVIEW, "--apply", "decisions.json", "--by", "ana"),
        "decisions.json:1: not valid JSON",
        breaks=_write("decisions.json", "{oops"),
    ),
    Bad(
        "review-decisions-of-another-suite",
        (*REVIEW, "--apply", "decisions.json", "--by", "ana"),
        "decisions.json: field 'suite'",
        breaks=_write("decisions.json", '{"suite": "other", "decisions": []}'),
    ),
    Bad(
        "review-decision-unknown",
        (*REVIEW, "--apply", "decisions.json", "--by", "ana"),
        "field 'decisions.0.decision'",
        breaks=_write(
            "decisions.json",
            '{"suite": "triage", "decisions": [{"inference_id": "x", "decision": "maybe"}]}',
        ),
    ),
]


def _cases(category: str, cases: list[Bad]) -> list[object]:
    marks = {
        case.name: [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        for case in cases
    }
    return [
        pytest.param(case, id=f"{category}:{case.name}", marks=marks[case.name]) for case in cases
    ]


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file under `root` by content hash (the registry's self-ignoring cache aside)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".cache" not in path.parts
    }


@pytest.fixture
def squad_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = copy_data(tmp_path / "squad")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SQUAD_ROOT", str(repo))
    monkeypatch.delenv("SQUAD_MODELS_FILE", raising=False)
    return repo


@pytest.mark.parametrize(
    "case",
    _cases("team-file", TEAM_FILES) + _cases("setting", SETTINGS) + _cases("cli", CLI_ARGUMENTS),
)
def test_a_bad_input_is_one_line_naming_its_place_and_changes_nothing(
    case: Bad,
    squad_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case.breaks(squad_copy)
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    before = _fingerprint(squad_copy)
    out = tmp_path / "out"
    command = list(case.command)
    if command[:2] in (["eval", "run"], ["eval", "gate"]) and "--out" not in command:
        command += ["--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["squad", *command])

    with pytest.raises(SystemExit) as ended:  # anything else escaping is a traceback
        main()

    err = capsys.readouterr().err
    assert ended.value.code == case.exit, err
    lines = [line for line in err.splitlines() if line.strip()]
    if case.listing:  # "error: N prompt problems; ..." then each problem, file first
        assert lines[0].startswith("error: "), err
        assert all(line.lstrip().startswith(("prompts/", "evals/")) for line in lines[1:]), err
        assert any(case.says in line for line in lines[1:]), err
        assert _fingerprint(squad_copy) == before
        return
    # Click's usage errors come after two lines of usage; everything else is one line.
    message = [line for line in lines if not line.startswith(("Usage: ", "Try '"))]
    assert len(message) == 1, err
    assert message[0].lower().startswith("error:"), err
    assert case.says in message[0], err
    assert "Traceback" not in err
    assert _fingerprint(squad_copy) == before
    assert not out.exists()


def test_the_corpus_has_at_least_eighty_cases() -> None:
    assert len(TEAM_FILES) + len(SETTINGS) + len(CLI_ARGUMENTS) + len(API_REQUESTS) >= 80


# The service: a bad request is a problem document (RFC 9457) naming the field, never a 500.


@dataclass(frozen=True)
class BadRequest:
    name: str
    body: object = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/v1/triage"
    method: str = "POST"
    status: int = 422
    says: str = ""


API_REQUESTS = [
    BadRequest(
        "subject-missing", {k: v for k, v in TICKET.items() if k != "subject"}, says="subject"
    ),
    BadRequest("subject-empty", {**TICKET, "subject": ""}, says="subject"),
    BadRequest("subject-too-long", {**TICKET, "subject": "x" * 10_000}, says="subject"),
    BadRequest("body-not-a-string", {**TICKET, "body": 42}, says="body"),
    BadRequest("tier-unknown", {**TICKET, "customer_tier": "platinum"}, says="customer_tier"),
    BadRequest("channel-unknown", {**TICKET, "channel": "pigeon"}, says="channel"),
    BadRequest("unknown-field", {**TICKET, "urgency": "now"}, says="urgency"),
    BadRequest("a-list", [TICKET], says="body"),
    BadRequest(
        "not-json", content=b"{not json", headers={"content-type": "application/json"}, says="json"
    ),
    BadRequest(
        "empty-body", content=b"", headers={"content-type": "application/json"}, says="body"
    ),
    BadRequest("deeply-nested", {**TICKET, "body": json.loads("[" * 50 + "]" * 50)}, says="body"),
    BadRequest(
        "label-unknown",
        TICKET,
        headers={"X-Prompt-Label": "no-such-label"},
        says="unknown-prompt-label",
    ),
    BadRequest(
        "body-over-the-limit",
        content=b"x" * 2_000_000,
        headers={"content-type": "application/json"},
        status=413,
        says="",
    ),
    BadRequest("unknown-path", TICKET, path="/v1/nowhere", status=404, says=""),
    BadRequest("wrong-method", None, method="GET", status=405, says="use POST"),
    BadRequest("trace", None, method="TRACE", status=405, says="use POST"),
    BadRequest(
        "label-not-a-label", TICKET, headers={"X-Prompt-Label": "Staging!"}, says="x-prompt-label"
    ),
    BadRequest("body-over-the-prompt-limit", {**TICKET, "body": "x" * 20_001}, says="body"),
]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """The fixture squad's service (real uvicorn, its offline models) and a client of it."""
    with (
        running(settings_with()) as service,
        httpx.Client(base_url=service.base_url, headers=AUTH, timeout=30) as client,
    ):
        yield client


@pytest.mark.parametrize("request_", [pytest.param(r, id=f"api:{r.name}") for r in API_REQUESTS])
def test_a_bad_request_is_a_problem_naming_its_field(
    request_: BadRequest, http: httpx.Client
) -> None:
    before = _fingerprint(SQUAD)
    kwargs: dict[str, object] = {"headers": request_.headers}
    if request_.content is not None:
        kwargs["content"] = request_.content
    elif request_.body is not None:
        kwargs["json"] = request_.body

    response = http.request(request_.method, request_.path, **kwargs)  # type: ignore[arg-type]

    assert response.status_code == request_.status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == request_.status
    assert request_.says in json.dumps(problem)
    assert "Traceback" not in response.text
    assert _fingerprint(SQUAD) == before
