"""Load YAML while keeping the line and column of every node, and refuse duplicate keys.

PyYAML's safe loader throws the positions away and lets a later duplicate key silently win.
Here the document is composed into nodes first, then built into plain Python values, recording
the position of each value and each key, so validation can point at the exact node that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import Problem

__all__ = ["Document", "Path", "load_yaml"]

Path = tuple[str | int, ...]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass
class Document:
    """A loaded YAML file: its values, and the position of each value and key by path."""

    file: str
    data: Any
    value_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    block_scalars: dict[Path, tuple[int, int]] = field(default_factory=dict)
    text: str = ""

    def raw_block(self, path: Path) -> str:
        """Return a block scalar's lines as written in the file, before YAML folds or unindents them."""
        first, end = self.block_scalars[path]
        return "\n".join(self.text.splitlines()[first - 1 : end])

    def position(self, path: Path, prefer_key: bool = False) -> tuple[int, int]:
        """Return the 1-based (line, column) of the node at `path`, or of its nearest parent."""
        marks = (self.key_marks, self.value_marks) if prefer_key else (self.value_marks, self.key_marks)
        probe = tuple(path)
        while True:
            for table in marks:
                if probe in table:
                    return table[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def problem(self, path: Path, message: str, prefer_key: bool = False) -> Problem:
        line, column = self.position(path, prefer_key)
        return Problem(self.file, line, column, message)


class _Builder:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.document.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.style in ("|", ">"):
            # A block scalar's text starts on the line after its indicator.
            self.document.block_scalars[path] = (node.start_mark.line + 2, node.end_mark.line)
        if node.tag == _TIMESTAMP_TAG:
            # Dates stay text: recipes parse them with an explicit zone, never YAML's guess.
            return node.value
        return self._scalars.construct_object(node, deep=True)

    def _build_mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        self._scalars.flatten_mapping(node)
        result: dict[str, Any] = {}

        for key_node, value_node in node.value:
            key = self._scalars.construct_object(key_node)
            # YAML's true and 1 are equal in Python; keep booleans as their YAML text so they stay distinct keys.
            if isinstance(key, bool):
                key = str(key).lower()
            elif not isinstance(key, (str, int)):
                key = str(key)
            key_path = path + (key,)
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1

            if key in result:
                first_line = self.document.key_marks[key_path][0]
                self.problems.append(
                    Problem(self.document.file, line, column, f"duplicate key '{key}' (first defined on line {first_line}); remove one of them")
                )
                continue

            self.document.key_marks[key_path] = (line, column)
            result[key] = self.build(value_node, key_path)

        return result


def load_yaml(text: str, file: str) -> tuple[Document, list[Problem]]:
    """Parse `text` into a Document; problems lists YAML syntax errors and duplicate keys.

    On a syntax error the document's data is None and the problem carries the error's position.
    """
    document = Document(file=file, data=None, text=text)

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = error.problem or error.context or "invalid YAML"
        return document, [Problem(file, line, column, f"YAML syntax error: {what}")]
    except yaml.YAMLError as error:
        return document, [Problem(file, 1, 1, f"YAML syntax error: {error}")]

    if node is None:
        return document, [Problem(file, 1, 1, "the file is empty; a recipe needs at least a name, a trigger and steps")]

    builder = _Builder(document)
    document.data = builder.build(node, ())
    return document, builder.problems
