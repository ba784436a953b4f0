use crate::error::{err, Error};
use crate::governance::Challenge;
use crate::http::request;
use crate::keys::SigningKey;
use serde_json::{json, Value};

/// First line of every approval message (pep.md §5).
pub const APPROVAL_DOMAIN: &str = "helm-approval/v1";

fn is_hash(s: &str) -> bool {
    s.len() == 71 && s.starts_with("sha256:") && s[7..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// UTF-8 of "helm-approval/v1\n<decision>\n<policyDigest>\n<nonce>\n<verdict>\n".
pub fn approval_message(decision: &str, policy_digest: &str, nonce: &str, verdict: &str) -> Result<Vec<u8>, Error> {
    if !is_hash(decision) || !is_hash(policy_digest) {
        return Err(err!("ERR_APPROVAL_MALFORMED", "decision and policyDigest must be sha256:<64 hex>"));
    }
    if nonce.len() < 16 || nonce.len() > 128 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(err!("ERR_APPROVAL_MALFORMED", "nonce must be 16-128 base64url characters"));
    }
    if verdict != "approve" && verdict != "reject" {
        return Err(err!("ERR_APPROVAL_MALFORMED", "verdict must be approve or reject, not {:?}", verdict));
    }
    Ok(format!("{}\n{}\n{}\n{}\n{}\n", APPROVAL_DOMAIN, decision, policy_digest, nonce, verdict).into_bytes())
}

/// The signed answer POST /v1/approvals takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub decision: String,
    pub policy_digest: String,
    pub nonce: String,
    pub approver: String,
    pub verdict: String,
    pub signature: String,
}

impl Submission {
    pub fn to_json(&self) -> Value {
        json!({"decision": self.decision, "policyDigest": self.policy_digest, "nonce": self.nonce, "approver": self.approver, "verdict": self.verdict, "signature": self.signature})
    }
}

/// Signs an answer to a challenge with an approver key (as `helmctl approve` does).
pub fn sign_approval(c: &Challenge, key: &SigningKey, verdict: &str) -> Result<Submission, Error> {
    let msg = approval_message(&c.decision, &c.policy_digest, &c.nonce, verdict)?;
    Ok(Submission { decision: c.decision.clone(), policy_digest: c.policy_digest.clone(), nonce: c.nonce.clone(), approver: key.verifier.handle(), verdict: verdict.to_string(), signature: base64::encode(key.sign(&msg)) })
}

/// One pending escalation as GET /v1/approvals lists it.
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub challenge: Challenge,
    pub tool: String,
    pub principal: String,
    pub approvals: Vec<Value>,
}

impl Ceremony {
    fn from_json(v: &Value) -> Ceremony {
        Ceremony {
            challenge: Challenge::from_json(v),
            tool: v["tool"].as_str().unwrap_or("").to_string(),
            principal: v["principal"].as_str().unwrap_or("").to_string(),
            approvals: v["approvals"].as_array().cloned().unwrap_or_default(),
        }
    }
}

/// The admin API's answer to an accepted submission (an approval node was recorded).
#[derive(Debug, Clone)]
pub struct Accepted {
    pub receipt: String,
    pub index: u64,
    pub approvals: u64,
    pub quorum: u64,
    pub allowed_from: Option<String>,
}

/// Talks to the sidecar's admin listener (no authentication: keep it on loopback).
pub struct AdminClient {
    pub base_url: String,
}

impl AdminClient {
    pub fn new(base_url: &str) -> AdminClient {
        AdminClient { base_url: base_url.trim_end_matches('/').to_string() }
    }

    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Value, Error> {
        let r = request(&format!("{}{}", self.base_url, path), method, body.as_deref())?;
        let v: Value = serde_json::from_slice(&r.body).map_err(|e| err!("ERR_ADMIN_ANSWER", "{} {} answered HTTP {} that is not JSON: {}", method, path, r.status, e))?;
        if r.status >= 300 {
            return Err(match v["code"].as_str() {
                Some(code) => err!(code, "{} (HTTP {})", v["message"].as_str().unwrap_or(""), r.status),
                None => err!("ERR_ADMIN_STATUS", "{} {} answered HTTP {}", method, path, r.status),
            });
        }
        Ok(v)
    }

    /// Lists the open ceremonies (GET /v1/approvals).
    pub fn pending(&self) -> Result<Vec<Ceremony>, Error> {
        let v = self.call("GET", "/v1/approvals", None)?;
        Ok(v["pending"].as_array().map(|a| a.iter().map(Ceremony::from_json).collect()).unwrap_or_default())
    }

    /// One pending ceremony (ERR_APPROVAL_UNKNOWN_NONCE when there is none).
    pub fn get(&self, nonce: &str) -> Result<Ceremony, Error> {
        if !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(err!("ERR_APPROVAL_MALFORMED", "nonce must be base64url"));
        }
        Ok(Ceremony::from_json(&self.call("GET", &format!("/v1/approvals/{}", nonce), None)?))
    }

    /// Posts a signed answer; a refusal is an Error with the PEP's code (ERR_APPROVAL_*).
    pub fn submit(&self, s: &Submission) -> Result<Accepted, Error> {
        let v = self.call("POST", "/v1/approvals", Some(s.to_json().to_string().into_bytes()))?;
        Ok(Accepted {
            receipt: v["receipt"].as_str().unwrap_or("").to_string(),
            index: v["index"].as_u64().unwrap_or(0),
            approvals: v["approvals"].as_u64().unwrap_or(0),
            quorum: v["quorum"].as_u64().unwrap_or(0),
            allowed_from: v["allowedFrom"].as_str().map(str::to_string),
        })
    }
}
