"""The sign-in settings are checked at start-up, with messages naming the variable."""

from __future__ import annotations

import pytest

from service.config import ConfigError, Settings

OIDC = {
    "DEFUSE_OIDC_ISSUER": "https://login.example.org/realms/staff",
    "DEFUSE_OIDC_CLIENT_ID": "defuse",
    "DEFUSE_OIDC_CLIENT_SECRET": "from-the-secret-store",
    "DEFUSE_OIDC_ROLE_MAP": "defuse-leaders=trust_leader,defuse-leads=lead",
}


def test_single_sign_on_from_the_environment():
    settings = Settings.from_env(
        {
            **OIDC,
            "DEFUSE_OIDC_ROLE_CLAIM": "roles",
            "DEFUSE_OIDC_SCOPES": "openid,email groups",
            "DEFUSE_LOCAL_SIGN_IN": "break-glass",
            "DEFUSE_BREAK_GLASS_ADMIN": "Admin@Example.org",
        }
    )
    assert settings.oidc_discovery_url == (
        "https://login.example.org/realms/staff/.well-known/openid-configuration"
    )
    assert settings.oidc_role_map == {"defuse-leaders": "trust_leader", "defuse-leads": "lead"}
    assert settings.oidc_scopes == "openid email groups"
    assert settings.password_allowed_for("admin@example.org")
    assert not settings.password_allowed_for("someone@example.org")
    assert not settings.oidc_create_accounts


def test_a_role_map_as_json_for_group_names_with_commas():
    settings = Settings.from_env(
        {**OIDC, "DEFUSE_OIDC_ROLE_MAP": '{"cn=Defuse HR,ou=Groups,dc=example": "hr_analyst"}'}
    )
    assert settings.oidc_role_map == {"cn=Defuse HR,ou=Groups,dc=example": "hr_analyst"}


def test_second_factor_roles():
    assert Settings.from_env({}).totp_required_roles == ("lead", "hr_analyst", "admin")
    assert Settings.from_env({"DEFUSE_TOTP_REQUIRED_ROLES": "none"}).totp_required_roles == ()
    assert Settings.from_env(
        {"DEFUSE_TOTP_REQUIRED_ROLES": "trust_leader,lead,hr_analyst,admin"}
    ).totp_required_roles == ("trust_leader", "lead", "hr_analyst", "admin")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEFUSE_TOTP_REQUIRED_ROLES": "boss"}, "DEFUSE_TOTP_REQUIRED_ROLES"),
        ({"DEFUSE_LOCAL_SIGN_IN": "off"}, "DEFUSE_OIDC_ISSUER"),  # nobody could sign in
        ({"DEFUSE_LOCAL_SIGN_IN": "sometimes"}, "DEFUSE_LOCAL_SIGN_IN"),
        ({**OIDC, "DEFUSE_LOCAL_SIGN_IN": "break-glass"}, "DEFUSE_BREAK_GLASS_ADMIN"),
        ({"DEFUSE_OIDC_CLIENT_ID": "defuse"}, "DEFUSE_OIDC_ISSUER"),
        ({**OIDC, "DEFUSE_OIDC_CLIENT_SECRET": ""}, "DEFUSE_OIDC_CLIENT_SECRET"),
        ({**OIDC, "DEFUSE_OIDC_ROLE_MAP": ""}, "DEFUSE_OIDC_ROLE_MAP"),
        ({**OIDC, "DEFUSE_OIDC_ROLE_MAP": "defuse-leaders=chief"}, "DEFUSE_OIDC_ROLE_MAP"),
        ({**OIDC, "DEFUSE_OIDC_ROLE_MAP": "defuse-leaders"}, "DEFUSE_OIDC_ROLE_MAP"),
        ({**OIDC, "DEFUSE_OIDC_ROLE_MAP": "{not json"}, "DEFUSE_OIDC_ROLE_MAP"),
        ({**OIDC, "DEFUSE_OIDC_SCOPES": "email"}, "DEFUSE_OIDC_SCOPES"),
        ({**OIDC, "DEFUSE_OIDC_ISSUER": "login.example.org"}, "DEFUSE_OIDC_ISSUER"),
    ],
)
def test_bad_sign_in_settings_are_refused(env, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_production_needs_an_https_issuer():
    production = {
        "DEFUSE_ENV": "production",
        "DEFUSE_SECRET_KEY": "s" * 40,
        "DEFUSE_ENCRYPTION_KEYS": "k",
        "DEFUSE_HASH_KEY": "h" * 40,
    }
    with pytest.raises(ConfigError, match="https:// in production"):
        Settings.from_env({**production, **OIDC, "DEFUSE_OIDC_ISSUER": "http://idp.internal"})
