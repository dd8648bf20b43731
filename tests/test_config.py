"""Settings, program terms and the CRM contract (config/)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from config import SettingsError, TermsError, contract_for_prefix, load_settings, load_terms


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PARTNER_SYNC_"):
            monkeypatch.delenv(key)


def test_terms_defaults_match_policy() -> None:
    terms = load_terms()
    assert terms.registration.expiry_days == 180
    assert terms.registration.reregistration_days == 90
    assert terms.registration.expiring_soon_days == 14
    assert terms.capacity.provider == 10
    assert terms.commission.partner_window_months == 36
    assert terms.commission.provider_rate == Decimal("0.20")
    assert terms.payouts.payout_lag_days == 45
    assert "gmx.*" in terms.domains.free_email_domains


def test_terms_override_changes_only_named_keys(tmp_path: Path) -> None:
    f = tmp_path / "terms.toml"
    f.write_text("[capacity]\nprovider = 12\n")
    terms = load_terms(f)
    assert terms.capacity.provider == 12
    assert terms.capacity.gold == 500


def test_terms_unknown_key_is_named(tmp_path: Path) -> None:
    f = tmp_path / "terms.toml"
    f.write_text("[capacity]\nbronze = 3\n")
    with pytest.raises(TermsError, match=r"capacity\.bronze"):
        load_terms(f)


def test_terms_bad_value_is_named(tmp_path: Path) -> None:
    f = tmp_path / "terms.toml"
    f.write_text('[payouts]\npaperwork_anchor = "sometime"\n')
    with pytest.raises(TermsError, match=r"payouts\.paperwork_anchor"):
        load_terms(f)


def test_settings_from_env_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN", "pat-na1-secret")
    monkeypatch.setenv("PARTNER_SYNC_STORE__URL", "sqlite:///x.db")
    s = load_settings()
    assert s.hubspot.access_token is not None
    assert s.hubspot.access_token.get_secret_value() == "pat-na1-secret"
    assert "pat-na1-secret" not in repr(s)
    assert s.store.url.get_secret_value() == "sqlite:///x.db"
    assert not s.sandbox_mode


def test_settings_without_token_is_sandbox_mode() -> None:
    assert load_settings().sandbox_mode


def test_settings_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_SYNC_HUBSPOT__RATE_LIMIT_PER_10S", "lots")
    with pytest.raises(SettingsError, match="PARTNER_SYNC_HUBSPOT__RATE_LIMIT_PER_10S"):
        load_settings()


def test_settings_toml_file_and_unknown_key(tmp_path: Path) -> None:
    good = tmp_path / "ok.toml"
    good.write_text('[hubspot]\nbase_url = "http://127.0.0.1:8999"\n')
    assert load_settings(good).hubspot.base_url == "http://127.0.0.1:8999"
    bad = tmp_path / "bad.toml"
    bad.write_text('[hubspot]\nbase_uri = "http://x"\n')
    with pytest.raises(SettingsError, match="PARTNER_SYNC_HUBSPOT__BASE_URI: unknown setting"):
        load_settings(bad)


def test_settings_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PARTNER_SYNC_CONFIG_FILE"):
        load_settings(tmp_path / "nope.toml")


def test_contract_prefix_applies_to_custom_names_only() -> None:
    c = contract_for_prefix("acme_")
    assert c.program_type == "acme_program_type"
    assert c.deal_next_payout_date == "acme_next_payout_date"
    names = [s.name for s in c.property_specs()]
    assert all(n.startswith("acme_") for n in names)
    # one name per object type
    for obj in ("companies", "contacts", "deals"):
        per_obj = [s.name for s in c.property_specs() if s.object_type == obj]
        assert len(per_obj) == len(set(per_obj))


def test_contract_rejects_bad_prefix() -> None:
    with pytest.raises(ValueError, match="prefix"):
        contract_for_prefix("1-bad")


def test_loading_a_settings_file_leaves_the_environment_alone(tmp_path: Path) -> None:
    import os

    f = tmp_path / "ok.toml"
    f.write_text('[hubspot]\nbase_url = "http://127.0.0.1:8999"\n')
    load_settings(f)
    assert "PARTNER_SYNC_CONFIG_FILE" not in os.environ
    assert load_settings().hubspot.base_url == "https://api.hubapi.com"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///partner-sync.db", Path("partner-sync.db")),
        ("sqlite:///data/sync.db", Path("data/sync.db")),
        ("sqlite:////srv/sync/partner-sync.db", Path("/srv/sync/partner-sync.db")),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://u@localhost/db", None),
    ],
)
def test_store_url_names_its_sqlite_file(url: str, path: Path | None) -> None:
    from config.settings import StoreSettings

    assert StoreSettings(url=url).sqlite_path() == path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("partner-sync.db", "'partner-sync.db' is not a database URL"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
    ],
)
def test_store_url_must_be_a_database_url(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("PARTNER_SYNC_STORE__URL", url)
    with pytest.raises(SettingsError, match=f"^PARTNER_SYNC_STORE__URL: {message}"):
        load_settings()


def test_log_level_must_be_a_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_SYNC_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError, match="PARTNER_SYNC_LOG_LEVEL: unknown level 'LOUD'"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("PARTNER_SYNC_STORE_URL", "PARTNER_SYNC_STORE__URL"),
        ("PARTNER_SYNC_HUBSPOT_ACCESS_TOKEN", "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"),
        ("partner_sync_admin_token", "PARTNER_SYNC_ADMIN__TOKEN"),
        ("PARTNER_SYNC_SYNC__LOOKBAK_MINUTES", "PARTNER_SYNC_SYNC__LOOKBACK_MINUTES"),
        ("PARTNER_SYNC_FROBNICATE", None),
    ],
)
def test_closest_setting(name: str, meant: str | None) -> None:
    from config.settings import closest_setting

    assert closest_setting(name) == meant


def test_unknown_variables_skip_settings_and_known_extras() -> None:
    from config.settings import unknown_variables

    environ = {"PARTNER_SYNC_STORE__URL": "x", "PARTNER_SYNC_CONFIG_FILE": "f",
               "PARTNER_SYNC_TEST_PG_DSN": "d", "PATH": "/bin", "PARTNER_SYNC_STORE_URL": "x"}
    assert unknown_variables(environ) == [
        "PARTNER_SYNC_STORE_URL: unknown setting; did you mean PARTNER_SYNC_STORE__URL?"]


def test_the_ci_switches_of_the_test_suite_are_no_unknown_settings() -> None:
    # .ci/run exports PARTNER_SYNC_REQUIRE_BROWSER; every command refused to start under it
    from config.settings import unknown_variables

    environ = {"PARTNER_SYNC_REQUIRE_BROWSER": "1",
               "PARTNER_SYNC_TEST_PG_DSN": "postgresql+psycopg://postgres@127.0.0.1/test"}
    assert unknown_variables(environ) == []
