"""Signed claims that travel on a citizen's phone: the province signs a booking with its Ed25519 key
(the `cryptography` package), and a centre that knows the province's public key can trust the booking
from its QR code alone, before the booking itself has come down the link.

A sealed claim is one line of text a kiosk's scanner types: `HD1.<claims>.<signature>`, both parts
base64url without padding, the claims compact JSON. Anything else, a changed character, another
key's signature: `Invalid("booking_signature_invalid")`.
"""
from __future__ import annotations

import base64
import functools
import binascii
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hangdoi.engine.errors import Invalid

PREFIX = "HD1."
MAX_LENGTH = 1000            # a booking's claims are about 250 characters sealed
KEY_FILE = "province-signing-key.pem"


def is_sealed(text: str) -> bool:
    return text.strip().startswith(PREFIX)


@functools.lru_cache(maxsize=8)
def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The province's private key, from its data directory; made on first use. Several workers may
    ask at once: one creates the file (O_EXCL), the others read it. Read once per process (every
    booking view and every centre's pull signs or names it): replacing the file takes a restart."""
    path = Path(data_dir) / KEY_FILE
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        pass
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())
    draft = path.with_name(f"{KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}")
    # Readable by its owner only from the first byte, not after a chmod.
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(pem)
    try:
        os.link(draft, path)        # fails if another worker made it first: theirs is the key
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_text(key: Ed25519PrivateKey) -> str:
    """The public half as the centres keep it: 32 bytes, base64url (43 characters)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def seal(claims: dict, key: Ed25519PrivateKey) -> str:
    body = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    return f"{PREFIX}{body}.{_b64(key.sign(body.encode()))}"


def unseal(text: str, public: str) -> dict:
    """The claims of a sealed text signed by the key `public`; Invalid for anything else."""
    text = (text or "").strip()
    parts = text[len(PREFIX):].split(".") if text.startswith(PREFIX) and len(text) <= MAX_LENGTH else []
    try:
        body, signature = parts
        Ed25519PublicKey.from_public_bytes(_unb64(public)).verify(_unb64(signature), body.encode())
        claims = json.loads(_unb64(body))
    except (ValueError, InvalidSignature, binascii.Error, UnicodeError):
        raise Invalid("booking_signature_invalid") from None
    if not isinstance(claims, dict):
        raise Invalid("booking_signature_invalid")
    return claims


def valid_public(text: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(text))
        return True
    except (ValueError, binascii.Error):
        return False


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    # Strict: a character outside the alphabet is refused, not skipped, and so is a last character
    # whose unused low bits are set (the decoder would ignore them): one token, one spelling.
    raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _b64(raw) != text:
        raise ValueError("not canonical base64url")
    return raw
