"""Signed checkpoints: Ed25519 signatures over (seq, hash, at) of a record, so a verifier holding the
public key trusts every record up to it without reading them, and nobody without the private key (kept
out of the database, in a file only the service reads) can rewrite the chain before it unseen.

The signed message is the canonical JSON array `["roundabout-audit-checkpoint", seq, hash, at]`.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from roundabout.audit.chain import canonical
from roundabout.errors import InvalidInputError


def checkpoint_message(seq: int, digest: str, at: str) -> bytes:
    return canonical(["roundabout-audit-checkpoint", seq, digest, at]).encode()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A public key's short name: the first 16 hex digits of SHA-256 of its raw 32 bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """The private key that signs checkpoints."""

    private: Ed25519PrivateKey

    @classmethod
    def from_file(cls, path: Path, create: bool = False) -> "Signer":
        """The key in PEM file `path`; with `create`, a new key is made there (mode 0600) if none is."""
        if not path.exists():
            if not create:
                raise InvalidInputError("audit key", f"no signing key at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another worker made it first: read theirs
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(pem)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise InvalidInputError("audit key", f"{path} is not a PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInputError("audit key", f"{path} holds a {type(key).__name__}, not an Ed25519 key")
        return cls(key)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, seq: int, digest: str, at: str) -> str:
        return self.private.sign(checkpoint_message(seq, digest, at)).hex()


def load_public_key(pem: bytes, source: str) -> Ed25519PublicKey:
    """A public key from PEM (or the private key's PEM, whose public half is taken)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError("public key", f"{source} is not a PEM key: {exc}") from None
        key = private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError("public key", f"{source} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def signature_holds(
    keys: dict[str, Ed25519PublicKey], kid: str, seq: int, digest: str, at: str, signature: str
) -> bool | None:
    """Whether a checkpoint's signature holds under the key it names (None: that key is not given)."""
    key = keys.get(kid)
    if key is None:
        return None
    try:
        key.verify(bytes.fromhex(signature), checkpoint_message(seq, digest, at))
    except (InvalidSignature, ValueError):
        return False
    return True
