"""The Ascent name mapping: the packaged file against the sandbox org, and names in both directions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from salesforce_connector_helpers import token_settings

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.names import DEFAULT_NAMES_FILE, AscentNames
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.salesforce.sandbox.schema import SCHEMA
from engine.errors import ConfigurationError, FatalError

LOGICAL_OBJECTS = [
    "sales_order", "sales_order_line", "item", "item_group", "location", "inventory", "packed_line", "carton",
    "sales_invoice", "sales_invoice_line", "cash_receipt", "applied_cash_receipt", "item_map", "account", "contact",
]


@pytest.fixture(scope="module")
def names() -> AscentNames:
    return AscentNames.load()


def test_mapping_has_every_logical_object(names: AscentNames) -> None:
    assert sorted(names.objects) == sorted(LOGICAL_OBJECTS)


def test_mapping_objects_match_sandbox_schema(names: AscentNames) -> None:
    for logical, mapped in names.objects.items():
        sobject = SCHEMA[mapped.api]
        assert mapped.confirmed == sobject.confirmed, logical


def test_mapping_fields_match_sandbox_schema(names: AscentNames) -> None:
    for logical, mapped in names.objects.items():
        sobject = SCHEMA[mapped.api]
        for field in mapped.fields.values():
            schema_field = sobject.field(field.api)
            assert schema_field is not None, f"{logical}.{field.logical}"
            assert field.confirmed == schema_field.confirmed, f"{logical}.{field.logical}"
            is_master_detail = schema_field.type == "reference" and not schema_field.updateable
            assert field.create_only == is_master_detail, f"{logical}.{field.logical}"
            if schema_field.reference_to:
                assert names.objects[field.references or ""].api == schema_field.reference_to, f"{logical}.{field.logical}"


def test_mapping_covers_every_data_field_of_sandbox(names: AscentNames) -> None:
    for mapped in names.objects.values():
        sobject = SCHEMA[mapped.api]
        mapped_api = {field.api for field in mapped.fields.values()}
        unmapped = [field.name for field in sobject.fields if field.kind != "system" and field.name not in mapped_api]
        assert unmapped == [], mapped.logical


def test_object_name_takes_logical_and_api_names(names: AscentNames) -> None:
    assert names.object_name("sales_order") == "PBSI__PBSI_Sales_Order__c"
    assert names.object_name("PBSI__PBSI_Sales_Order__c") == "PBSI__PBSI_Sales_Order__c"
    assert names.object_name("Opportunity") == "Opportunity"


def test_unknown_logical_object_is_fatal(names: AscentNames) -> None:
    with pytest.raises(FatalError) as failure:
        names.object_name("sales_ordr")

    assert failure.value.code == "INVALID_NAME"
    assert failure.value.message.startswith("unknown object name 'sales_ordr'; use an API name or one of the logical names in")


def test_field_names_resolve_paths_through_lookups(names: AscentNames) -> None:
    assert names.field_name("sales_order", "order_date") == "PBSI__Order_Date__c"
    assert names.field_name("sales_order", "customer.name") == "PBSI__Customer__r.Name"
    assert names.field_name("packed_line", "sales_order_line.sales_order.shopify_order_id") == (
        "PBSI__Sales_Order_Line__r.PBSI__Sales_Order__r.Shopify_Order_Id__c"
    )
    assert names.field_name("PBSI__PBSI_Sales_Order__c", "PBSI__Customer__r.shopify_customer_id") == "PBSI__Customer__r.Shopify_Customer_Id__c"
    assert names.field_name("contact", "account.name") == "Account.Name"
    assert names.field_name("carton", "SystemModstamp") == "SystemModstamp"


def test_unknown_logical_field_lists_choices(names: AscentNames) -> None:
    with pytest.raises(FatalError) as failure:
        names.field_name("carton", "tracking")

    assert failure.value.message == (
        "unknown field name 'tracking' on object 'carton'; its logical fields are: "
        "carrier, name, sales_order, ship_date, shopify_fulfillment_id, tracking_number, weight"
    )


def test_record_to_api_rejects_same_field_twice(names: AscentNames) -> None:
    with pytest.raises(FatalError) as failure:
        names.record_to_api("carton", {"tracking_number": "1Z", "PBSI__Tracking_Number__c": "1Z"})

    assert failure.value.message == "the record names the field PBSI__Tracking_Number__c twice: as 'tracking_number' and as 'PBSI__Tracking_Number__c'"


def test_with_logical_names_adds_keys_and_drops_attributes(names: AscentNames) -> None:
    record = {
        "attributes": {"type": "PBSI__Carton__c", "url": "/x"},
        "Id": "a075g0000000001AAA",
        "PBSI__Tracking_Number__c": "1Z999",
        "PBSI__Sales_Order__r": {"attributes": {"type": "PBSI__PBSI_Sales_Order__c"}, "Shopify_Order_Id__c": "5001"},
    }

    shaped = names.with_logical_names("carton", record)

    assert shaped == {
        "Id": "a075g0000000001AAA",
        "PBSI__Tracking_Number__c": "1Z999",
        "PBSI__Sales_Order__r": {"Shopify_Order_Id__c": "5001", "shopify_order_id": "5001"},
        "tracking_number": "1Z999",
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"objects": {"Sales_Order__c": {"api_name": "X__c"}}}, "a logical object name is lower-case text without '__'"),
        ({"objects": {"order": {"confirmed": True}}}, "objects.order: needs 'api_name'"),
        ({"objects": {"order": {"api_name": "X__c", "fields": {"a": {"api_name": "A__c"}, "b": {"api_name": "a__c"}}}}}, "a__c is mapped twice, by 'a' and 'b'"),
        ({"objects": {"order": {"api_name": "X__c", "fields": {"a": {"api_name": "A__c", "references": "nothing"}}}}}, "references 'nothing'"),
        ({"version": 2, "objects": {}}, "unsupported name mapping version 2"),
        ([], "needs an 'objects' mapping"),
    ],
)
def test_malformed_mapping_is_configuration_error(document: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as failure:
        AscentNames.from_document(document, "names.yaml")

    assert message in str(failure.value)


def test_edited_names_file_renames_fields(tmp_path: Path, salesforce_sandbox: SalesforceSandbox) -> None:
    document = yaml.safe_load(DEFAULT_NAMES_FILE.read_text(encoding="utf-8"))
    # This org's "carrier" is the field the packaged mapping calls tracking_number.
    document["objects"]["carton"]["fields"]["carrier"]["api_name"] = "PBSI__Tracking_Number__c"
    del document["objects"]["carton"]["fields"]["tracking_number"]
    edited = tmp_path / "my_names.yaml"
    edited.write_text(yaml.safe_dump(document), encoding="utf-8")
    order = salesforce_sandbox.records.create("PBSI__PBSI_Sales_Order__c", {"PBSI__Order_Date__c": "2026-11-02"})
    salesforce_sandbox.records.create("PBSI__Carton__c", {"PBSI__Sales_Order__c": order, "PBSI__Tracking_Number__c": "1Z999"})

    with SalesforceConnector(token_settings(salesforce_sandbox, names_file=str(edited))) as connector:
        result = connector.call("query", {"object": "carton", "fields": ["carrier"], "where": {"carrier": "1Z999"}})

    assert [record["carrier"] for record in result["records"]] == ["1Z999"]


def test_missing_names_file_is_configuration_error(tmp_path: Path, salesforce_sandbox: SalesforceSandbox) -> None:
    connector = SalesforceConnector(token_settings(salesforce_sandbox, names_file=str(tmp_path / "absent.yaml")))

    with pytest.raises(ConfigurationError) as failure:
        connector.open()

    assert str(failure.value) == f"cannot read the Ascent name mapping {tmp_path / 'absent.yaml'}: No such file or directory"
