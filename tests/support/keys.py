"""Real CDP-style EC P-256 keys for tests: the same signing path as production."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.venue import CdpCredentials

#: PEM markers around base64 that is not a key: it passes a glance and fails a parse.
GARBAGE_PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "c2VjcmV0LWdhcmJhZ2Utbm90LWEta2V5\n"
    "-----END EC PRIVATE KEY-----\n"
)


def make_key_pems() -> tuple[str, str]:
    """A fresh P-256 key as PEM text: the PKCS#8 private key and its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def make_credentials(name: str = "organizations/test/apiKeys/key") -> tuple[CdpCredentials, str]:
    """Fresh credentials and the PEM public key that verifies their JWTs."""
    private, public = make_key_pems()
    return CdpCredentials(name, private), public


def private_pem() -> str:
    """A fresh PEM private key, as a configuration holds it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
