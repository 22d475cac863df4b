"""Post the eval summary on the pull request, updating one comment in place.

The comment carries a hidden marker; a later run edits that comment instead of adding
another, so the PR shows one current report. Reads `GITHUB_TOKEN`, `GITHUB_REPOSITORY`,
`PR_NUMBER` and `GITHUB_API_URL` from the environment and the Markdown from the files
given as arguments (one summary per suite), joined in order.

A token without write access (a pull request from a fork) is not an error: the job
summary still has the report, so this prints a warning and exits 0. Under `act` (`ACT`
set) nothing is sent; the comment is printed instead.
Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MARKER = "<!-- squad-eval-report -->"
MAX_BODY = 60_000  # GitHub refuses comments over 65,536 characters.


def _request(method: str, url: str, token: str, payload: dict[str, str] | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(  # noqa: S310 - the URL is GitHub's API, from the runner
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def comment_body(markdown: str) -> str:
    if len(markdown) > MAX_BODY:
        markdown = markdown[:MAX_BODY] + "\n\n(truncated: the full report is in the artifacts)"
    return f"{MARKER}\n{markdown}"


def main(argv: list[str]) -> int:
    summaries = [Path(name) for name in argv[1:]]
    missing = [str(path) for path in summaries if not path.is_file()]
    if not summaries or missing:
        sys.stderr.write(
            f"error: no eval summary at {', '.join(missing) or '(none given)'}; "
            "did the gate run? usage: pr_comment.py SUMMARY.md [SUMMARY.md ...]\n"
        )
        return 2
    body = comment_body("\n\n".join(path.read_text(encoding="utf-8") for path in summaries))
    if os.environ.get("ACT"):
        sys.stdout.write(f"[act] would post or update the PR comment:\n{body}\n")
        return 0
    token = os.environ.get("GITHUB_TOKEN", "")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    number = os.environ.get("PR_NUMBER", "")
    if not (token and repository and number.isdigit()):
        sys.stderr.write("error: GITHUB_TOKEN, GITHUB_REPOSITORY and PR_NUMBER must be set\n")
        return 2
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    comments_url = f"{api}/repos/{repository}/issues/{number}/comments"
    try:
        existing = [
            comment
            for comment in _request("GET", f"{comments_url}?per_page=100", token)
            if MARKER in (comment.get("body") or "")
        ]
        if existing:
            _request("PATCH", existing[0]["url"], token, {"body": body})
            sys.stdout.write(f"updated {existing[0]['html_url']}\n")
        else:
            created = _request("POST", comments_url, token, {"body": body})
            sys.stdout.write(f"posted {created['html_url']}\n")
    except urllib.error.HTTPError as error:
        if error.code in {403, 404}:
            sys.stdout.write(
                f"::warning::could not comment on PR #{number} (HTTP {error.code}: the token "
                "cannot write here, e.g. a fork); the report is in the job summary\n"
            )
            return 0
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
