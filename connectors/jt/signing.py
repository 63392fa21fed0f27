"""JT request signing: SHA256withRSA (PKCS#1 v1.5) over the exact bytes of `param`.

The merchant's private key is read from a file once and kept inside this object; it is never
printed, logged or put in an exception message. Its PEM text is kept too, as the material the
HTTP client redacts from whatever JT says (`secret_texts`).
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class Signer:
    def __init__(self, private_key: rsa.RSAPrivateKey, pem: bytes | None = None) -> None:
        self._key = private_key
        self._pem = pem

    def secret_texts(self) -> list[str]:
        """The key's material as text (the base64 body of its PEM forms: as configured, and
        PKCS#8 and PKCS#1), for redaction; never to be shown."""
        forms = [self._pem] if self._pem else []
        for fmt in (
            serialization.PrivateFormat.PKCS8,
            serialization.PrivateFormat.TraditionalOpenSSL,
        ):
            forms.append(
                self._key.private_bytes(
                    serialization.Encoding.PEM, fmt, serialization.NoEncryption()
                )
            )
        return [
            "".join(
                line for line in pem.decode("ascii", "replace").splitlines() if "-----" not in line
            )
            for pem in forms
        ]

    def __repr__(self) -> str:
        return "Signer(<private key hidden>)"

    @classmethod
    def from_pem(cls, pem: bytes, source: str = "the private key") -> Signer:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # The library's message may quote the data; ours names only where it came from.
            raise ValueError(f"{source} is not an unencrypted PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{source} is not an RSA private key")
        return cls(key, pem)

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read JT_PRIVATE_KEY_FILE {path}: {exc.strerror}") from None
        return cls.from_pem(pem, f"JT_PRIVATE_KEY_FILE {path}")

    def sign(self, param: str) -> str:
        """Base64 signature of the UTF-8 bytes of `param`, exactly as they will be sent."""
        signature = self._key.sign(param.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")
