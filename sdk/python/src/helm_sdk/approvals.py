"""Answering approvals: list pending ceremonies on the admin API, sign the domain-separated message
of docs/spec/pep.md §5 with an approver key file, submit it (docs/sidecar.md §Approvals API)."""
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx

from .errors import HelmError
from .keys import SigningKey, b64

APPROVAL_DOMAIN = "helm-approval/v1"


def approval_message(decision: str, policy_digest: str, nonce: str, verdict: str) -> bytes:
    """UTF-8 of ``helm-approval/v1\\n<decision>\\n<policyDigest>\\n<nonce>\\n<verdict>\\n``."""
    if verdict not in ("approve", "reject"):
        raise HelmError("ERR_APPROVAL_MALFORMED", f"verdict must be approve or reject, not {verdict!r}")
    return f"{APPROVAL_DOMAIN}\n{decision}\n{policy_digest}\n{nonce}\n{verdict}\n".encode("utf-8")


def sign_approval(pending: Dict[str, Any], key: SigningKey, verdict: str = "approve") -> Dict[str, str]:
    """The submission for one pending ceremony (the object ``helmctl approve`` writes)."""
    msg = approval_message(pending["decision"], pending["policyDigest"], pending["nonce"], verdict)
    return {"decision": pending["decision"], "policyDigest": pending["policyDigest"], "nonce": pending["nonce"], "approver": key.verifier.handle, "verdict": verdict, "signature": b64(key.sign(msg))}


class ApprovalError(HelmError):
    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(code, message)
        self.status = status


class ApprovalsClient:
    """The admin API of one sidecar (it has no authentication of its own: keep it on loopback)."""

    def __init__(self, admin_url: str, client: Optional[httpx.Client] = None) -> None:
        self.base = admin_url.rstrip("/")
        self.http = client or httpx.Client(timeout=20)

    def _json(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, f"{self.base}{path}", **kw)
        try:
            r.json()
        except ValueError:
            raise ApprovalError("ERR_APPROVALS_RESPONSE", r.status_code, f"{path} answered {r.status_code} with a body that is not JSON") from None
        return r

    def list(self) -> List[Dict[str, Any]]:
        r = self._json("GET", "/v1/approvals")
        if r.status_code != 200:
            raise ApprovalError(r.json().get("code", "ERR_APPROVALS_RESPONSE"), r.status_code, f"GET /v1/approvals answered {r.status_code}")
        return r.json()["pending"]

    def get(self, nonce: str) -> Optional[Dict[str, Any]]:
        """One pending ceremony, or None when the sidecar does not (or no longer) list it."""
        r = self._json("GET", f"/v1/approvals/{quote(nonce, safe='')}")
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise ApprovalError(r.json().get("code", "ERR_APPROVALS_RESPONSE"), r.status_code, f"GET /v1/approvals/{nonce} answered {r.status_code}")
        return r.json()

    def submit(self, submission: Dict[str, str]) -> Dict[str, Any]:
        """POSTs a signed answer; a refusal raises ApprovalError with the sidecar's code."""
        r = self._json("POST", "/v1/approvals", json=submission)
        body = r.json()
        if r.status_code != 201 or body.get("accepted") is not True:
            raise ApprovalError(body.get("code", "ERR_APPROVALS_RESPONSE"), r.status_code, body.get("message", f"POST /v1/approvals answered {r.status_code}"))
        return body

    def answer(self, nonce: str, key: SigningKey, verdict: str = "approve") -> Dict[str, Any]:
        """Signs and submits an answer to the pending ceremony ``nonce``."""
        p = self.get(nonce)
        if p is None:
            raise ApprovalError("ERR_APPROVAL_UNKNOWN_NONCE", 404, f"no pending approval {nonce}")
        return self.submit(sign_approval(p, key, verdict))
