"""One exception type per kind of failure, each carrying a stable reason code.

Every function in the kit that rejects its input raises a subclass of `ProtocolError` (itself a
`ValueError`), never a bare `KeyError`/`TypeError`, so callers can report "what was wrong" in one line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class ProtocolError(ValueError):
    """Base class. `code` is a short machine-readable reason; `str(err)` is the human sentence."""

    code: str = "protocol-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class EncodingError(ProtocolError):
    """Malformed hex, base64 or base64url text."""

    code = "bad-encoding"


class KeyFormatError(ProtocolError):
    """A key that is not 32 bytes of strict hex, or not a usable curve point."""

    code = "bad-key"


class CanonicalJsonError(ProtocolError):
    """A value that has no canonical JSON form (a dict key that is not a string, a cycle, ...)."""

    code = "not-canonicalizable"


class CapCertError(ProtocolError):
    """A cap-cert that is not well formed, not valid now, or not signed by its issuer.

    `code` is one of the digest §5.2 reasons: `malformed-shape`, `iss-userid-mismatch`,
    `sub-userid-mismatch`, `audience-has-sub`, `non-audience-has-aud`, `audience-empty-aud`,
    `audience-aud-too-large`, `audience-aud-bad-entry`, `audience-aud-dup`, `inverted-window`,
    `not-yet-valid`, `expired`, `bad-signature`.
    """

    code = "malformed-shape"


class RevocationListError(ProtocolError):
    """A revocation list that is malformed or whose signature does not verify."""

    code = "bad-revocation-list"


class KeyringError(ProtocolError):
    """A keyring wrap entry or encrypted document that cannot be opened."""

    code = "bad-keyring"


class IdentityError(ProtocolError):
    """A passphrase that cannot derive an identity (empty or blank)."""

    code = "bad-passphrase"


# Exceptions that malformed input provokes deep inside the standard library or `cryptography`:
# `None.upper()`, `len(5)`, `entry["ct"]` on a list, `AESGCM(b"short")`, a value nested past the
# recursion limit. They are programming-error types to a caller, so the guard below reports them
# as the kit's own error instead (never a `ProtocolError`, which passes through untouched).
_INPUT_FAILURES = (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError, RecursionError)

_RAISE = object()


def rejects_garbage(error: type[ProtocolError] = ProtocolError, *, returns: Any = _RAISE) -> Callable[[F], F]:
    """Decorate a public function so unusable input raises `error` (or returns `returns`), never a bare
    `TypeError`/`AttributeError`/`KeyError`.

    Verifiers pass `returns=False` so that garbage verifies as "invalid" (fail closed).
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ProtocolError:
                raise
            except _INPUT_FAILURES as exc:
                if returns is not _RAISE:
                    return returns
                raise error(f"{fn.__name__}: unusable input ({type(exc).__name__}: {exc})") from exc

        return guarded  # type: ignore[return-value]

    return decorate
