"""The squad's AI features and the platform code they run on.

Capabilities live in one subpackage each (gateway, prompts, evals, observability,
features, and service when included); `cli` is a thin shell over them.
"""
