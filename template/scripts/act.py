"""Run the repo's GitHub workflows on this machine with act: host mode, offline.

`make act` calls this. What it takes care of, so that a laptop with no Docker and no
access to GitHub runs exactly the CI that gates a merge:

- host mode (`-P ubuntu-latest=-self-hosted`): steps run on this machine with its `uv`;
  without `-P`, act asks for an image on a terminal and dies without one;
- `ACT_DISABLE_VERSION_CHECK=1` and `--no-cache-server`: no network call of act's own;
- every remote action except `actions/checkout` (act replaces that one with a copy of the
  work tree) is cloned while a job is set up, before any `if:` is evaluated, so each one
  is mapped with `--local-repository` to a stub written under `.cache/act/`: a no-op for
  tool-chain installers (the workflows skip them when `ACT` is set), and a local folder
  standing in for the artifact store for `actions/upload-artifact` and
  `actions/download-artifact`, so the eval shards still reach the merge and the gate;
- a `pull_request` event's `base.sha` is where HEAD left `ACT_BASE` (default `main`), so
  the eval plan gates what the branch changed, as on GitHub;
- a secret reaches the workflow only when named (`--secret NAME`, or `ACT_SECRETS`), its
  value taken from this environment (e.g. `SQUAD_INFERENCE_LOG_URL` for `harvest.yml`).

act runs what is committed plus the work tree as it is (git-ignored files excepted).
Exit code: act's (non-zero when any job failed), 2 when act cannot start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CACHE = ROOT / ".cache" / "act"
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?([\w.-]+)/([\w.-]+)((?:/[^@\s'\"]+)?)@([^\s'\"#]+)")

NOOP = """\
name: act stub
description: Stands in for {action} under act; the workflow skips it when ACT is set.
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "act stub for {action}"
"""

UPLOAD = """\
name: upload-artifact (act stub)
description: Copies the artifact into a local folder that download-artifact reads.
inputs:
  name:
    default: artifact
  path:
    required: true
  if-no-files-found:
    default: warn
  retention-days:
    default: "0"
runs:
  using: composite
  steps:
    - shell: python3 {{0}}
      env:
        STORE: {store}
        NAME: ${{{{ inputs.name }}}}
        SOURCES: ${{{{ inputs.path }}}}
        MISSING: ${{{{ inputs.if-no-files-found }}}}
      run: |
        # Like upload-artifact: several paths are stored relative to their common parent.
        import os, shutil, sys
        from pathlib import Path
        lines = os.environ["SOURCES"].splitlines()
        sources = [Path(line.strip()) for line in lines if line.strip()]
        found = [path for path in sources if path.exists()]
        name = os.environ["NAME"]
        if not found:
            print(f"no files at {{', '.join(map(str, sources))}} for artifact {{name}}")
            sys.exit(1 if os.environ["MISSING"] == "error" else 0)
        if len(found) == 1:
            root = found[0] if found[0].is_dir() else found[0].parent
        else:
            root = Path(os.path.commonpath([p.absolute() for p in found]))
        target = Path(os.environ["STORE"]) / name
        for path in found:
            if path.is_dir():
                destination = target / path.absolute().relative_to(root.absolute())
                shutil.copytree(path, destination, dirs_exist_ok=True)
            else:
                destination = target / path.absolute().relative_to(root.absolute())
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
        print(f"artifact {{name}} stored in {{target}}")
"""

DOWNLOAD = """\
name: download-artifact (act stub)
description: Copies artifacts back from the local folder upload-artifact wrote.
inputs:
  name:
    default: ""
  pattern:
    default: ""
  path:
    default: "."
  merge-multiple:
    default: "false"
runs:
  using: composite
  steps:
    - shell: bash
      env:
        STORE: {store}
        NAME: ${{{{ inputs.name }}}}
        PATTERN: ${{{{ inputs.pattern }}}}
        DEST: ${{{{ inputs.path }}}}
        MERGE: ${{{{ inputs.merge-multiple }}}}
      run: |
        mkdir -p "$DEST"
        if [ -n "$NAME" ]; then
          [ -d "$STORE/$NAME" ] || {{ echo "artifact $NAME not found"; exit 1; }}
          cp -R "$STORE/$NAME"/. "$DEST"/
          exit 0
        fi
        shopt -s nullglob
        for found in "$STORE"/${{PATTERN:-*}}; do
          if [ "$MERGE" = true ]; then target="$DEST"; else target="$DEST/$(basename "$found")"; fi
          mkdir -p "$target"
          cp -R "$found"/. "$target"/
          echo "artifact $(basename "$found") -> $target"
        done
"""


def remote_actions(workflows: list[Path]) -> set[tuple[str, str, str, str]]:
    """(owner, repo, subpath, ref) of every remote action the workflows use."""
    found = set()
    for workflow in workflows:
        for line in workflow.read_text(encoding="utf-8").splitlines():
            match = USES.match(line)
            if match and match.group(1) != ".":
                found.add((match.group(1), match.group(2), match.group(3), match.group(4)))
    return found


def write_stubs(actions: set[tuple[str, str, str, str]], store: Path) -> list[str]:
    """Write a stub per action; return act's --local-repository arguments."""
    arguments = []
    for owner, repo, subpath, ref in sorted(actions):
        if (owner, repo) == ("actions", "checkout"):
            continue  # act copies the work tree instead
        folder = CACHE / "stubs" / owner / repo / ref
        action = f"{owner}/{repo}{subpath}"
        template = {"upload-artifact": UPLOAD, "download-artifact": DOWNLOAD}.get(repo, NOOP)
        text = template.format(action=action, store=json.dumps(str(store)))
        target = folder / subpath.strip("/")
        target.mkdir(parents=True, exist_ok=True)
        (target / "action.yml").write_text(text, encoding="utf-8")
        arguments += ["--local-repository", f"{owner}/{repo}@{ref}={folder}"]
    return arguments


def base_commit(ref: str) -> str:
    """Where HEAD's branch left `ref` (`git merge-base`), as a pull request's base.sha;
    empty when there is none (then the eval plan gates each suite's target)."""
    result = subprocess.run(  # noqa: S603
        ["git", "merge-base", "HEAD", ref],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def event_file(event: str, inputs: dict[str, str]) -> Path:
    """A minimal event payload: enough for `github.event.pull_request.*` expressions, and
    the `inputs` of a workflow_dispatch (act reads them from here, not from `--input`)."""
    payload: dict[str, object] = {"inputs": inputs} if inputs else {}
    if event == "pull_request":
        base = os.environ.get("ACT_BASE", "main")
        payload = {
            "number": 1,
            "pull_request": {
                "number": 1,
                "head": {"ref": "act"},
                "base": {"ref": base, "sha": base_commit(base)},
            },
        }
    path = CACHE / f"{event}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflows", nargs="*", default=["ci"], help="e.g. ci evals")
    parser.add_argument("--event", default="pull_request")
    parser.add_argument("--job", help="run only this job (and the jobs it needs)")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a workflow_dispatch input (repeat for each; default: $ACT_INPUTS, space-separated)",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this environment variable as a secret (default: $ACT_SECRETS, space-separated)",
    )
    parser.add_argument("--act", default=os.environ.get("ACT_BIN", "act"))
    options = parser.parse_args(argv)

    act = shutil.which(options.act)
    if act is None:
        sys.stderr.write("error: act not found; run `make setup` (act-bin is a dev dependency)\n")
        return 2
    workflows = [WORKFLOWS / f"{name.removesuffix('.yml')}.yml" for name in options.workflows]
    given = options.input or os.environ.get("ACT_INPUTS", "").split()
    malformed = [value for value in given if "=" not in value]
    if malformed:
        sys.stderr.write(f"error: --input {malformed[0]!r}: expected NAME=VALUE\n")
        return 2
    inputs = dict(value.split("=", 1) for value in given)
    secrets = options.secret or os.environ.get("ACT_SECRETS", "").split()
    unset = [name for name in secrets if name not in os.environ]
    if unset:
        sys.stderr.write(f"error: secret {unset[0]}: not set in the environment; export it first\n")
        return 2
    missing = [str(path.relative_to(ROOT)) for path in workflows if not path.is_file()]
    if missing:
        sys.stderr.write(f"error: no such workflow: {', '.join(missing)}\n")
        return 2

    shutil.rmtree(CACHE, ignore_errors=True)
    store = CACHE / "artifacts"
    store.mkdir(parents=True)
    stubs = write_stubs(remote_actions(workflows), store)
    # The jobs create their own .venv in act's copy of the work tree: do not let them
    # share (or clobber) the caller's environment.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_ACTIVE"}
    }
    env["ACT_DISABLE_VERSION_CHECK"] = "1"
    env["UV_NO_PROGRESS"] = "1"  # act gives steps a terminal; keep logs readable
    status = 0
    for workflow in workflows:
        command = [
            act,
            options.event,
            "--workflows", str(workflow),
            "--eventpath", str(event_file(options.event, inputs)),
            "-P", "ubuntu-latest=-self-hosted",
            "--no-cache-server",
            *stubs,
            *(argument for name in secrets for argument in ("--secret", name)),
            *(["--job", options.job] if options.job else []),
        ]  # fmt: skip
        sys.stderr.write(f"act: {workflow.relative_to(ROOT)} on {options.event}\n")
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
