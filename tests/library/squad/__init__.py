"""The fixture squad: the code and data of a small squad repo that squadkit's tests run on.

The library's tests never read a real squad's files. This folder is one squad repo in
miniature, seen through the seams a squad uses (`squadkit.plugins`):

- the package `tests.library.squad` (`SQUAD_PACKAGE`, set in `tests/library/conftest.py`):
  `features/triage.py` its triage feature (`FEATURE`), `routes/` its service operation
  `POST /v1/triage`, `offline/` its offline models (`local/triage-rules-v1`, the model its
  recordings were made with, and two probes: squadkit ships no triage model);
- the data a squad owns, as `Settings.root`: `config/` (the offline `local` models, and
  `callers.yaml`: three service callers whose test-only tokens are in
  `tests/library/service/servicekit.py`),
  `prompts/` (triage v1 and v2, labels, lock), `evals/` (the suite of the triage feature
  on a 40-case subset of the template's dataset, its recordings, baseline and evidence) and
  `contracts/openapi.json` (the contract of this package's routes).

After a change to the offline models, the prompts, the dataset or the routes, regenerate the
derived files the way a squad does (from the repository root):

    cd tests/library/squad
    SQUAD_PACKAGE=tests.library.squad PYTHONPATH=../../.. ../../../.venv/bin/squad \
        eval refresh triage --out /tmp/refresh
    SQUAD_PACKAGE=tests.library.squad PYTHONPATH=../../.. \
        ../../../.venv/bin/python -m squadkit.service.contract write

While they are stale, `test_refresh_with_nothing_changed_leaves_evals_untouched` (evals) and
`test_committed_contract_matches_the_app` (service) fail and say so.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
"""The fixture squad's repository root: the `Settings.root` of the tests that need one."""

COMMAND = str(Path(sys.executable).with_name("squad"))
"""This environment's `squad` console script, for tests that run it as a user would."""


def copy_data(destination: Path) -> Path:
    """Copy the squad's `config/`, `prompts/` and `evals/` into `destination` (returned)."""
    for folder in ("config", "prompts", "evals"):
        shutil.copytree(ROOT / folder, destination / folder)
    return destination
