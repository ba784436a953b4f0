use crate::checkpoint::{verify_tlog_proof, VerifiedCheckpoint};
use crate::error::{err, Error};
use crate::jcs::{canonicalize, parse_json};
use crate::keys::{parse_verifier_key, VerifierKey, ALG_ED25519};
use crate::node::{check_envelope, decode_node, pae, safe_uint, Node, IN_TOTO_PAYLOAD_TYPE};
use crate::policy::TrustPolicy;
use crate::{hex, sha256};
use serde_json::Value;
use std::collections::HashMap;

/// A verified trust event (receipt.md §7).
#[derive(Debug, Clone)]
pub struct KeyEvent {
    pub event: String,
    pub purpose: String,
    pub origin: String,
    pub key: VerifierKey,
    pub new_key: Option<VerifierKey>,
    pub from_index: u64,
}

fn ed_key(v: Option<&Value>, what: &str) -> Result<VerifierKey, Error> {
    v.and_then(Value::as_str)
        .and_then(|s| parse_verifier_key(s).ok())
        .filter(|k| k.alg == ALG_ED25519)
        .ok_or_else(|| err!("ERR_TRUST_EVENT_INVALID", "trust event {} must be an Ed25519 note key", what))
}

/// Verifies a trust event envelope: canonical payload, subject digest, and valid signatures by
/// the root and by every key the event names.
pub fn open_key_event(envelope: &Value, root: &VerifierKey) -> Result<KeyEvent, Error> {
    let bad = |m: &str| err!("ERR_TRUST_EVENT_INVALID", "{}", m);
    let env = check_envelope(envelope).map_err(|e| bad(&e.message))?;
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(bad("trust event payloadType is not in-toto"));
    }
    let st = parse_json(&env.payload).map_err(|_| bad("trust event payload is not JSON"))?;
    if canonicalize(&st)? != env.payload {
        return Err(bad("trust event payload is not canonical JSON"));
    }
    if let Some(p) = crate::schema::bundled_problem("trust-event.v1.json", &st) {
        return Err(bad(&format!("trust event {}", p)));
    }
    if st["predicateType"].as_str() != Some("https://helm.mindburn.org/trust/key-event/v1") {
        return Err(bad("predicateType is not https://helm.mindburn.org/trust/key-event/v1"));
    }
    let pred = &st["predicate"];
    if !pred.is_object() || st["subject"].as_array().map_or(true, |a| a.len() != 1) {
        return Err(bad("trust event statement must have a predicate and one subject"));
    }
    if st["subject"][0]["digest"]["sha256"].as_str() != Some(hex(&sha256(&canonicalize(pred)?)).as_str()) {
        return Err(bad("trust event subject digest mismatch"));
    }
    let origin = pred["origin"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| bad("trust event needs an origin"))?.to_string();
    let from_index = safe_uint(&pred["fromIndex"]).ok_or_else(|| bad("trust event needs fromIndex"))?;
    let event = pred["event"].as_str().unwrap_or("").to_string();
    let purpose = pred["purpose"].as_str().unwrap_or("node").to_string();
    let key = ed_key(pred.get("key"), "key")?;
    let mut named = vec![key.clone()];
    let mut new_key = None;
    match event.as_str() {
        "KEY_PUBLISH" => {}
        "KEY_REVOKE" => named.clear(),
        "KEY_ROTATE" => {
            let nk = ed_key(pred.get("newKey"), "newKey")?;
            named.push(nk.clone());
            new_key = Some(nk);
        }
        other => return Err(err!("ERR_TRUST_EVENT_INVALID", "unknown event {:?}", other)),
    }
    if purpose == "log" && (event != "KEY_PUBLISH" || from_index != 0 || key.name != origin) {
        return Err(bad("a log-key event must be KEY_PUBLISH from index 0 of a key named after its origin"));
    }
    let msg = pae(&env.payload_type, &env.payload);
    for need in std::iter::once(root).chain(named.iter()) {
        let sig = env.sigs.iter().find(|(k, _)| *k == need.handle()).ok_or_else(|| err!("ERR_TRUST_EVENT_UNAUTHORISED", "{} for {} lacks a signature by {}", event, origin, need.handle()))?;
        if !need.verify(&msg, &sig.1) {
            return Err(err!("ERR_TRUST_EVENT_UNAUTHORISED", "{} for {}: bad signature by {}", event, origin, need.handle()));
        }
    }
    Ok(KeyEvent { event, purpose, origin, key, new_key, from_index })
}

struct KeyRecord {
    key: VerifierKey,
    valid_from: u64,
    rotated_at: u64,
    revoked_from: u64,
}

/// The node keys and log keys the policy's root authorised. Folding uses only minima of
/// positions, so the order events are added in does not matter.
pub struct TrustRegistry {
    policy: TrustPolicy,
    records: HashMap<(String, String), KeyRecord>,
    log_keys: Vec<VerifierKey>,
}

/// A receipt whose signature and inclusion in a signed checkpoint verified.
#[derive(Debug, Clone)]
pub struct VerifiedReceipt {
    pub node: Node,
    pub signed_by: VerifierKey,
    pub checkpoint: VerifiedCheckpoint,
}

impl TrustRegistry {
    pub fn new(policy: TrustPolicy) -> TrustRegistry {
        TrustRegistry { policy, records: HashMap::new(), log_keys: vec![] }
    }

    fn record(&mut self, origin: &str, k: &VerifierKey) -> &mut KeyRecord {
        self.records.entry((origin.to_string(), k.handle())).or_insert_with(|| KeyRecord { key: k.clone(), valid_from: u64::MAX, rotated_at: u64::MAX, revoked_from: u64::MAX })
    }

    /// Verifies a trust event envelope (e.g. a trust node's body.event) and folds it in.
    pub fn add(&mut self, envelope: &Value) -> Result<KeyEvent, Error> {
        let root = self.policy.root.clone().ok_or_else(|| err!("ERR_TRUST_NO_ROOT", "the trust policy names no root key, so no trust event can be accepted"))?;
        let ev = open_key_event(envelope, &root)?;
        if ev.purpose == "log" {
            self.log_keys.push(ev.key.clone());
            return Ok(ev);
        }
        match ev.event.as_str() {
            "KEY_PUBLISH" => {
                let r = self.record(&ev.origin, &ev.key);
                r.valid_from = r.valid_from.min(ev.from_index);
            }
            "KEY_ROTATE" => {
                let r = self.record(&ev.origin, &ev.key);
                r.rotated_at = r.rotated_at.min(ev.from_index);
                let nk = ev.new_key.clone().unwrap();
                let n = self.record(&ev.origin, &nk);
                n.valid_from = n.valid_from.min(ev.from_index);
            }
            _ => {
                let r = self.record(&ev.origin, &ev.key);
                r.revoked_from = r.revoked_from.min(ev.from_index);
            }
        }
        Ok(ev)
    }

    /// Adds the trust event a decoded trust node carries.
    pub fn add_trust_node(&mut self, n: &Node) -> Result<KeyEvent, Error> {
        if n.kind != "trust" {
            return Err(err!("ERR_TRUST_EVENT_INVALID", "node {} of {} is a {} node, not a trust node", n.index, n.origin, n.kind));
        }
        let ev = n.body()["event"].clone();
        self.add(&ev)
    }

    fn resolve(&self, handle: &str, origin: &str, index: u64) -> Result<&VerifierKey, String> {
        match self.records.get(&(origin.to_string(), handle.to_string())) {
            None => Err(format!("key {} was never published by the root key for {}", handle, origin)),
            Some(r) if r.valid_from == u64::MAX => Err(format!("key {} was never published by the root key for {}", handle, origin)),
            Some(r) if index >= r.revoked_from => Err(format!("key {} is revoked", handle)),
            Some(r) if index >= r.rotated_at => Err(format!("key {} was rotated out", handle)),
            Some(r) if index < r.valid_from => Err(format!("key {} is not valid yet at this index", handle)),
            Some(r) => Ok(&r.key),
        }
    }

    /// Checks a node's signatures (receipt.md §8 step 4): one by a key valid for (origin, index)
    /// must verify (ERR_UNTRUSTED_SIGNER otherwise); a known key's bad signature is ERR_SIGNATURE.
    pub fn verify_node(&self, n: &Node) -> Result<VerifierKey, Error> {
        let mut good = None;
        let mut why = vec![];
        for (keyid, sig) in &n.signatures {
            match self.resolve(keyid, &n.origin, n.index) {
                Err(reason) => why.push(reason),
                Ok(k) => {
                    if !k.verify(&n.pae, sig) {
                        return Err(err!("ERR_SIGNATURE", "signature by {} does not verify: the node was altered after signing", keyid));
                    }
                    good.get_or_insert_with(|| k.clone());
                }
            }
        }
        good.ok_or_else(|| err!("ERR_UNTRUSTED_SIGNER", "no signature by a key the root published for {} at index {} ({})", n.origin, n.index, why.join("; ")))
    }

    /// Verifies one receipt offline: decode_node, verify_node, and its tlog-proof at its own index
    /// under a checkpoint the policy (or a root-certified log key) signed.
    pub fn verify_receipt(&self, entry: &[u8], tlog_proof: &str) -> Result<VerifiedReceipt, Error> {
        let node = decode_node(entry)?;
        let signed_by = self.verify_node(&node)?;
        let mut p = self.policy.clone();
        p.logs.extend(self.log_keys.iter().cloned());
        let (checkpoint, index) = verify_tlog_proof(tlog_proof, entry, &p)?;
        if checkpoint.checkpoint.origin != node.origin {
            return Err(err!("ERR_TLOG_PROOF_ORIGIN", "proof is for log {} but the node is in {}", checkpoint.checkpoint.origin, node.origin));
        }
        if index != node.index {
            return Err(err!("ERR_TLOG_PROOF_INDEX", "proof is for index {} but the node is {}#{}", index, node.origin, node.index));
        }
        Ok(VerifiedReceipt { node, signed_by, checkpoint })
    }
}
