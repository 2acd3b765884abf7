import pytest

from pinlake.settings import Settings

pytestmark = pytest.mark.unit


def test_defaults_put_everything_under_var(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)
    assert settings.data_root == tmp_path / "var"
    assert settings.lakehouse == str(tmp_path / "var" / "lakehouse")
    assert settings.run_dir == tmp_path / "var" / "run"
    assert settings.bootstrap == "127.0.0.1:9092"


def test_environment_variables_use_the_pinlake_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("PINLAKE_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("PINLAKE_KAFKA_PORT", "29092")
    monkeypatch.setenv("PINLAKE_API_KEY", "s3cret")
    settings = Settings(_env_file=None)
    assert settings.data_root == tmp_path / "data"
    assert settings.bootstrap == "127.0.0.1:29092"
    assert settings.api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_child_env_round_trips(tmp_path, monkeypatch):
    settings = Settings(_env_file=None, data_root=tmp_path, kafka_port=1234, api_key="k")
    for key, value in settings.child_env().items():
        monkeypatch.setenv(key, value)
    again = Settings(_env_file=None)
    assert again.model_dump() == settings.model_dump()


def test_env_example_documents_every_setting():
    from tests import PROJECT_ROOT

    text = (PROJECT_ROOT / ".env.example").read_text()
    missing = [f"PINLAKE_{name.upper()}" for name in Settings.model_fields
               if f"PINLAKE_{name.upper()}" not in text]
    assert missing == []
