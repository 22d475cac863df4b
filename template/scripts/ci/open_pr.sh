#!/usr/bin/env bash
# Commit the work tree's changes on a branch and open (or update) one pull request.
# Reads what to open from reports/pr/: `branch`, `title` and `body.md`, written by the
# step before (`make promote`, `make template-update`, `make harvest`), and `add` if there:
# paths to add although .gitignore keeps them out (the harvest's candidates). Needs GH_TOKEN
# with contents and pull-requests write. Under act (ACT set) it only says what it would do.
set -euo pipefail

dir=reports/pr
branch=$(cat "$dir/branch")
title=$(cat "$dir/title")
body="$dir/body.md"

if [ -f "$dir/add" ]; then
    while IFS= read -r path; do
        [ -z "$path" ] || git add --force -- "$path"
    done < "$dir/add"
fi

if [ -z "$(git status --porcelain)" ]; then
    echo "nothing changed: no pull request to open"
    exit 0
fi
if [ -n "${ACT:-}" ]; then
    echo "[act] would push branch '$branch' and open the pull request '$title':"
    git status --short
    cat "$body"
    exit 0
fi

git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git switch --create "$branch"
git add --all
git commit --quiet --message "$title" --file "$body"
gh auth setup-git
git push --force origin "$branch"
if gh pr view "$branch" --json number >/dev/null 2>&1; then
    gh pr edit "$branch" --title "$title" --body-file "$body"
else
    gh pr create --head "$branch" --title "$title" --body-file "$body"
fi
