"""Where in a YAML file a validation error points: shared by every config loader.

Pydantic reports an error's location as a path (`aliases.triage.deployments.0.timeout_s`);
users need a line number. Each loader composes the YAML node tree once and asks here.
"""

from typing import Any

import yaml


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node that `loc` reaches (best effort).

    A part that matches no key (a discriminated union's tag, say) leaves the walk on the
    current node, so the rest of the path can still narrow the line down.
    """
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def line_in_text(text: str, loc: tuple[Any, ...]) -> int | None:
    """`line_of` for YAML text that has not been composed yet (error paths only)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    return line_of(node, loc)
