"""One error type with the same codes as the TypeScript verifier (docs/sdks.md lists them)."""


class HelmError(Exception):
    """A check failed. ``code`` is stable (ERR_SIGNATURE, ERR_NOT_CANONICAL, ...); the message names the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message
