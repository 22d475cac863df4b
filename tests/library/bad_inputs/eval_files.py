"""Bad files under evals/: suites, datasets, baselines, evidence and recordings."""

from __future__ import annotations

from tests.library.bad_inputs.breaks import (
    BASELINE,
    DATASET,
    EVIDENCE,
    GATE,
    PROMOTE,
    RECORDINGS,
    RUN,
    SUITE,
    Bad,
    append,
    append_bytes,
    dataset_line,
    folder,
    replace,
    symlink,
    write,
)
from tests.library.squad import ROOT as SQUAD

EVAL_FILES = [
    # evals/triage.yaml (the suite)
    Bad("suite-not-yaml", GATE, "evals/triage.yaml:", write(SUITE, "name: [\n")),
    Bad("suite-not-utf8", GATE, "evals/triage.yaml", write(SUITE, b"name: triage\n\xff\n")),
    Bad(
        "suite-unknown-scorer-type",
        GATE,
        "evals/triage.yaml:",
        replace(SUITE, "type: json_schema", "type: json_schemas"),
    ),
    Bad(
        "suite-repeats-above-the-cap",
        GATE,
        "repeats",
        replace(SUITE, "repeats: 1 ", "repeats: 5000 "),
    ),
    Bad(
        "suite-threshold-of-an-unknown-scorer",
        GATE,
        "nosuch",
        replace(SUITE, "    schema_valid: 1.0\n", "    schema_valid: 1.0\n    nosuch: 0.5\n"),
    ),
    Bad(
        "suite-dataset-missing",
        GATE,
        "datasets/nowhere.jsonl",
        replace(SUITE, "dataset: datasets/triage.jsonl", "dataset: datasets/nowhere.jsonl"),
    ),
    Bad(
        "suite-dataset-outside-the-repo",
        GATE,
        "triage.yaml:18: field 'dataset': /etc/passwd leads out of the repository",
        replace(SUITE, "dataset: datasets/triage.jsonl", "dataset: /etc/passwd"),
    ),
    Bad(
        "suite-unknown-feature",
        GATE,
        "nosuchfeature",
        replace(SUITE, "target:\n  feature: triage", "target:\n  feature: nosuchfeature"),
    ),
    Bad(
        "suite-judge-alias-unknown",
        GATE,
        "alias",
        replace(SUITE, "alias: judge", "alias: grader"),
    ),
    Bad(
        "suite-duplicate-key",
        GATE,
        "triage.yaml:77: invalid YAML: key 'dataset' appears twice",
        append(SUITE, "dataset: datasets/triage.jsonl\n"),
    ),
    # evals/datasets/triage.jsonl
    Bad(
        "dataset-truncated-line",
        RUN,
        "datasets/triage.jsonl:27: not valid JSON",
        dataset_line(27, '{"id": "x", "inputs": {'),
    ),
    Bad(
        "dataset-no-inputs",
        RUN,
        "datasets/triage.jsonl:3: field 'inputs'",
        dataset_line(3, '{"id": "x"}'),
    ),
    Bad(
        "dataset-duplicate-id",
        RUN,
        "datasets/triage.jsonl:2: duplicate case id",
        dataset_line(2, (SQUAD / DATASET).read_text().splitlines()[0]),
    ),
    Bad("dataset-not-utf8", RUN, "datasets/triage.jsonl", write(DATASET, b'{"id": "\xff"}\n')),
    Bad("dataset-a-list-line", RUN, "datasets/triage.jsonl:5", dataset_line(5, "[1, 2]")),
    # baselines, evidence and recordings
    Bad("baseline-not-json", GATE, "baselines/triage.json", write(BASELINE, "{not json")),
    Bad("baseline-not-utf8", GATE, "baselines/triage.json", write(BASELINE, b"\xff\xfe")),
    Bad("baseline-wrong-schema", GATE, "baselines/triage.json", write(BASELINE, '{"suite": 3}')),
    Bad(
        "evidence-not-json",
        PROMOTE,
        "evals/evidence/triage/v2.json: not valid JSON",
        write(EVIDENCE, "{not json"),
        exit=1,  # a refused promotion, as for missing evidence
    ),
    Bad(
        "evidence-of-another-prompt-hash",
        PROMOTE,
        "triage",
        replace(EVIDENCE, '"prompt_hash": "sha256:8b11', '"prompt_hash": "sha256:0000'),
        exit=1,
    ),
    Bad(
        "recordings-not-a-recording",
        GATE,
        "recordings/triage.jsonl:121: not a recording",
        append(RECORDINGS, "not json\n"),
    ),
    Bad(
        "recordings-not-utf8",
        GATE,
        "recordings/triage.jsonl: not UTF-8",
        write(RECORDINGS, b"\xff\n"),
    ),
    Bad(
        "recordings-missing",
        GATE,
        "record it with",
        write(RECORDINGS, ""),
    ),
    Bad(
        "recordings-symlink-out-of-the-repo",
        GATE,
        "recordings/triage.jsonl: leads out of the repository",
        symlink(RECORDINGS, "/dev/zero"),
    ),
    Bad(
        "recordings-line-of-20-mb",
        GATE,
        "recordings/triage.jsonl:121: longer than the 1 MiB cap for one line",
        append_bytes(RECORDINGS, lambda: b'{"key": "' + b"a" * 20_000_000 + b'"}\n'),
    ),
    Bad(
        "recordings-line-100k-deep",
        GATE,
        "recordings/triage.jsonl:121: not a recording",
        append_bytes(RECORDINGS, lambda: b"[" * 100_000 + b"]" * 100_000 + b"\n"),
    ),
    Bad(
        "recordings-negative-latency-and-free-cost",
        GATE,
        "not a recording: field 'response.latency_s'",
        replace(RECORDINGS, '"latency_s":0.', '"latency_s":-5,"cost_usd":"free","x":0.', -1),
    ),
    Bad(
        "baseline-100k-deep",
        GATE,
        "baselines/triage.json: not a readable JSON report (nested too deeply)",
        write(BASELINE, "[" * 100_000 + "]" * 100_000),
    ),
    Bad(
        "dataset-input-against-the-schema-live",
        (*RUN, "--mode", "live"),
        "datasets/triage.jsonl:3: field 'inputs.customer_tier': Input should be 'free'",
        dataset_line(
            3,
            '{"id": "x", "inputs": {"subject": "s", "body": "b", "customer_tier": "platinum", '
            '"channel": "email"}, "expected": {"queue": "billing", "priority": "high"}}',
        ),
    ),
    Bad(
        "dataset-line-over-the-cap",
        RUN,
        "datasets/triage.jsonl:41: longer than the 1 MiB cap for one line",
        append_bytes(DATASET, lambda: b'{"id": "' + b"a" * 2_000_000 + b'"}\n'),
    ),
    Bad(
        "evidence-symlink-out-of-the-repo",
        PROMOTE,
        "evals/evidence/triage/v2.json: leads out of the repository",
        symlink(EVIDENCE, "/etc/hostname"),
    ),
    # more of the suite
    Bad(
        "suite-concurrency-zero",
        GATE,
        "evals/triage.yaml:20: field 'concurrency'",
        replace(SUITE, "concurrency: 8 ", "concurrency: 0 "),
    ),
    Bad(
        "suite-two-scorers-of-one-name",
        GATE,
        "evals/triage.yaml",
        replace(SUITE, "  - name: priority\n", "  - name: queue\n"),
    ),
    Bad(
        "suite-regression-rule-unknown",
        GATE,
        "evals/triage.yaml:71: field 'gate.regression.rule'",
        replace(SUITE, "rule: non-inferiority", "rule: vibes"),
    ),
    Bad(
        "suite-confidence-above-one",
        GATE,
        "evals/triage.yaml:74: field 'gate.regression.confidence'",
        replace(SUITE, "confidence: 0.95", "confidence: 1.5"),
    ),
    Bad(
        "suite-resamples-zero",
        GATE,
        "evals/triage.yaml:75: field 'gate.regression.resamples'",
        replace(SUITE, "resamples: 2000", "resamples: 0"),
    ),
    Bad(
        "suite-length-min-above-max",
        GATE,
        "min_chars is greater than max_chars",
        replace(SUITE, "min_chars: 10", "min_chars: 1000"),
    ),
    Bad(
        "suite-matrix-label-unknown",
        ("eval", "run", "triage", "--matrix"),
        "prompts/labels.yaml: triage has no label 'nolabel'",
        replace(SUITE, "label: staging}", "label: nolabel}"),
    ),
    Bad(
        "suite-dataset-a-folder",
        GATE,
        "field 'dataset': evals/datasets is not a file",
        replace(SUITE, "dataset: datasets/triage.jsonl", "dataset: datasets"),
    ),
    Bad(
        "suite-dataset-symlink-out-of-the-repo",
        GATE,
        "field 'dataset': datasets/triage.jsonl leads out of the repository",
        symlink(DATASET, "/etc/hostname"),
    ),
    Bad(
        "suite-symlink-out-of-the-repo",
        GATE,
        "evals/triage.yaml: leads out of the repository",
        symlink(SUITE, "/etc/hostname"),
    ),
    Bad(
        "suite-larger-than-the-cap",
        GATE,
        "evals/triage.yaml: larger than the 1 MiB cap",
        append(SUITE, "# padding\n" * 120_000),
    ),
    # more of the dataset
    Bad("dataset-empty", RUN, "datasets/triage.jsonl", write(DATASET, "")),
    Bad(
        "dataset-id-a-number",
        RUN,
        "datasets/triage.jsonl:4: field 'id'",
        dataset_line(4, '{"id": 4, "inputs": {}}'),
    ),
    Bad(
        "dataset-expected-a-string",
        RUN,
        "datasets/triage.jsonl:6: field 'expected'",
        dataset_line(6, '{"id": "x", "inputs": {"subject": "s"}, "expected": "billing"}'),
    ),
    Bad(
        "dataset-line-100k-deep",
        RUN,
        "datasets/triage.jsonl:41",
        append_bytes(DATASET, lambda: b"[" * 100_000 + b"]" * 100_000 + b"\n"),
    ),
    Bad(
        "dataset-nan-in-a-line",
        RUN,
        "datasets/triage.jsonl:7",
        dataset_line(7, '{"id": "x", "inputs": {"subject": NaN}}'),
    ),
    # more of the baselines, evidence and recordings
    Bad("baseline-a-list", GATE, "baselines/triage.json", write(BASELINE, "[]")),
    Bad(
        "baseline-symlink-out-of-the-repo",
        GATE,
        "evals/baselines/triage.json: leads out of the repository",
        symlink(BASELINE, "/etc/hostname"),
    ),
    Bad("baseline-a-folder", GATE, "evals/baselines/triage.json", folder(BASELINE)),
    Bad(
        "evidence-wrong-schema",
        PROMOTE,
        "evals/evidence/triage/v2.json",
        write(EVIDENCE, '{"suite": 3}'),
        exit=1,
    ),
    Bad(
        "evidence-not-utf8",
        PROMOTE,
        "evals/evidence/triage/v2.json",
        write(EVIDENCE, b"\xff\xfe"),
        exit=1,
    ),
    Bad(
        "evidence-100k-deep",
        PROMOTE,
        "evals/evidence/triage/v2.json",
        write(EVIDENCE, "[" * 100_000 + "]" * 100_000),
        exit=1,
    ),
    Bad(
        "recordings-a-json-list-line",
        GATE,
        "recordings/triage.jsonl:121: not a recording",
        append(RECORDINGS, "[1, 2]\n"),
    ),
    Bad(
        "recordings-a-folder",
        GATE,
        "evals/recordings/triage.jsonl",
        folder(RECORDINGS),
    ),
    Bad(
        "dataset-human-verdict-not-a-verdict",
        RUN,
        "datasets/triage.jsonl:4: field 'human': verdict of 'judge' is 0.5",
        dataset_line(4, '{"id": "x", "inputs": {}, "human": {"judge": 0.5}}'),
    ),
    Bad(
        "dataset-human-label-of-a-scorer-no-judge",
        ("eval", "judge-agreement", "triage"),
        "datasets/triage.jsonl:6: field 'human.queue': suite 'triage' has no llm_judge",
        dataset_line(
            6, (SQUAD / DATASET).read_text().splitlines()[5][:-1] + ', "human": {"queue": true}}'
        ),
    ),
]
