//! DSSE envelopes (Dead Simple Signing Envelope v1): a payload, its type, and signatures over
//! the pre-authentication encoding of both (`PAE`), as in-toto attestations are signed.
//!
//! Signing itself is not done here (see `crate::build::signer`: a raw ed25519 signature for
//! ssh keys, as securesystemslib and in-toto verify them, or a binary OpenPGP signature for gpg);
//! this file only encodes what is signed, renders the envelope and reads one back.

use serde_json::json;

use super::base64;

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// One signature in an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Which key made it: the ssh `SHA256:…` fingerprint or the gpg fingerprint, which a
    /// verifier's key must carry as its keyid (securesystemslib matches signatures by it).
    pub keyid: String,
    /// The signature over [`pae`] of the payload: raw ed25519 bytes, or a binary OpenPGP
    /// signature.
    pub sig: Vec<u8>,
}

/// The bytes a DSSE signature is made over:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    bytes.extend_from_slice(payload);
    bytes
}

/// The envelope as pretty JSON with sorted keys and a trailing newline.
pub fn envelope(
    payload_type: &str,
    payload: &[u8],
    signatures: &[Signature],
) -> anyhow::Result<String> {
    if signatures.iter().any(|s| s.sig.is_empty()) {
        anyhow::bail!("a DSSE signature is empty; the signer produced no output");
    }
    let value = json!({
        "payloadType": payload_type,
        "payload": base64::encode(payload),
        "signatures": signatures
            .iter()
            .map(|s| json!({ "keyid": s.keyid, "sig": base64::encode(&s.sig) }))
            .collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

/// An envelope read back (`verify --against`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
}

/// Reads a DSSE envelope (JSON, payload and signatures in standard or URL-safe base64); the
/// error says what is wrong with it.
pub fn parse(text: &str) -> anyhow::Result<Envelope> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| anyhow::anyhow!("it is not JSON ({e})"))?;
    let field = |name: &str| {
        value[name]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("it has no string `{name}`"))
    };
    let payload_type = field("payloadType")?.to_string();
    let payload = base64::decode(field("payload")?)
        .ok_or_else(|| anyhow::anyhow!("its `payload` is not base64"))?;
    let mut signatures = Vec::new();
    for signature in value["signatures"].as_array().into_iter().flatten() {
        let sig = signature["sig"]
            .as_str()
            .and_then(base64::decode)
            .filter(|sig| !sig.is_empty())
            .ok_or_else(|| anyhow::anyhow!("a signature's `sig` is missing or not base64"))?;
        signatures.push(Signature {
            keyid: signature["keyid"].as_str().unwrap_or("").to_string(),
            sig,
        });
    }
    if signatures.is_empty() {
        anyhow::bail!("it has no signature");
    }
    Ok(Envelope {
        payload_type,
        payload,
        signatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        // From the DSSE protocol document (secure-systems-lab/dsse, protocol.md).
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn pae_counts_bytes_not_characters_and_keeps_the_payload_verbatim() {
        let payload = "é\n{\"a\": 1}\n".as_bytes();
        let mut expected = b"DSSEv1 28 application/vnd.in-toto+json 12 ".to_vec();
        expected.extend_from_slice(payload);
        assert_eq!(pae(IN_TOTO_PAYLOAD_TYPE, payload), expected);
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn envelope_carries_payload_and_signatures_in_base64() {
        let text = envelope(
            IN_TOTO_PAYLOAD_TYPE,
            b"{}\n",
            &[Signature {
                keyid: "SHA256:abc".to_string(),
                sig: b"sig".to_vec(),
            }],
        )
        .unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({
                "payload": "e30K",
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{ "keyid": "SHA256:abc", "sig": "c2ln" }],
            })
        );
        assert!(text.ends_with("}\n"));
        assert!(text.find("\"payload\"") < text.find("\"payloadType\""));
    }

    #[test]
    fn envelopes_read_back_as_written() {
        let signatures = [Signature {
            keyid: "SHA256:abc".to_string(),
            sig: vec![0xfb, 0xff, 0x00],
        }];
        let text = envelope(IN_TOTO_PAYLOAD_TYPE, b"{}\n", &signatures).unwrap();
        assert_eq!(
            parse(&text).unwrap(),
            Envelope {
                payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
                payload: b"{}\n".to_vec(),
                signatures: signatures.to_vec(),
            }
        );
        let url_safe = text.replace("+/8A", "-_8A");
        assert_eq!(parse(&url_safe).unwrap().signatures, signatures);
        for (bad, why) in [
            ("[", "it is not JSON"),
            ("{}", "it has no string `payloadType`"),
            (
                r#"{"payloadType":"t","payload":"!"}"#,
                "its `payload` is not base64",
            ),
            (
                r#"{"payloadType":"t","payload":"","signatures":[]}"#,
                "it has no signature",
            ),
            (
                r#"{"payloadType":"t","payload":"","signatures":[{"keyid":"k"}]}"#,
                "a signature's `sig` is missing",
            ),
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.starts_with(why), "{bad}: {error}");
        }
    }

    #[test]
    fn an_empty_signature_is_refused() {
        let empty = Signature {
            keyid: String::new(),
            sig: Vec::new(),
        };
        assert!(envelope(IN_TOTO_PAYLOAD_TYPE, b"{}", &[empty]).is_err());
    }
}
