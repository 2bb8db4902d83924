from __future__ import annotations

from perpsbot.config import Credentials, load_config


def test_credentials_repr_shows_the_key_name_but_not_the_private_key(private_pem: str) -> None:
    credentials = Credentials(key_name="organizations/o/apiKeys/k", private_key_pem=private_pem)

    assert repr(credentials) == "Credentials(key_name='organizations/o/apiKeys/k')"


def test_whole_config_repr_and_str_do_not_contain_the_private_key(private_pem: str) -> None:
    env = {
        "PERPSBOT_VENUE_API_KEY_NAME": "organizations/o/apiKeys/k",
        "PERPSBOT_VENUE_API_PRIVATE_KEY": private_pem,
    }

    config = load_config(None, profile="prod", env=env, live=True)

    assert config.venue.credentials is not None
    assert config.venue.credentials.private_key_pem == private_pem
    for line in private_pem.splitlines()[1:-1]:
        assert line not in repr(config)
        assert line not in str(config.venue)
