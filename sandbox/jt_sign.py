"""JT request signatures: SHA256withRSA (PKCS#1 v1.5) over the exact UTF-8 bytes of `param`.

The merchant holds the private key and signs; the provider holds the registered public key
and verifies. Keys are generated fresh for each serving (never derived from the world seed),
so no key material lives in the repository.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def generate_merchant_key() -> tuple[bytes, bytes]:
    """A fresh 2048-bit merchant key pair: (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def sign_param(private_key_pem: bytes, param: str) -> str:
    """The Base64 `sign` of a `param` string, as a merchant computes it."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the JT merchant key must be an RSA key")
    signature = key.sign(param.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


class SignatureVerifier:
    """Checks `sign` against the merchant's registered public key."""

    def __init__(self, public_key_pem: bytes) -> None:
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the JT merchant key must be an RSA key")
        self._key = key

    def verify(self, param: str, sign: str) -> bool:
        try:
            signature = base64.b64decode(sign, validate=True)
            self._key.verify(signature, param.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except (binascii.Error, ValueError, InvalidSignature):
            return False
        return True
