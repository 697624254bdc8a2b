"""A simple model of Shopify's calculated GraphQL query cost.

- A scalar or enum field costs 0, an object field 1 plus the cost of its selection.
- A list of objects costs as one object (its richest returned item, for the actual cost).
- A connection costs 2 plus, per node, 1 plus the cost of the node's selection. The requested
  cost counts `first` (or `last`) nodes, the actual cost the nodes returned.
- Each top-level mutation field costs 10, whatever it selects.

Shopify's real costs differ in places, because some of its fields have costs of their own. This
model keeps what matters to a client: big pages cost more, and the actual cost is at most the
requested cost.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)

__all__ = ["MUTATION_COST", "query_cost"]

MUTATION_COST = 10


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    data: dict[str, Any] | None = None,
) -> int:
    """Return the requested cost of an operation, or its actual cost when `data` (the result) is given."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(operation.selection_set.selections)

    walker = _Walker(document, variables or {}, actual=data is not None)
    root = schema.query_type
    return walker.selection_cost(root, operation.selection_set, data) if root else 0


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((o for o in operations if o.name and o.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


class _Walker:
    def __init__(self, document: DocumentNode, variables: dict[str, Any], actual: bool) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.actual = actual

    def fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        """Flatten fragment spreads and inline fragments into the fields they select."""
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found.extend(self.fields(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                found.extend(self.fields(self.fragments[selection.name.value].selection_set))
        return found

    def selection_cost(self, parent: GraphQLObjectType, selection_set: SelectionSetNode | None, data: Any) -> int:
        total = 0
        for node in self.fields(selection_set):
            name = node.name.value
            definition = parent.fields.get(name)
            if name.startswith("__") or definition is None:
                continue
            field_type = get_named_type(definition.type)
            if not is_object_type(field_type):
                continue

            value = None
            if self.actual:
                value = (data or {}).get(node.alias.value if node.alias else name)
                if value is None:
                    continue
            total += self.field_cost(definition.type, field_type, node, value)
        return total

    def field_cost(self, declared: Any, field_type: GraphQLObjectType, node: FieldNode, value: Any) -> int:
        if field_type.name.endswith("Connection"):
            return self.connection_cost(field_type, node, value)

        unwrapped = declared.of_type if is_non_null_type(declared) else declared
        if is_list_type(unwrapped):
            items = value if self.actual else [None]
            return 1 + max((self.selection_cost(field_type, node.selection_set, item) for item in items), default=0)
        return 1 + self.selection_cost(field_type, node.selection_set, value)

    def connection_cost(self, connection: GraphQLObjectType, node: FieldNode, value: Any) -> int:
        node_type = get_named_type(connection.fields["nodes"].type)
        edge_type = get_named_type(connection.fields["edges"].type)
        selections: list[tuple[SelectionSetNode | None, Any]] = []

        for child in self.fields(node.selection_set):
            key = child.alias.value if child.alias else child.name.value
            returned = (value or {}).get(key) or []
            if child.name.value == "nodes":
                selections.append((child.selection_set, returned))
            elif child.name.value == "edges":
                for edge_field in self.fields(child.selection_set):
                    if edge_field.name.value == "node" and edge_type.fields.get("node"):
                        edge_key = edge_field.alias.value if edge_field.alias else "node"
                        selections.append((edge_field.selection_set, [edge.get(edge_key) for edge in returned]))

        if not selections:
            return 2
        if not self.actual:
            size = self.page_size(node)
            return 2 + size * max(1 + self.selection_cost(node_type, selection, None) for selection, _ in selections)
        return 2 + max(sum(1 + self.selection_cost(node_type, selection, item) for item in items if item is not None) for selection, items in selections)

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments:
            if argument.name.value not in ("first", "last"):
                continue
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
                if isinstance(value, int):
                    return value
        return 0
