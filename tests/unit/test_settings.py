"""Settings come from the environment (pydantic-settings) under the names the templates set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from chalicelib.settings import get_settings, reset_settings
from chalicelib.settings_model import LOCAL_ROOT_KEY, environment_names


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    reset_settings()
    yield
    reset_settings()


def test_each_setting_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("BOOKING_ROOT_KEY", "a-real-root-key-of-some-length")
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("METRICS_NAMESPACE", "Shop")
    settings = get_settings()
    assert (settings.stage, settings.region, settings.max_body_bytes) == ("dev", "eu-west-1", 2048)
    assert settings.root_key == "a-real-root-key-of-some-length" and settings.metrics_namespace == "Shop"
    assert get_settings() is settings  # read once, until reset


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAMODB_ENDPOINT", "")
    monkeypatch.setenv("BOOKING_ROOT_KEY", "")
    monkeypatch.delenv("STAGE", raising=False)
    settings = get_settings()
    assert settings.dynamodb_endpoint is None and settings.root_key == LOCAL_ROOT_KEY


def test_a_bad_value_names_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError, match="aws_max_attempts"):
        get_settings()


def test_outside_local_the_development_root_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.delenv("BOOKING_ROOT_KEY", raising=False)
    with pytest.raises(ValueError, match="BOOKING_ROOT_KEY"):
        get_settings()


def test_the_environment_names_are_the_ones_the_templates_use() -> None:
    names = environment_names()
    assert names["region"] == "AWS_DEFAULT_REGION" and names["root_key"] == "BOOKING_ROOT_KEY"
    assert names["table_name"] == "TABLE_NAME" and names["metrics_namespace"] == "METRICS_NAMESPACE"
