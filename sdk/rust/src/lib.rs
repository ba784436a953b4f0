//! HELM OSS SDK for Rust: read the governance HELM attaches to responses, verify receipts
//! offline, answer approvals. Spec: docs/spec (receipt.md, pep.md, trust-policy.md), version 1.

mod approvals;
mod checkpoint;
mod error;
mod governance;
pub mod http;
mod jcs;
mod keys;
mod node;
mod note;
mod policy;
mod schema;
mod trust;

pub use approvals::{approval_message, sign_approval, Accepted, AdminClient, Ceremony, Submission, APPROVAL_DOMAIN};
pub use checkpoint::{leaf_hash, parse_checkpoint_text, parse_tlog_proof, verify_checkpoint, verify_inclusion, verify_tlog_proof, Checkpoint, TlogProof, VerifiedCheckpoint, TLOG_PROOF_HEADER};
pub use error::Error;
pub use governance::{
    parse_headers, parse_helm_content, parse_mcp_error, parse_mcp_error_object, parse_mcp_receipt, parse_mcp_tool_governance, parse_summary, Challenge, DecisionView, Explanation, Governance, HeaderDecision, McpErrorData,
    McpReceipt, McpToolGovernance, Summary, META_GOVERNANCE, META_IDEMPOTENCY_KEY, META_RECEIPT, META_TOOL_CALL_ID,
};
pub use jcs::{canonicalize, canonicalize_json, format_es6, parse_json};
pub use keys::{key_id, parse_signing_key, parse_verifier_key, strict_base64, SigningKey, VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};
pub use node::{decode_node, hash_ref, pae, Node, IN_TOTO_PAYLOAD_TYPE};
pub use note::{open_note, NoteSignature};
pub use policy::TrustPolicy;
pub use schema::SCHEMA_FILES;
pub use trust::{open_key_event, KeyEvent, TrustRegistry, VerifiedReceipt};

/// The version of docs/spec this SDK implements; the crate's major version equals it.
pub const SPEC_VERSION: u32 = 1;
/// This SDK's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Ed25519 verification (ring): false for malformed keys or signatures.
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    public_key.len() == 32 && signature.len() == 64 && ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key).verify(message, signature).is_ok()
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{:02x}", c)).collect()
}
