use crate::error::{err, Error};
use crate::{hex, sha256, verify_ed25519};

/// Ed25519 note and checkpoint signatures, node keys.
pub const ALG_ED25519: u8 = 0x01;
/// Witness cosignatures (c2sp.org/tlog-cosignature).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// A signed-note verifier key: name+<8 hex key id>+base64(type ‖ public key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub alg: u8,
    pub public_key: Vec<u8>,
    pub key_id: String,
}

impl VerifierKey {
    /// name+keyid: the DSSE keyid HELM writes.
    pub fn handle(&self) -> String {
        format!("{}+{}", self.name, self.key_id)
    }
    pub fn vkey(&self) -> String {
        let mut raw = vec![self.alg];
        raw.extend_from_slice(&self.public_key);
        format!("{}+{}", self.handle(), base64::encode(raw))
    }
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        verify_ed25519(&self.public_key, msg, sig)
    }
}

/// First 4 bytes of SHA-256(name ‖ LF ‖ type ‖ public key), hex.
pub fn key_id(name: &str, alg: u8, public_key: &[u8]) -> String {
    let mut m = name.as_bytes().to_vec();
    m.push(b'\n');
    m.push(alg);
    m.extend_from_slice(public_key);
    hex(&sha256(&m)[..4])
}

pub(crate) fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(|c| c.is_whitespace())
}

fn valid_key_id(id: &str) -> bool {
    id.len() == 8 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Standard padded base64, refusing every other encoding of the same bytes.
pub fn strict_base64(s: &str) -> Result<Vec<u8>, Error> {
    match base64::decode(s) {
        Ok(b) if base64::encode(&b) == s => Ok(b),
        _ => Err(err!("ERR_BASE64", "not canonical standard base64 with padding")),
    }
}

/// Parses a vkey.
pub fn parse_verifier_key(vkey: &str) -> Result<VerifierKey, Error> {
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    if parts.len() != 3 {
        return Err(err!("ERR_KEY_FORMAT", "verifier key must be name+keyid+base64"));
    }
    if !valid_key_name(parts[0]) || !valid_key_id(parts[1]) {
        return Err(err!("ERR_KEY_FORMAT", "verifier key {:?} has an invalid name or key id", vkey));
    }
    let raw = strict_base64(parts[2]).map_err(|_| err!("ERR_KEY_FORMAT", "verifier key material is not base64"))?;
    if raw.len() != 33 || (raw[0] != ALG_ED25519 && raw[0] != ALG_COSIGNATURE_V1) {
        return Err(err!("ERR_KEY_FORMAT", "verifier key material must be a type byte (0x01 or 0x04) + 32-byte Ed25519 key"));
    }
    if key_id(parts[0], raw[0], &raw[1..]) != parts[1] {
        return Err(err!("ERR_KEY_FORMAT", "key id {} does not match the key", parts[1]));
    }
    Ok(VerifierKey { name: parts[0].to_string(), alg: raw[0], public_key: raw[1..].to_vec(), key_id: parts[1].to_string() })
}

/// A private key in HELM's key file format (PRIVATE+KEY+name+keyid+base64(0x01 ‖ seed)).
pub struct SigningKey {
    pub verifier: VerifierKey,
    pair: ring::signature::Ed25519KeyPair,
}

impl SigningKey {
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
    /// Reads a key file written by `helmctl keygen`.
    pub fn load(path: &str) -> Result<SigningKey, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| err!("ERR_KEY_FILE", "{}: {}", path, e))?;
        parse_signing_key(&text)
    }
}

/// Parses the text of a private key file.
pub fn parse_signing_key(text: &str) -> Result<SigningKey, Error> {
    use ring::signature::KeyPair;
    let text = text.trim();
    let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(|| err!("ERR_KEY_FORMAT", "private key must start with PRIVATE+KEY+ (write one with helmctl keygen)"))?;
    let parts: Vec<&str> = rest.splitn(3, '+').collect();
    if parts.len() != 3 || !valid_key_name(parts[0]) || !valid_key_id(parts[1]) {
        return Err(err!("ERR_KEY_FORMAT", "private key must be PRIVATE+KEY+name+keyid+base64"));
    }
    let raw = strict_base64(parts[2]).map_err(|_| err!("ERR_KEY_FORMAT", "private key material is not base64"))?;
    if raw.len() != 33 || raw[0] != ALG_ED25519 {
        return Err(err!("ERR_KEY_FORMAT", "private key material must be base64 of type 0x01 + 32-byte seed"));
    }
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&raw[1..]).map_err(|_| err!("ERR_KEY_FORMAT", "bad Ed25519 seed"))?;
    let public_key = pair.public_key().as_ref().to_vec();
    if key_id(parts[0], ALG_ED25519, &public_key) != parts[1] {
        return Err(err!("ERR_KEY_FORMAT", "key id {} does not match the key", parts[1]));
    }
    Ok(SigningKey { verifier: VerifierKey { name: parts[0].to_string(), alg: ALG_ED25519, public_key, key_id: parts[1].to_string() }, pair })
}
