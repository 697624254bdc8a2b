import pytest

from connectors.testing.memory import MemoryConnector
from engine.connector import Connector, action
from engine.connections import ConnectionBook
from engine.errors import ConfigurationError
from engine.redact import Redactor
from engine.registry import Registry


class TokenConnector(Connector):
    name = "token"
    connection_schema = {
        "type": "object",
        "properties": {"shop": {"type": "string"}, "access_token": {"type": "string", "secret": True}},
        "required": ["shop", "access_token"],
    }

    @action("ping", writes=False)
    def ping(self, inputs):
        return {}


def test_connection_read_from_file_and_environment(tmp_path):
    file = tmp_path / "connections.yaml"
    file.write_text("main-store:\n  connector: token\n  shop: example.myshopify.com\n", encoding="utf-8")
    book = ConnectionBook.load(str(file), environ={"RECIPE_MAIN_STORE_ACCESS_TOKEN": "shpat_fake_123456"})

    connection = book.get("main-store", TokenConnector)

    assert connection.settings == {"shop": "example.myshopify.com", "access_token": "shpat_fake_123456"}
    assert connection.secrets(TokenConnector) == ["shpat_fake_123456"]


def test_missing_setting_is_named_without_values(tmp_path):
    book = ConnectionBook({}, "connections.yaml", environ={"RECIPE_MAIN_STORE_SHOP": "example.myshopify.com"})

    with pytest.raises(ConfigurationError) as error:
        book.get("main-store", TokenConnector)

    assert str(error.value) == "connection 'main-store' is missing the setting 'access_token' required by connector 'token'"


def test_unconfigured_connection_says_how_to_fix():
    book = ConnectionBook({}, "the environment", environ={})

    with pytest.raises(ConfigurationError) as error:
        book.get("demo", MemoryConnector)

    assert str(error.value) == (
        "connection 'demo' is not configured; add it to connections.yaml or set RECIPE_DEMO_<FIELD> variables, or run with --sandbox"
    )


def test_connection_for_other_connector_is_rejected():
    book = ConnectionBook({"demo": {"connector": "token", "shop": "x"}}, "connections.yaml", environ={})

    with pytest.raises(ConfigurationError, match="is for connector 'token', but the recipe uses it for 'memory'"):
        book.get("demo", MemoryConnector)


def test_redactor_hides_secret_values_and_keys():
    redactor = Redactor(["shpat_fake_123456"])

    redacted = redactor.value({"note": "token shpat_fake_123456 used", "password": "pw-1", "nested": [{"Authorization": "Bearer x"}], "count": 3})

    assert redacted == {"note": "token *** used", "password": "***", "nested": [{"Authorization": "***"}], "count": 3}


def test_registry_reports_import_error_with_cause(monkeypatch):
    from importlib.metadata import EntryPoint

    registry = Registry()
    registry._entry_points["broken"] = EntryPoint(name="broken", value="no_such_module_xyz:Thing", group="recipe_engine.connectors")

    with pytest.raises(ConfigurationError) as error:
        registry.get("broken")

    assert str(error.value) == (
        "connector 'broken' (no_such_module_xyz:Thing) failed to import: ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )


def test_registry_finds_memory_through_entry_point():
    assert Registry().get("memory") is MemoryConnector


def test_unknown_connector_suggests_near_name():
    with pytest.raises(ConfigurationError, match=r"unknown connector 'memroy'\. Did you mean 'memory'\?"):
        Registry({"memory": MemoryConnector}).get("memroy")


def test_environment_boolean_follows_schema():
    book = ConnectionBook({}, "the environment", environ={"RECIPE_DEMO_SEED_DEMO_ORDERS": "true"})

    connection = book.get("demo", MemoryConnector)

    assert connection.settings == {"seed_demo_orders": True}
