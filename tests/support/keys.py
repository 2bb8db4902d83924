"""Real CDP-style EC P-256 keys for tests: the same signing path as production."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.venue import CdpCredentials


def make_credentials(name: str = "organizations/test/apiKeys/key") -> tuple[CdpCredentials, str]:
    """Fresh credentials and the PEM public key that verifies their JWTs."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return CdpCredentials(name, private), public


def private_pem() -> str:
    """A fresh PEM private key, as a configuration holds it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
