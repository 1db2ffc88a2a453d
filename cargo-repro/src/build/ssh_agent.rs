//! A minimal ssh-agent client: asks the agent at `SSH_AUTH_SOCK` which keys it holds and for a
//! raw signature with one of them (draft-miller-ssh-agent: `SSH_AGENTC_REQUEST_IDENTITIES`,
//! `SSH_AGENTC_SIGN_REQUEST`), so a key whose private half is only in the agent can sign a DSSE
//! envelope.
//!
//! Written by hand over the unix socket: two messages, a few lines each, where a client crate
//! would bring its own async runtime or key types. Every read has a timeout, so an agent that
//! never answers (or waits for a confirmation no one gives) is an error, not a hang.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long the agent may take to answer one request (it may ask its user to confirm).
const TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer read: far above any key list or signature.
const MAX_MESSAGE: u32 = 256 * 1024;

const SSH_AGENT_FAILURE: u8 = 5;
const SSH_AGENTC_REQUEST_IDENTITIES: u8 = 11;
const SSH_AGENT_IDENTITIES_ANSWER: u8 = 12;
const SSH_AGENTC_SIGN_REQUEST: u8 = 13;
const SSH_AGENT_SIGN_RESPONSE: u8 = 14;

/// A connection to the agent.
pub struct Agent {
    stream: UnixStream,
}

impl Agent {
    /// Connects to the agent `SSH_AUTH_SOCK` names; the error says why it cannot (the caller
    /// says what to do).
    pub fn connect() -> anyhow::Result<Agent> {
        let Some(socket) = std::env::var_os("SSH_AUTH_SOCK").filter(|s| !s.is_empty()) else {
            anyhow::bail!("SSH_AUTH_SOCK is not set");
        };
        let stream = UnixStream::connect(&socket).map_err(|e| {
            anyhow::anyhow!(
                "the ssh-agent at SSH_AUTH_SOCK cannot be reached: {}",
                crate::workspace::source_file::io_reason(&e)
            )
        })?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        Ok(Agent { stream })
    }

    /// The public key blobs (SSH wire encoding) of the keys the agent holds.
    pub fn identities(&mut self) -> anyhow::Result<Vec<Vec<u8>>> {
        let answer = self.request(&[SSH_AGENTC_REQUEST_IDENTITIES])?;
        let mut reader = Reader(&answer);
        match reader.byte()? {
            SSH_AGENT_IDENTITIES_ANSWER => {}
            SSH_AGENT_FAILURE => anyhow::bail!("ssh-agent refused to list its keys"),
            other => anyhow::bail!("ssh-agent answered message {other} to a key listing"),
        }
        let count = reader.u32()?;
        let mut keys = Vec::new();
        for _ in 0..count {
            keys.push(reader.string()?.to_vec());
            reader.string()?; // the comment
        }
        Ok(keys)
    }

    /// The agent's signature of `data` with the key `key_blob`: the signature blob's algorithm
    /// name and raw signature bytes (for ed25519, the 64-byte signature).
    pub fn sign(&mut self, key_blob: &[u8], data: &[u8]) -> anyhow::Result<(String, Vec<u8>)> {
        let mut message = vec![SSH_AGENTC_SIGN_REQUEST];
        put_string(&mut message, key_blob)?;
        put_string(&mut message, data)?;
        message.extend_from_slice(&0u32.to_be_bytes()); // flags: none (no rsa-sha2 choice)
        let answer = self.request(&message)?;
        let mut reader = Reader(&answer);
        match reader.byte()? {
            SSH_AGENT_SIGN_RESPONSE => {}
            SSH_AGENT_FAILURE => anyhow::bail!(
                "ssh-agent refused to sign (the key is not in it, or its confirmation was declined)"
            ),
            other => anyhow::bail!("ssh-agent answered message {other} to a sign request"),
        }
        let blob = reader.string()?;
        let mut signature = Reader(blob);
        let algorithm = String::from_utf8_lossy(signature.string()?).into_owned();
        let bytes = signature.string()?.to_vec();
        Ok((algorithm, bytes))
    }

    /// Sends one message and reads its answer (both framed by a 4-byte length).
    fn request(&mut self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut framed = Vec::with_capacity(message.len() + 4);
        put_string(&mut framed, message)?;
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                anyhow::anyhow!("ssh-agent did not answer within {} s", TIMEOUT.as_secs())
            }
            _ => anyhow::anyhow!(
                "cannot talk to ssh-agent: {}",
                crate::workspace::source_file::io_reason(&e)
            ),
        };
        self.stream.write_all(&framed).map_err(io)?;
        let mut length = [0u8; 4];
        self.stream.read_exact(&mut length).map_err(io)?;
        let length = u32::from_be_bytes(length);
        if length == 0 || length > MAX_MESSAGE {
            anyhow::bail!(
                "ssh-agent sent a message of {length} bytes; is SSH_AUTH_SOCK an ssh-agent?"
            );
        }
        let mut answer = vec![0u8; length as usize];
        self.stream.read_exact(&mut answer).map_err(io)?;
        Ok(answer)
    }
}

/// Appends `bytes` as an SSH `string` (4-byte big-endian length, then the bytes).
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) -> anyhow::Result<()> {
    let length = u32::try_from(bytes.len())
        .map_err(|_| anyhow::anyhow!("{} bytes are too many to send to ssh-agent", bytes.len()))?;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Reads SSH wire types from an agent's answer; running short is an error.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        if self.0.len() < n {
            anyhow::bail!("ssh-agent sent a truncated answer");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> anyhow::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> anyhow::Result<u32> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn string(&mut self) -> anyhow::Result<&'a [u8]> {
        let length = self.u32()? as usize;
        self.take(length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_length_prefixed_and_truncation_is_an_error() {
        let mut out = Vec::new();
        put_string(&mut out, b"ssh-ed25519").unwrap();
        assert_eq!(&out[..4], &[0, 0, 0, 11]);
        let mut reader = Reader(&out);
        assert_eq!(reader.string().unwrap(), b"ssh-ed25519");
        assert!(reader.byte().is_err());
        let mut short = Reader(&out[..8]);
        assert!(short.string().is_err());
    }
}
