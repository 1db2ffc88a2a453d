"""Verifies a DSSE envelope with securesystemslib, an implementation independent of cargo-repro.

Usage: python3 dsse_verify.py ENVELOPE.json KEY.pub

KEY.pub is an OpenSSH ed25519 public key. Its keyid is computed here as ssh-keygen prints it
(SHA256: and the unpadded base64 of the key blob's sha256), the key is loaded with
cryptography's load_ssh_public_key into an SSlibKey (keytype and scheme ed25519), and
securesystemslib.dsse.Envelope.verify must accept the envelope with a threshold of 1.

Prints the accepted keyid and the sha256 of the payload; exits 0 when accepted, 1 when
rejected, 3 when securesystemslib or cryptography is missing.
"""

import base64
import hashlib
import json
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_ssh_public_key,
    )
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import SSlibKey
except ImportError as error:
    print(
        f"python module {error.name} is missing: pip install securesystemslib",
        file=sys.stderr,
    )
    sys.exit(3)


def main() -> int:
    envelope_path, public_path = sys.argv[1:3]
    with open(public_path, "rb") as file:
        public_text = file.read()
    blob = base64.b64decode(public_text.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    keyid = f"SHA256:{digest}"
    public = load_ssh_public_key(public_text)
    if not isinstance(public, Ed25519PublicKey):
        print(f"{public_path} is not an ed25519 key", file=sys.stderr)
        return 1
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = SSlibKey(keyid, "ed25519", "ed25519", {"public": raw.hex()})
    with open(envelope_path, encoding="utf-8") as file:
        envelope = Envelope.from_dict(json.load(file))
    try:
        accepted = envelope.verify([key], 1)
    except VerificationError as error:
        print(f"rejected: {error}", file=sys.stderr)
        return 1
    print(f"accepted {' '.join(sorted(accepted))}")
    print(f"payload sha256 {hashlib.sha256(envelope.payload).hexdigest()}")
    print(f"payloadType {envelope.payload_type}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
