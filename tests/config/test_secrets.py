from __future__ import annotations

from perpsbot.config import Credentials, load_config

PEM = "-----BEGIN EC PRIVATE KEY-----\nSECRETSECRET\n-----END EC PRIVATE KEY-----\n"


def test_credentials_repr_shows_the_key_name_but_not_the_private_key() -> None:
    credentials = Credentials(key_name="organizations/o/apiKeys/k", private_key_pem=PEM)

    assert repr(credentials) == "Credentials(key_name='organizations/o/apiKeys/k')"


def test_whole_config_repr_and_str_do_not_contain_the_private_key() -> None:
    env = {
        "PERPSBOT_VENUE_API_KEY_NAME": "organizations/o/apiKeys/k",
        "PERPSBOT_VENUE_API_PRIVATE_KEY": PEM,
    }

    config = load_config(None, profile="prod", env=env, live=True)

    assert config.venue.credentials is not None
    assert config.venue.credentials.private_key_pem == PEM
    assert "SECRETSECRET" not in repr(config)
    assert "SECRETSECRET" not in str(config.venue)
