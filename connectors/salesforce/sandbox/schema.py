"""The sandbox org's objects and fields: Account, Contact and the Ascent ERP objects (`PBSI__`).

Every field carries the flags describe returns (type, length or precision and scale, nillable,
createable, updateable, unique, external id, picklist values, reference target) and a
`confirmed` flag. `confirmed=True` marks API names seen in real Ascent orgs. `confirmed=False`
marks names this project assumes, which must be checked against a real org's describe before
a recipe relies on them.

Formula and roll-up summary fields are read-only here as in Salesforce; `records.py` computes
their values on every write.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field, replace
from typing import Iterable

__all__ = [
    "Field",
    "SObject",
    "SCHEMA",
    "find_object",
    "label_from_name",
    "TEXT_TYPES",
    "NUMBER_TYPES",
    "object_for_prefix",
    "ORDER_STATUSES",
    "ORDER_STAGES",
]

TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "picklist", "url"})
NUMBER_TYPES = frozenset({"double", "currency", "int", "percent"})

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
}


@dataclass(frozen=True)
class Field:
    """One field of an sObject with the flags describe reports.

    `kind` is "data" for stored fields, "autonumber", "formula" or "rollup" for fields that
    Salesforce computes, and "system" for Id, IsDeleted and the audit timestamps.
    """

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    picklist_values: tuple[str, ...] = ()
    reference_to: str | None = None
    master_detail: bool = False
    kind: str = "data"
    autonumber_format: str | None = None
    confirmed: bool = True

    @property
    def required(self) -> bool:
        """True when a create must supply a value: not nillable, createable and not defaulted."""
        return not self.nillable and self.createable and self.type != "boolean"

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def calculated(self) -> bool:
        return self.kind in ("formula", "rollup")

    @property
    def relationship_name(self) -> str | None:
        """The name SOQL uses to reach the referenced record: `X__r` for `X__c`, `Account` for `AccountId`."""
        if self.type != "reference":
            return None
        if self.name.endswith("__c"):
            return self.name[:-3] + "__r"
        if self.name.endswith("Id"):
            return self.name[:-2]
        return None

    @property
    def soap_type(self) -> str:
        return _SOAP_TYPES.get(self.type, "xsd:string")

    def describe(self) -> dict[str, object]:
        """Return the field as it appears in `fields` of an sObject describe."""
        is_number = self.type in NUMBER_TYPES
        return {
            "aggregatable": self.type not in ("textarea",),
            "autoNumber": self.kind == "autonumber",
            "byteLength": self.length * 3 if self.length else 0,
            "calculated": self.calculated,
            "calculatedFormula": None,
            "cascadeDelete": self.master_detail,
            "caseSensitive": False,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": False if self.type == "boolean" else None,
            "defaultedOnCreate": self.type == "boolean" or self.kind in ("system", "autonumber"),
            "digits": self.precision if self.type == "int" else 0,
            "externalId": self.external_id,
            "filterable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "double", "currency", "percent", "datetime"),
            "idLookup": self.type == "id" or self.external_id or self.kind == "autonumber",
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": self.name == "Name",
            "nillable": self.nillable,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": value, "validFor": None, "value": value}
                for value in self.picklist_values
            ],
            "precision": self.precision if is_number and self.type != "int" else 0,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
            "relationshipOrder": 0 if self.master_detail else None,
            "restrictedPicklist": bool(self.picklist_values),
            "scale": self.scale if is_number else 0,
            "soapType": self.soap_type,
            "sortable": self.type != "textarea",
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }


@dataclass(frozen=True)
class SObject:
    """One object of the org: its API name, key prefix and fields (ordered as describe lists them)."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]
    confirmed: bool = True
    _by_lower_name: dict[str, Field] = dataclass_field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_lower_name.update({item.name.lower(): item for item in self.fields})

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> Field | None:
        """Return the field named `name`, matched case-insensitively as the API does, or None."""
        return self._by_lower_name.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        """Return the reference field whose relationship name is `name` (case-insensitive), or None."""
        lowered = name.lower()
        for item in self.fields:
            if item.relationship_name and item.relationship_name.lower() == lowered:
                return item
        return None

    def external_id_fields(self) -> list[Field]:
        return [item for item in self.fields if item.external_id]

    def unique_fields(self) -> list[Field]:
        return [item for item in self.fields if item.unique]

    def autonumber_field(self) -> Field | None:
        return next((item for item in self.fields if item.kind == "autonumber"), None)


def label_from_name(name: str) -> str:
    """Derive a describe label from an API name: `PBSI__Order_Date__c` becomes `Order Date`."""
    base = name
    if "__" in base:
        parts = base.split("__")
        base = parts[1] if len(parts) >= 3 else parts[0]
    if base.endswith("Id") and base not in ("Id",):
        base = base[:-2] + " ID"
    words = base.replace("_", " ").strip()
    spaced = []
    for index, char in enumerate(words):
        previous = words[index - 1] if index else ""
        if char.isupper() and previous.islower():
            spaced.append(" ")
        spaced.append(char)
    return "".join(spaced).strip()


# Field constructors. Each returns a Field with the label derived from the name unless given.


def _make(name: str, type_: str, **options: object) -> Field:
    options.setdefault("label", label_from_name(name))
    return Field(name=name, type=type_, **options)  # type: ignore[arg-type]


def text(name: str, length: int, **options: object) -> Field:
    return _make(name, "string", length=length, **options)


def textarea(name: str, length: int = 32768, **options: object) -> Field:
    return _make(name, "textarea", length=length, **options)


def email(name: str, **options: object) -> Field:
    return _make(name, "email", length=80, **options)


def phone(name: str, **options: object) -> Field:
    return _make(name, "phone", length=40, **options)


def boolean(name: str, **options: object) -> Field:
    return _make(name, "boolean", nillable=False, **options)


def date(name: str, **options: object) -> Field:
    return _make(name, "date", **options)


def number(name: str, precision: int = 18, scale: int = 0, **options: object) -> Field:
    return _make(name, "double", precision=precision, scale=scale, **options)


def currency(name: str, precision: int = 18, scale: int = 2, **options: object) -> Field:
    return _make(name, "currency", precision=precision, scale=scale, **options)


def picklist(name: str, values: Iterable[str], **options: object) -> Field:
    return _make(name, "picklist", length=255, picklist_values=tuple(values), **options)


def reference(name: str, target: str, **options: object) -> Field:
    return _make(name, "reference", length=18, reference_to=target, **options)


def master_detail(name: str, target: str, **options: object) -> Field:
    """Return a master-detail field: required, set on create, not reparentable, deleted with its master."""
    return reference(name, target, nillable=False, updateable=False, master_detail=True, **options)


def external_id(name: str, length: int = 40, **options: object) -> Field:
    """Return a unique external id text field (unique ignoring case, as Salesforce's default)."""
    return text(name, length, external_id=True, unique=True, **options)


def autonumber(name: str, display_format: str, **options: object) -> Field:
    return _make(
        name,
        "string",
        length=30,
        nillable=False,
        createable=False,
        updateable=False,
        kind="autonumber",
        autonumber_format=display_format,
        **options,
    )


def computed(name: str, type_: str, kind: str, precision: int = 18, scale: int = 2, **options: object) -> Field:
    """Return a read-only formula or roll-up summary field whose value `records.py` computes."""
    return _make(name, type_, precision=precision, scale=scale, createable=False, updateable=False, kind=kind, **options)


def _system_fields() -> tuple[Field, ...]:
    read_only = {"createable": False, "updateable": False, "kind": "system"}
    return (
        Field("Id", "id", label="Record ID", length=18, nillable=False, **read_only),  # type: ignore[arg-type]
        Field("IsDeleted", "boolean", label="Deleted", nillable=False, **read_only),  # type: ignore[arg-type]
        Field("CreatedDate", "datetime", label="Created Date", nillable=False, **read_only),  # type: ignore[arg-type]
        Field("LastModifiedDate", "datetime", label="Last Modified Date", nillable=False, **read_only),  # type: ignore[arg-type]
        Field("SystemModstamp", "datetime", label="System Modstamp", nillable=False, **read_only),  # type: ignore[arg-type]
    )


def _object(name: str, label: str, plural: str, prefix: str, fields: Iterable[Field], confirmed: bool = True) -> SObject:
    return SObject(name, label, plural, prefix, _system_fields() + tuple(fields), confirmed=confirmed)


def _assumed(*fields: Field) -> list[Field]:
    return [replace(item, confirmed=False) for item in fields]


_ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country")
_ADDRESS_LENGTHS = {"Street": 255, "City": 40, "State": 80, "PostalCode": 20, "Country": 80}


def _address(prefix: str) -> list[Field]:
    return [
        textarea(prefix + part, 255) if part == "Street" else text(prefix + part, _ADDRESS_LENGTHS[part])
        for part in _ADDRESS_PARTS
    ]


ORDER_STATUSES = ("Open", "Partially Complete", "Closed", "In Progress", "Cancelled", "Packed", "Staged")
ORDER_STAGES = ("Open", "Packed", "Waiting Pick Up", "On Route", "Delivered")

ACCOUNT = _object(
    "Account",
    "Account",
    "Accounts",
    "001",
    [
        text("Name", 255, label="Account Name", nillable=False),
        phone("Phone", label="Account Phone"),
        *_address("Billing"),
        *_address("Shipping"),
        *_assumed(external_id("Shopify_Customer_Id__c", label="Shopify Customer ID")),
    ],
)

CONTACT = _object(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    [
        text("Name", 121, label="Full Name", createable=False, updateable=False, kind="formula"),
        text("FirstName", 40, label="First Name"),
        text("LastName", 80, label="Last Name", nillable=False),
        email("Email"),
        phone("Phone", label="Business Phone"),
        reference("AccountId", "Account", label="Account ID"),
        *_address("Mailing"),
        *_assumed(external_id("Shopify_Customer_Id__c", label="Shopify Customer ID")),
    ],
)

ITEM_GROUP = _object(
    "PBSI__PBSI_Item_Group__c", "Item Group", "Item Groups", "a01", [text("Name", 80, label="Item Group Name", nillable=False)]
)

LOCATION = _object(
    "PBSI__PBSI_Location__c",
    "Location",
    "Locations",
    "a02",
    [text("Name", 80, label="Location Name", nillable=False), textarea("PBSI__description__c", 255, label="Description")],
)

ITEM = _object(
    "PBSI__PBSI_Item__c",
    "Item",
    "Items",
    "a03",
    [
        text("Name", 80, label="Item Number", nillable=False),
        text("PBSI__Vendor_Item_ID__c", 30, label="Vendor Item ID"),
        textarea("PBSI__description__c", label="Description"),
        currency("PBSI__salesprice__c", 16, 2, label="Sales Price"),
        currency("PBSI__Cost__c", 16, 2, label="Cost"),
        reference("PBSI__Item_Group__c", "PBSI__PBSI_Item_Group__c", label="Item Group", nillable=False),
        reference("PBSI__Default_Location__c", "PBSI__PBSI_Location__c", label="Default Location"),
        boolean("PBSI__Taxable__c", label="Taxable"),
        picklist("PBSI__Item_Status__c", ("Active", "Inactive"), label="Item Status"),
        *_assumed(
            number("PBSI__Quantity_On_Hand__c", 18, 0, label="Quantity On Hand"),
            number("PBSI__Available_To_Promise__c", 18, 0, label="Available To Promise"),
            external_id("Shopify_SKU__c", 80, label="Shopify SKU"),
        ),
    ],
)

INVENTORY = _object(
    "PBSI__PBSI_Inventory__c",
    "Inventory",
    "Inventory",
    "a04",
    [
        *_assumed(autonumber("Name", "IV-{000000}", label="Inventory Number")),
        reference("PBSI__item_lookup__c", "PBSI__PBSI_Item__c", label="Item"),
        reference("PBSI__location_lookup__c", "PBSI__PBSI_Location__c", label="Location"),
        number("PBSI__Quantity_Available__c", 18, 0, label="Quantity Available"),
    ],
)

SALES_ORDER = _object(
    "PBSI__PBSI_Sales_Order__c",
    "Sales Order",
    "Sales Orders",
    "a05",
    [
        autonumber("Name", "SO-{000000}", label="Sales Order Number"),
        reference("PBSI__Customer__c", "Account", label="Customer"),
        reference("PBSI__Contact__c", "Contact", label="Contact"),
        text("PBSI__Customer_Purchase_Order__c", 100, label="Customer PO"),
        date("PBSI__Order_Date__c", label="Order Date", nillable=False),
        picklist("PBSI__Status__c", ORDER_STATUSES, label="Status"),
        picklist("PBSI__Stage__c", ORDER_STAGES, label="Stage"),
        computed("PBSI__Order_Total__c", "currency", "rollup", label="Order Total"),
        *_assumed(
            external_id("Shopify_Order_Id__c", label="Shopify Order ID"),
            text("Shopify_Order_Name__c", 40, label="Shopify Order Name"),
            textarea("PBSI__Billing_Address__c", 255, label="Billing Address"),
            textarea("PBSI__Shipping_Address__c", 255, label="Shipping Address"),
            currency("PBSI__Shipping_Amount__c", label="Shipping Amount"),
            currency("PBSI__Discount_Amount__c", label="Discount Amount"),
            text("PBSI__Currency__c", 3, label="Currency"),
        ),
    ],
)

SALES_ORDER_LINE = _object(
    "PBSI__PBSI_Sales_Order_Line__c",
    "Sales Order Line",
    "Sales Order Lines",
    "a06",
    [
        *_assumed(autonumber("Name", "SOL-{000000}", label="Sales Order Line Number")),
        master_detail("PBSI__Sales_Order__c", "PBSI__PBSI_Sales_Order__c", label="Sales Order"),
        reference("PBSI__Item__c", "PBSI__PBSI_Item__c", label="Item"),
        number("PBSI__Quantity__c", 18, 0, label="Quantity"),
        number("PBSI__Quantity_Needed__c", 18, 6, label="Quantity Needed", nillable=False),
        currency("PBSI__Price__c", 18, 2, label="Price"),
        computed("PBSI__Total_Price__c", "currency", "formula", label="Total Price"),
        *_assumed(
            text("PBSI__Line_Description__c", 255, label="Line Description"),
            boolean("PBSI__Taxable__c", label="Taxable"),
            currency("PBSI__Tax_Amount__c", label="Tax Amount"),
            currency("PBSI__Discount_Amount__c", label="Discount Amount"),
            number("PBSI__Quantity_Packed__c", 18, 0, label="Quantity Packed"),
            external_id("Shopify_Line_Id__c", label="Shopify Line ID"),
        ),
    ],
)

CARTON = _object(
    "PBSI__Carton__c",
    "Carton",
    "Cartons",
    "a07",
    _assumed(
        autonumber("Name", "CTN-{000000}", label="Carton Number"),
        reference("PBSI__Sales_Order__c", "PBSI__PBSI_Sales_Order__c", label="Sales Order"),
        text("PBSI__Tracking_Number__c", 80, label="Tracking Number"),
        text("PBSI__Carrier__c", 80, label="Carrier"),
        date("PBSI__Ship_Date__c", label="Ship Date"),
        number("PBSI__Weight__c", 18, 2, label="Weight"),
        external_id("Shopify_Fulfillment_Id__c", label="Shopify Fulfillment ID"),
    ),
    confirmed=False,
)

SHIPPED_LINE = _object(
    "PBSI__Shipped_Sales_Order_Line__c",
    "Shipped Sales Order Line",
    "Shipped Sales Order Lines",
    "a08",
    [
        *_assumed(autonumber("Name", "SSL-{000000}", label="Shipped Line Number")),
        reference("PBSI__Sales_Order_Line__c", "PBSI__PBSI_Sales_Order_Line__c", label="Sales Order Line"),
        *_assumed(
            reference("PBSI__Carton__c", "PBSI__Carton__c", label="Carton"),
            number("PBSI__Quantity_Shipped__c", 18, 0, label="Quantity Shipped"),
        ),
    ],
)

SALES_INVOICE = _object(
    "PBSI__Sales_Invoice__c",
    "Sales Invoice",
    "Sales Invoices",
    "a09",
    _assumed(
        autonumber("Name", "INV-{000000}", label="Invoice Number"),
        reference("PBSI__Sales_Order__c", "PBSI__PBSI_Sales_Order__c", label="Sales Order"),
        reference("PBSI__Account__c", "Account", label="Account"),
        date("PBSI__Invoice_Date__c", label="Invoice Date", nillable=False),
        textarea("PBSI__Billing_Address__c", 255, label="Billing Address"),
        textarea("PBSI__Shipping_Address__c", 255, label="Shipping Address"),
        computed("PBSI__Total__c", "currency", "rollup", label="Total"),
        computed("PBSI__Amount_Paid__c", "currency", "rollup", label="Amount Paid"),
        computed("PBSI__Balance__c", "currency", "formula", label="Balance"),
        picklist("PBSI__Status__c", ("Open", "Closed"), label="Status"),
        external_id("Shopify_Order_Id__c", label="Shopify Order ID"),
    ),
    confirmed=False,
)

SALES_INVOICE_LINE = _object(
    "PBSI__Sales_Invoice_Line__c",
    "Sales Invoice Line",
    "Sales Invoice Lines",
    "a0A",
    _assumed(
        autonumber("Name", "SIL-{000000}", label="Invoice Line Number"),
        master_detail("PBSI__Sales_Invoice__c", "PBSI__Sales_Invoice__c", label="Sales Invoice"),
        reference("PBSI__Sales_Order_Line__c", "PBSI__PBSI_Sales_Order_Line__c", label="Sales Order Line"),
        reference("PBSI__Item__c", "PBSI__PBSI_Item__c", label="Item"),
        number("PBSI__Quantity__c", 18, 0, label="Quantity"),
        currency("PBSI__Price__c", label="Price"),
        currency("PBSI__Tax_Amount__c", label="Tax Amount"),
        currency("PBSI__Discount_Amount__c", label="Discount Amount"),
        computed("PBSI__Total__c", "currency", "formula", label="Total"),
        external_id("Shopify_Line_Id__c", label="Shopify Line ID"),
    ),
    confirmed=False,
)

CASH_RECEIPT = _object(
    "PBSI__Cash_Receipt__c",
    "Cash Receipt",
    "Cash Receipts",
    "a0B",
    _assumed(
        autonumber("Name", "CR-{000000}", label="Cash Receipt Number"),
        reference("PBSI__Account__c", "Account", label="Account", nillable=False),
        reference("PBSI__Sales_Order__c", "PBSI__PBSI_Sales_Order__c", label="Sales Order"),
        currency("PBSI__Amount__c", label="Amount", nillable=False),
        text("PBSI__Payment_Method__c", 80, label="Payment Method"),
        text("PBSI__Currency__c", 3, label="Currency"),
        date("PBSI__Receipt_Date__c", label="Receipt Date"),
        external_id("Shopify_Transaction_Id__c", label="Shopify Transaction ID"),
    ),
    confirmed=False,
)

APPLIED_CASH_RECEIPT = _object(
    "PBSI__Applied_Cash_Receipt__c",
    "Applied Cash Receipt",
    "Applied Cash Receipts",
    "a0C",
    _assumed(
        autonumber("Name", "ACR-{000000}", label="Applied Cash Receipt Number"),
        reference("PBSI__Cash_Receipt__c", "PBSI__Cash_Receipt__c", label="Cash Receipt"),
        reference("PBSI__Sales_Invoice__c", "PBSI__Sales_Invoice__c", label="Sales Invoice"),
        reference("PBSI__Sales_Order__c", "PBSI__PBSI_Sales_Order__c", label="Sales Order"),
        currency("PBSI__Amount_Applied__c", label="Amount Applied"),
        external_id("Shopify_Transaction_Id__c", label="Shopify Transaction ID"),
    ),
    confirmed=False,
)

ITEM_MAP = _object(
    "Shopify_Item_Map__c",
    "Shopify Item Map",
    "Shopify Item Maps",
    "a0D",
    _assumed(
        autonumber("Name", "MAP-{000000}", label="Item Map Number"),
        external_id("Shopify_Variant_Id__c", label="Shopify Variant ID"),
        text("Shopify_Product_Id__c", 40, label="Shopify Product ID"),
        reference("PBSI__Item__c", "PBSI__PBSI_Item__c", label="Item"),
    ),
    confirmed=False,
)

SCHEMA: dict[str, SObject] = {
    item.name: item
    for item in (
        ACCOUNT,
        CONTACT,
        ITEM_GROUP,
        LOCATION,
        ITEM,
        INVENTORY,
        SALES_ORDER,
        SALES_ORDER_LINE,
        CARTON,
        SHIPPED_LINE,
        SALES_INVOICE,
        SALES_INVOICE_LINE,
        CASH_RECEIPT,
        APPLIED_CASH_RECEIPT,
        ITEM_MAP,
    )
}

_BY_LOWER_NAME = {name.lower(): item for name, item in SCHEMA.items()}
_BY_PREFIX = {item.key_prefix: item for item in SCHEMA.values()}


def find_object(name: str) -> SObject | None:
    """Return the object named `name`, matched case-insensitively as the API does, or None."""
    return _BY_LOWER_NAME.get(name.lower())


def object_for_prefix(prefix: str) -> SObject | None:
    return _BY_PREFIX.get(prefix)

