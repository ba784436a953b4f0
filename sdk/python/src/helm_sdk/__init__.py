"""HELM OSS SDK for Python: read the governance of proxied tool calls, verify receipts offline,
answer approvals. The major version is the receipt format version (docs/spec/receipt.md)."""
from .approvals import ApprovalError, ApprovalsClient, approval_message, sign_approval
from .errors import HelmError
from .governance import (
    CallGovernance,
    Governance,
    HelmNotice,
    McpCallGovernance,
    mcp_error_governance,
    mcp_result_governance,
    mcp_tool_governance,
    parse_decision_list,
    parse_helm_content,
    read_governance,
)
from .httpx_hook import GovernanceRecorder, async_governance_hook, governance_hook
from .jcs import canonicalize, jcs
from .keys import SigningKey, VerifierKey, parse_vkey, verify_ed25519
from .receipt import Trust, TrustRegistry, VerifiedReceipt, decode_node, load_trust, trust_events_of, verify_receipt
from .tlog import parse_trust_policy, verify_checkpoint, verify_tlog_proof

SPEC_VERSION = 1
__version__ = "1.0.0"

__all__ = [
    "ApprovalError", "ApprovalsClient", "approval_message", "sign_approval", "HelmError",
    "CallGovernance", "Governance", "HelmNotice", "McpCallGovernance", "mcp_error_governance",
    "mcp_result_governance", "mcp_tool_governance", "parse_decision_list", "parse_helm_content",
    "read_governance", "GovernanceRecorder", "async_governance_hook", "governance_hook",
    "canonicalize", "jcs", "SigningKey", "VerifierKey", "parse_vkey", "verify_ed25519",
    "Trust", "TrustRegistry", "VerifiedReceipt", "decode_node", "load_trust", "trust_events_of",
    "verify_receipt", "parse_trust_policy", "verify_checkpoint", "verify_tlog_proof",
    "SPEC_VERSION", "__version__",
]
