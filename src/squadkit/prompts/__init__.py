"""Prompt registry: versioned, immutable, locked prompts with labels and eval evidence.

    registry = PromptRegistry.load(settings.prompts_dir)
    rendered = registry.get("triage", label="production").render(ticket_inputs)
    completion = await gateway.acomplete_prompt(rendered)

Nothing here imports litellm: checking prompts stays fast.
"""

from ..calls import RenderedPrompt
from .authoring import diff_versions, new_version
from .check import check_prompts, input_limit_problems, lock_prompts
from .errors import (
    Problem,
    PromotionRefused,
    PromptCheckError,
    PromptInputError,
    PromptNotFound,
    PromptRenderError,
)
from .evidence import Evidence, evidence_path, evidence_problems, read_evidence, write_evidence
from .hashing import file_hash
from .input_limits import limit_differences
from .labels import LABEL_PATTERN, LabelsFile, is_label, read_labels
from .promotion import RegressionPolicy, compare_with_served, promote, rollback
from .registry import PromptRegistry, scan_prompts
from .version import PromptVersion

__all__ = [
    "LABEL_PATTERN",
    "Evidence",
    "LabelsFile",
    "Problem",
    "PromotionRefused",
    "PromptCheckError",
    "PromptInputError",
    "PromptNotFound",
    "PromptRegistry",
    "PromptRenderError",
    "PromptVersion",
    "RegressionPolicy",
    "RenderedPrompt",
    "check_prompts",
    "compare_with_served",
    "diff_versions",
    "evidence_path",
    "evidence_problems",
    "file_hash",
    "input_limit_problems",
    "is_label",
    "limit_differences",
    "lock_prompts",
    "new_version",
    "promote",
    "read_evidence",
    "read_labels",
    "rollback",
    "scan_prompts",
    "write_evidence",
]
