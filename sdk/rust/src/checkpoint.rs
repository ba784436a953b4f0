use crate::error::{err, Error};
use crate::keys::{strict_base64, VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};
use crate::note::{check_note_syntax, open_note};
use crate::policy::TrustPolicy;
use crate::sha256;
use std::collections::HashSet;

pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// Opens every c2sp.org/tlog-proof@v1 text.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed c2sp.org/tlog-checkpoint text.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
    pub extensions: Vec<String>,
}

/// A checkpoint that satisfies a trust policy.
#[derive(Debug, Clone)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    pub log_key: VerifierKey,
    pub witnesses: Vec<String>,
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.len() <= 16 && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// Parses "<origin>\n<size>\n<base64 root>\n[<extension>\n]...".
pub fn parse_checkpoint_text(text: &str) -> Result<Checkpoint, Error> {
    let bad = |m: String| err!("ERR_CHECKPOINT_MALFORMED", "{}", m);
    let body = text.strip_suffix('\n').ok_or_else(|| bad("checkpoint text must end in a newline".into()))?;
    let lines: Vec<&str> = body.split('\n').collect();
    if lines.len() < 3 {
        return Err(bad(format!("checkpoint text has {} lines, needs at least 3", lines.len())));
    }
    if lines[0].is_empty() || lines[3..].iter().any(|l| l.is_empty()) {
        return Err(bad("origin and extension lines must not be empty".into()));
    }
    if !is_decimal(lines[1]) || lines[1].parse::<u64>().map_or(true, |s| s > MAX_SAFE_INTEGER) {
        return Err(bad(format!("tree size {:?} is not a decimal in 0..2^53-1 without leading zeros", lines[1])));
    }
    let root = strict_base64(lines[2]).ok().filter(|r| r.len() == 32).ok_or_else(|| bad("root hash is not 32 bytes of standard base64".into()))?;
    let mut r = [0u8; 32];
    r.copy_from_slice(&root);
    Ok(Checkpoint { origin: lines[0].to_string(), size: lines[1].parse().unwrap(), root: r, extensions: lines[3..].iter().map(|s| s.to_string()).collect() })
}

/// Checks a checkpoint note against a policy (trust-policy.md §2.1).
pub fn verify_checkpoint(note: &str, p: &TrustPolicy) -> Result<VerifiedCheckpoint, Error> {
    let mut known = p.logs.clone();
    known.extend(p.witnesses.values().cloned());
    let (text, verified) = open_note(note, &known).map_err(|e| match e.code.as_str() {
        "ERR_NOTE_BAD_SIGNATURE" => err!("ERR_CHECKPOINT_BAD_SIGNATURE", "{}", e.message),
        "ERR_NOTE_UNVERIFIED" => err!("ERR_CHECKPOINT_UNTRUSTED", "checkpoint has no signature by a key of {}", p.source),
        _ => err!("ERR_CHECKPOINT_MALFORMED", "{}", e.message),
    })?;
    let c = parse_checkpoint_text(&text)?;
    let log_key = verified.iter().find(|v| v.key.alg == ALG_ED25519 && v.key.name == c.origin).map(|v| v.key.clone());
    let mut witnesses = vec![];
    let mut cosigned = HashSet::new();
    for v in verified.iter().filter(|v| v.key.alg == ALG_COSIGNATURE_V1) {
        for (name, w) in &p.witnesses {
            if w.handle() == v.key.handle() {
                cosigned.insert(name.clone());
                witnesses.push(name.clone());
            }
        }
    }
    let log_key = log_key.ok_or_else(|| err!("ERR_CHECKPOINT_UNTRUSTED", "checkpoint for {:?} has no signature by a policy log key of that name", c.origin))?;
    if !p.satisfied(&p.quorum, &cosigned) {
        return Err(err!("ERR_QUORUM_NOT_MET", "checkpoint {}@{}: cosigned by {:?}, which does not satisfy quorum {} of {}", c.origin, c.size, witnesses, p.quorum, p.source));
    }
    Ok(VerifiedCheckpoint { checkpoint: c, log_key, witnesses })
}

/// RFC 6962 leaf hash SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut m = vec![0u8];
    m.extend_from_slice(entry);
    sha256(&m)
}

fn node_hash(l: &[u8], r: &[u8]) -> [u8; 32] {
    let mut m = vec![1u8];
    m.extend_from_slice(l);
    m.extend_from_slice(r);
    sha256(&m)
}

/// Checks an RFC 6962 audit path (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &[u8; 32], proof: &[[u8; 32]], root: &[u8; 32]) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// A parsed offline inclusion proof.
#[derive(Debug, Clone)]
pub struct TlogProof {
    pub index: u64,
    pub proof: Vec<[u8; 32]>,
    pub checkpoint: String,
    pub extra: Option<Vec<u8>>,
}

/// Parses a proof strictly (ERR_TLOG_PROOF_MALFORMED).
pub fn parse_tlog_proof(text: &str) -> Result<TlogProof, Error> {
    let bad = |m: String| err!("ERR_TLOG_PROOF_MALFORMED", "{}", m);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    let mut next = || {
        i += 1;
        lines.get(i - 1).copied()
    };
    if next() != Some(TLOG_PROOF_HEADER) {
        return Err(bad(format!("first line must be {}", TLOG_PROOF_HEADER)));
    }
    let mut line = next().unwrap_or("");
    let mut extra = None;
    if let Some(e) = line.strip_prefix("extra ") {
        extra = Some(strict_base64(e).map_err(|_| bad("extra: not base64".into()))?);
        line = next().unwrap_or("");
    }
    let idx = line.strip_prefix("index ").filter(|s| is_decimal(s)).and_then(|s| s.parse::<u64>().ok()).filter(|n| *n <= MAX_SAFE_INTEGER);
    let index = idx.ok_or_else(|| bad(format!("expected \"index <decimal without leading zeros>\", got {:?}", line)))?;
    let mut proof = vec![];
    loop {
        match next() {
            None => return Err(bad("no empty line before the checkpoint".into())),
            Some("") => break,
            Some(l) => {
                if proof.len() == 63 {
                    return Err(bad("proof has more than 63 hashes".into()));
                }
                let h = strict_base64(l).ok().filter(|h| h.len() == 32).ok_or_else(|| bad(format!("proof line {} is not a base64 SHA-256 hash", proof.len() + 1)))?;
                let mut a = [0u8; 32];
                a.copy_from_slice(&h);
                proof.push(a);
            }
        }
    }
    let checkpoint = lines[i..].join("\n");
    check_note_syntax(&checkpoint).map_err(|e| bad(format!("checkpoint: {}", e.message)))?;
    Ok(TlogProof { index, proof, checkpoint, extra })
}

/// Verifies a proof for `entry` against a policy: checkpoint (§2.1), index below its size
/// (ERR_TLOG_PROOF_INDEX), audit path to the signed root (ERR_TLOG_PROOF_INCLUSION).
pub fn verify_tlog_proof(text: &str, entry: &[u8], p: &TrustPolicy) -> Result<(VerifiedCheckpoint, u64), Error> {
    let proof = parse_tlog_proof(text)?;
    let cp = verify_checkpoint(&proof.checkpoint, p)?;
    let c = &cp.checkpoint;
    if proof.index >= c.size {
        return Err(err!("ERR_TLOG_PROOF_INDEX", "index {} is not below the checkpoint size {} of {}", proof.index, c.size, c.origin));
    }
    if !verify_inclusion(proof.index, c.size, &leaf_hash(entry), &proof.proof, &c.root) {
        return Err(err!("ERR_TLOG_PROOF_INCLUSION", "entry is not included at index {} of {}@{}", proof.index, c.origin, c.size));
    }
    Ok((cp, proof.index))
}
