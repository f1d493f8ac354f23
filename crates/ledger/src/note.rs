//! Checkpoints, signed notes and witness cosignatures in the C2SP formats
//! (`signed-note`, `tlog-checkpoint`, `tlog-cosignature`), so that witnesses written for other
//! transparency logs can cosign this one's heads and ours can cosign theirs. Pure: no I/O, no
//! clock.
//!
//! * A checkpoint's body is `"<origin>\n<size>\n<base64 root>\n"` and any extension lines.
//! * A signed note is the body, a blank line, then lines `"— <key name> <base64(key id ‖ sig)>"`.
//! * The log signs the body with Ed25519 (signature type 0x01) under the name of its origin.
//! * A witness's cosignature (type 0x04, `cosignature/v1`) signs
//!   `"cosignature/v1\ntime <unix seconds>\n" + body`; its bytes are key id ‖ time (u64,
//!   big-endian) ‖ signature.
//! * A verifier key is `"<name>+<hex key id>+<base64(type ‖ public key)>"`.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{failed, invalid, Result};
use crate::merkle::Hash;

/// Signature type of a log's Ed25519 note signature.
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of a witness's timestamped Ed25519 cosignature (`cosignature/v1`).
pub const TYPE_COSIGNATURE: u8 = 0x04;
/// The em dash that starts every signature line.
const DASH: &str = "\u{2014} ";
/// A note with more signatures than this is refused (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 100;

/// The key id of a note key: the first four bytes of SHA-256(name ‖ `\n` ‖ type ‖ public key).
pub fn key_id(name: &str, kind: u8, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return Err(invalid(format!(
            "{name:?} cannot name a note key: a key name must be non-empty, without spaces or '+' \
             (for example example.org/audit-log)"
        )));
    }
    Ok(())
}

/// A public key that verifies note signatures: a log's (type 0x01) or a witness's (type 0x04).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub kind: u8,
    pub key: VerifyingKey,
}

impl NoteVerifier {
    /// A log's key, signing checkpoints under the name `origin`.
    pub fn log(origin: &str, key: VerifyingKey) -> Result<Self> {
        check_name(origin)?;
        Ok(Self {
            name: origin.to_owned(),
            kind: TYPE_ED25519,
            key,
        })
    }

    /// A witness's key, cosigning under `name`.
    pub fn witness(name: &str, key: VerifyingKey) -> Result<Self> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            kind: TYPE_COSIGNATURE,
            key,
        })
    }

    pub fn id(&self) -> u32 {
        key_id(&self.name, self.kind, &self.key)
    }

    /// Parses a verifier key, `<name>+<hex key id>+<base64(type ‖ public key)>`.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = |why: &str| {
            invalid(format!(
                "{text:?} is not a note verifier key ({why}); it looks like \
                 name+1a2b3c4d+AQ...= (ask the key's owner for the line their tool prints)"
            ))
        };
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("it needs three parts separated by '+'"));
        };
        check_name(name)?;
        let id = u32::from_str_radix(id, 16)
            .ok()
            .filter(|_| id.len() == 8)
            .ok_or_else(|| bad("the key id is not 8 hex digits"))?;
        let raw = B64.decode(key).map_err(|_| bad("the key is not base64"))?;
        let (kind, key) = match raw.split_first() {
            Some((&k, rest))
                if rest.len() == 32 && (k == TYPE_ED25519 || k == TYPE_COSIGNATURE) =>
            {
                (k, rest)
            }
            _ => return Err(bad("only Ed25519 keys of type 01 or 04 are supported")),
        };
        let key = VerifyingKey::from_bytes(key.try_into().expect("32 bytes"))
            .map_err(|_| bad("the key is not a valid Ed25519 point"))?;
        let v = Self {
            name: name.to_owned(),
            kind,
            key,
        };
        if v.id() != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(v)
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![self.kind];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id(), B64.encode(raw))
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: u32,
    /// The bytes after the key id.
    pub bytes: Vec<u8>,
}

impl NoteSignature {
    /// Parses `"— <name> <base64>"` (without the newline).
    pub fn parse_line(line: &str) -> Result<Self> {
        let bad = || {
            invalid(format!(
                "{line:?} is not a note signature line (\"— <key name> <base64 signature>\")"
            ))
        };
        let rest = line.strip_prefix(DASH).ok_or_else(bad)?;
        let (name, sig) = rest.split_once(' ').ok_or_else(bad)?;
        check_name(name).map_err(|_| bad())?;
        let raw = B64.decode(sig).map_err(|_| bad())?;
        if raw.len() < 5 {
            return Err(bad());
        }
        Ok(Self {
            name: name.to_owned(),
            id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            bytes: raw[4..].to_vec(),
        })
    }

    fn is_from(&self, v: &NoteVerifier) -> bool {
        self.name == v.name && self.id == v.id()
    }
}

impl fmt::Display for NoteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.bytes);
        write!(f, "{DASH}{} {}", self.name, B64.encode(raw))
    }
}

/// A signed note: its text (ending in a newline) and its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note; the text is separated from the signatures by the last blank line.
    pub fn parse(note: &str) -> Result<Self> {
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(invalid("a signed note may not hold control characters"));
        }
        let split = note.rfind("\n\n").ok_or_else(|| {
            invalid("a signed note needs its text, a blank line, then signature lines")
        })?;
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        let sigs = sigs.strip_suffix('\n').ok_or_else(|| {
            invalid("a signed note must end with a newline after its last signature")
        })?;
        let signatures = sigs
            .split('\n')
            .map(NoteSignature::parse_line)
            .collect::<Result<Vec<_>>>()?;
        if signatures.len() > MAX_SIGNATURES {
            return Err(invalid(format!(
                "a signed note may carry at most {MAX_SIGNATURES} signatures"
            )));
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Adds signature lines (`"— ...\n"` each, as a witness answers) that are not there yet.
    pub fn add_signature_lines(&mut self, lines: &str) -> Result<()> {
        for line in lines.lines().filter(|l| !l.is_empty()) {
            let s = NoteSignature::parse_line(line)?;
            if !self.signatures.contains(&s) {
                self.signatures.push(s);
            }
        }
        Ok(())
    }

    /// Signs the text with each key, under `name`, as Ed25519 note signatures.
    pub fn sign(&mut self, name: &str, keys: &[&SigningKey]) -> Result<()> {
        check_name(name)?;
        for key in keys {
            let sig = key.sign(self.text.as_bytes());
            self.signatures.push(NoteSignature {
                name: name.to_owned(),
                id: key_id(name, TYPE_ED25519, &key.verifying_key()),
                bytes: sig.to_bytes().to_vec(),
            });
        }
        Ok(())
    }

    /// Checks the log's signatures: every signature by one of `keys` must verify, and at least
    /// one must be there; signatures by other keys are ignored.
    pub fn verify_signed_by(&self, keys: &[NoteVerifier]) -> Result<()> {
        let mut verified = false;
        for s in &self.signatures {
            for v in keys
                .iter()
                .filter(|v| v.kind == TYPE_ED25519 && s.is_from(v))
            {
                let sig = <[u8; 64]>::try_from(s.bytes.as_slice())
                    .map(|b| Signature::from_bytes(&b))
                    .map_err(|_| failed(format!("the signature by {} is not 64 bytes", v.name)))?;
                v.key
                    .verify_strict(self.text.as_bytes(), &sig)
                    .map_err(|_| {
                        failed(format!(
                            "the signature by {} does not verify: the note was altered or \
                             signed by another key",
                            v.name
                        ))
                    })?;
                verified = true;
            }
        }
        if verified {
            Ok(())
        } else {
            Err(failed(
                "the note carries no signature by a key it is checked against",
            ))
        }
    }

    /// The witnesses among `trusted` whose valid cosignature the note carries, each once, with
    /// the time each cosigned; [`Err`] when a signature that claims to be by one of them does
    /// not verify.
    pub fn cosigners<'a>(
        &self,
        trusted: &'a [NoteVerifier],
    ) -> Result<Vec<(&'a NoteVerifier, u64)>> {
        let mut found: Vec<(&NoteVerifier, u64)> = Vec::new();
        for s in &self.signatures {
            for v in trusted
                .iter()
                .filter(|v| v.kind == TYPE_COSIGNATURE && s.is_from(v))
            {
                let time = verify_cosignature(&self.text, v, &s.bytes)?;
                if !found.iter().any(|(w, _)| *w == v) {
                    found.push((v, time));
                }
            }
        }
        Ok(found)
    }

    /// Fails, in plain words, unless `k` distinct witnesses among `trusted` validly cosigned
    /// the note.
    pub fn require_cosignatures(&self, trusted: &[NoteVerifier], k: usize) -> Result<()> {
        let found = self.cosigners(trusted)?;
        if found.len() >= k {
            return Ok(());
        }
        let names: Vec<&str> = found.iter().map(|(v, _)| v.name.as_str()).collect();
        Err(failed(format!(
            "the checkpoint carries valid cosignatures from {} of the {} trusted witnesses ({}), \
             but {k} are required: the witnesses have not seen this tree head, or refused it as \
             a rewrite of the history they cosigned",
            found.len(),
            trusted.len(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )))
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.text)?;
        for s in &self.signatures {
            writeln!(f, "{s}")?;
        }
        Ok(())
    }
}

/// The message a `cosignature/v1` signs.
fn cosigned_message(text: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{text}")
}

/// A witness's `cosignature/v1` over a checkpoint's text at `time` (Unix seconds).
pub fn cosign(text: &str, name: &str, key: &SigningKey, time: u64) -> Result<NoteSignature> {
    check_name(name)?;
    let sig = key.sign(cosigned_message(text, time).as_bytes());
    let mut bytes = time.to_be_bytes().to_vec();
    bytes.extend_from_slice(&sig.to_bytes());
    Ok(NoteSignature {
        name: name.to_owned(),
        id: key_id(name, TYPE_COSIGNATURE, &key.verifying_key()),
        bytes,
    })
}

/// Verifies a cosignature's bytes (time ‖ signature) over `text`; returns its time.
fn verify_cosignature(text: &str, v: &NoteVerifier, bytes: &[u8]) -> Result<u64> {
    let bad = || {
        failed(format!(
            "the cosignature by witness {} does not verify: the checkpoint was altered after \
             the witness signed it",
            v.name
        ))
    };
    if bytes.len() != 72 {
        return Err(bad());
    }
    let time = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    let sig = Signature::from_bytes(bytes[8..].try_into().expect("64 bytes"));
    v.key
        .verify_strict(cosigned_message(text, time).as_bytes(), &sig)
        .map_err(|_| bad())?;
    Ok(time)
}

/// A checkpoint: the body of a signed note naming a log's size and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines, without their newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text.
    pub fn text(&self) -> String {
        let mut t = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            t.push_str(e);
            t.push('\n');
        }
        t
    }

    /// Parses a note text as a checkpoint.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            invalid(format!(
                "not a checkpoint ({why}): expected the origin, the size and the base64 root \
                 hash on three lines"
            ))
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("no final newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("no origin"))?;
        let size = lines
            .next()
            .filter(|s| s == &"0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("the size is not a decimal number"))?;
        let root = lines
            .next()
            .and_then(|r| B64.decode(r).ok())
            .and_then(|r| Hash::try_from(r.as_slice()).ok())
            .ok_or_else(|| bad("the root hash is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an extension line is empty"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// Signs a checkpoint of `size` and `root` with each of a log's keys under its origin.
pub fn sign_checkpoint(origin: &str, size: u64, root: Hash, keys: &[&SigningKey]) -> Result<Note> {
    let mut note = Note {
        text: Checkpoint::new(origin, size, root).text(),
        signatures: Vec::new(),
    };
    note.sign(origin, keys)?;
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    // golang.org/x/mod/sumdb/note's documented example.
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_SEED: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n";
    const GO_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

    fn go_key() -> SigningKey {
        let raw = B64.decode(GO_SEED).unwrap();
        assert_eq!(raw[0], TYPE_ED25519);
        SigningKey::from_bytes(raw[1..].try_into().unwrap())
    }

    #[test]
    fn go_example_signs_and_verifies_byte_for_byte() {
        let v = NoteVerifier::parse(GO_VKEY).unwrap();
        assert_eq!(v.to_string(), GO_VKEY);
        let key = go_key();
        assert_eq!(
            NoteVerifier::log("PeterNeumann", key.verifying_key()).unwrap(),
            v
        );
        let mut note = Note {
            text: GO_TEXT.into(),
            signatures: vec![],
        };
        note.sign("PeterNeumann", &[&key]).unwrap();
        assert_eq!(note.to_string(), format!("{GO_TEXT}\n{GO_SIG}\n"));
        let parsed = Note::parse(&note.to_string()).unwrap();
        parsed.verify_signed_by(std::slice::from_ref(&v)).unwrap();
    }

    #[test]
    fn c2sp_example_verifies_and_tampering_fails() {
        let v = NoteVerifier::parse(
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        )
        .unwrap();
        let text = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        let note = Note::parse(text).unwrap();
        note.verify_signed_by(std::slice::from_ref(&v)).unwrap();
        let altered = Note::parse(&text.replace("example message", "example massage")).unwrap();
        assert!(altered.verify_signed_by(std::slice::from_ref(&v)).is_err());
        // A note by nobody we know is refused.
        let other = NoteVerifier::log("example.com/foo", go_key().verifying_key()).unwrap();
        assert!(note.verify_signed_by(&[other]).is_err());
    }

    #[test]
    fn bad_verifier_keys_are_refused_in_plain_words() {
        for bad in [
            "",
            "name+zz+AQ==",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ApaA",
        ] {
            let e = NoteVerifier::parse(bad).unwrap_err().to_string();
            assert!(e.contains("verifier key") || e.contains("key name"), "{e}");
        }
    }

    #[test]
    fn checkpoint_text_round_trips() {
        let c = Checkpoint::new("example.org/log", 20852163, [7u8; 32]);
        let text = c.text();
        assert_eq!(
            text,
            format!("example.org/log\n20852163\n{}\n", B64.encode([7u8; 32]))
        );
        assert_eq!(Checkpoint::parse(&text).unwrap(), c);
        for bad in [
            "a\n01\nAAAA\n",
            "a\n1\n",
            "a\n1\nAAAA\n",
            "a\n1\nnot base64\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cosignatures_count_distinct_trusted_witnesses() {
        let log = SigningKey::from_bytes(&[1u8; 32]);
        let (w1, w2) = (
            SigningKey::from_bytes(&[2u8; 32]),
            SigningKey::from_bytes(&[3u8; 32]),
        );
        let mut note = sign_checkpoint("example.org/log", 5, [9u8; 32], &[&log]).unwrap();
        let v1 = NoteVerifier::witness("w1.example", w1.verifying_key()).unwrap();
        let v2 = NoteVerifier::witness("w2.example", w2.verifying_key()).unwrap();
        let trusted = [v1.clone(), v2.clone()];
        assert!(note.require_cosignatures(&trusted, 1).is_err());
        let line = cosign(&note.text, "w1.example", &w1, 1_700_000_000).unwrap();
        assert_eq!(line.bytes.len(), 72);
        assert_eq!(&line.bytes[..8], &1_700_000_000u64.to_be_bytes());
        note.add_signature_lines(&format!("{line}\n{line}\n"))
            .unwrap();
        let note = Note::parse(&note.to_string()).unwrap();
        note.require_cosignatures(&trusted, 1).unwrap();
        let e = note
            .require_cosignatures(&trusted, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 of the 2") && e.contains("w1.example"), "{e}");
        // A cosignature over another checkpoint does not count: it fails.
        let mut moved = sign_checkpoint("example.org/log", 6, [9u8; 32], &[&log]).unwrap();
        moved.signatures.push(line);
        assert!(moved.require_cosignatures(&trusted, 1).is_err());
        // The log's key verifies the log's signature, not as a witness.
        let log_v = NoteVerifier::log("example.org/log", log.verifying_key()).unwrap();
        note.verify_signed_by(std::slice::from_ref(&log_v)).unwrap();
        assert!(note.require_cosignatures(&[log_v], 1).is_err());
        assert_eq!(v2.kind, TYPE_COSIGNATURE);
    }
}
