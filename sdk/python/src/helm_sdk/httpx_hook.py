"""The idiomatic way in: an httpx response event hook. The agent keeps its OpenAI client and only
gives it an httpx client with the hook:

    rec = GovernanceRecorder()
    client = OpenAI(base_url=..., http_client=httpx.Client(event_hooks={"response": [rec.hook]}))
    client.chat.completions.create(...)
    rec.last.verdict  # "ALLOW" / "DENY" / "ESCALATE"
"""
from typing import Callable, List, Optional

import httpx

from .governance import Governance, read_governance


def _governed(response: httpx.Response) -> bool:
    return "x-helm-decision" in response.headers or "x-helm-tools-removed" in response.headers


def governance_hook(on_governance: Callable[[Governance, httpx.Response], None]) -> Callable[[httpx.Response], None]:
    """A sync response hook calling ``on_governance`` for every response the sidecar governed.
    JSON bodies are read (httpx keeps them for the client); streams are reported from headers."""

    def hook(response: httpx.Response) -> None:
        if not _governed(response):
            return
        body = None
        if "application/json" in response.headers.get("content-type", ""):
            response.read()
            body = response.json()
        on_governance(read_governance(response.headers, body), response)

    return hook


def async_governance_hook(on_governance: Callable[[Governance, httpx.Response], None]):
    """The same for ``httpx.AsyncClient`` (AsyncOpenAI)."""

    async def hook(response: httpx.Response) -> None:
        if not _governed(response):
            return
        body = None
        if "application/json" in response.headers.get("content-type", ""):
            await response.aread()
            body = response.json()
        on_governance(read_governance(response.headers, body), response)

    return hook


class GovernanceRecorder:
    """Keeps the governance of every governed response; ``hook`` goes into ``event_hooks``."""

    def __init__(self) -> None:
        self.all: List[Governance] = []
        self.hook = governance_hook(lambda g, _r: self.all.append(g))

    @property
    def last(self) -> Optional[Governance]:
        return self.all[-1] if self.all else None
