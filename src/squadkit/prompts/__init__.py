"""Prompt registry: versioned, immutable, locked prompts with labels and eval evidence.

    registry = PromptRegistry.load(settings.prompts_dir)
    rendered = registry.get("triage", label="production").render(ticket_inputs)
    completion = await gateway.acomplete_prompt(rendered)

Nothing here imports litellm: checking prompts stays fast.
"""

from ..calls import RenderedPrompt
from .authoring import diff_versions, new_version
from .check import check_prompts, lock_prompts
from .errors import (
    Problem,
    PromotionRefused,
    PromptCheckError,
    PromptFileError,
    PromptInputError,
    PromptNotFound,
    PromptRenderError,
)
from .evidence import Evidence, evidence_path, evidence_problems, read_evidence, write_evidence
from .hashing import content_hash, file_hash
from .labels import LabelMove, LabelsFile, read_labels
from .promotion import RegressionPolicy, ScoreChange, compare_with_served, promote, rollback
from .registry import DEFAULT_LABEL, PromptRegistry, scan_prompts
from .version import PromptSpec, PromptVersion

__all__ = [
    "DEFAULT_LABEL",
    "Evidence",
    "LabelMove",
    "LabelsFile",
    "Problem",
    "PromotionRefused",
    "PromptCheckError",
    "PromptFileError",
    "PromptInputError",
    "PromptNotFound",
    "PromptRegistry",
    "PromptRenderError",
    "PromptSpec",
    "PromptVersion",
    "RegressionPolicy",
    "RenderedPrompt",
    "ScoreChange",
    "check_prompts",
    "compare_with_served",
    "content_hash",
    "diff_versions",
    "evidence_path",
    "evidence_problems",
    "file_hash",
    "lock_prompts",
    "new_version",
    "promote",
    "read_evidence",
    "read_labels",
    "rollback",
    "scan_prompts",
    "write_evidence",
]
