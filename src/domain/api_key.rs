//! API keys: shown once, stored only as a hash.
//!
//! Keys are long random strings, so a fast hash is enough: there is nothing to brute-force that
//! a slow password hash would protect. Lookup is by hash, so no secret is ever compared with `==`.

use sha2::{Digest, Sha256};

const PREFIX: &str = "stk_";
const SECRET_LEN: usize = 32;

/// A freshly minted key: the only moment its plaintext exists.
pub struct NewApiKey {
    pub plaintext: String,
    pub hash: KeyHash,
    /// What a person sees in lists to tell keys apart (`stk_AbCd…`).
    pub display_prefix: String,
}

/// The SHA-256 of a key, hex-encoded: what the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A bearer token shaped like one of our keys (not yet known to be valid).
pub struct PresentedKey(String);

impl PresentedKey {
    pub fn parse(raw: &str) -> Option<PresentedKey> {
        let secret = raw.strip_prefix(PREFIX)?;
        let ok = secret.len() == SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| PresentedKey(raw.to_owned()))
    }

    pub fn hash(&self) -> KeyHash {
        hash(&self.0)
    }
}

pub fn generate() -> NewApiKey {
    let plaintext = format!("{PREFIX}{}", nanoid::nanoid!(SECRET_LEN, &super::code::CODE_ALPHABET));
    NewApiKey {
        hash: hash(&plaintext),
        display_prefix: plaintext[..PREFIX.len() + 4].to_owned(),
        plaintext,
    }
}

fn hash(plaintext: &str) -> KeyHash {
    KeyHash(hex::encode(Sha256::digest(plaintext.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_recognised_and_hashes_the_same() {
        let key = generate();
        let presented = PresentedKey::parse(&key.plaintext).expect("own keys parse");
        assert_eq!(presented.hash(), key.hash);
        assert!(key.plaintext.starts_with(&key.display_prefix));
        assert_eq!(key.hash.as_str().len(), 64);
    }

    #[test]
    fn tokens_of_another_shape_are_not_keys() {
        for raw in ["", "stk_", "Bearer x", "stk_short", &format!("xyz_{}", "a".repeat(32))] {
            assert!(PresentedKey::parse(raw).is_none(), "{raw}");
        }
    }
}
