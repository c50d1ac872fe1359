"""The one error hierarchy of the ledger.

Every error the library raises on purpose is a :class:`LedgerError`. Messages state what
was expected and what was found and, when an entry is involved, its sequence number, so the
CLI can print ``str(error)`` as the whole one-line diagnosis.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every deliberate error. ``seq`` is the entry involved, if any."""

    def __init__(self, message: str, *, seq: int | None = None, rule: str | None = None) -> None:
        self.message = message
        self.seq = seq
        self.rule = rule
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"entry {self.seq}: " if self.seq is not None else ""
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where}{self.message}{rule}"


class CanonicalError(LedgerError):
    """Bytes are not strict, canonical RFC 8785 JSON of the ledger's data model."""


class SchemaError(LedgerError):
    """A statement or body does not match its JSON Schema."""


class SignatureError(LedgerError):
    """A signature is malformed or does not verify."""


class AuthorityError(LedgerError):
    """Signers lack the authority or the threshold that the policy in force requires."""


class ChainError(LedgerError):
    """Sequence numbers or hash links are wrong."""


class KeyFileError(LedgerError):
    """A key file cannot be read, decrypted or written."""


class InputError(LedgerError):
    """Input cannot be read at all (missing file, not a ledger, corrupted database)."""


class StoreError(LedgerError):
    """The SQLite store refused an operation; the ledger is unchanged."""


class ProofError(LedgerError):
    """A Merkle proof, checkpoint, note or cosignature does not verify."""


class OptionError(InputError):
    """A command-line style value (``ROLE=LOW/BEST/HIGH``, ``ORG:STANCE:CHANNEL``) is malformed;
    ``option`` names the option it was given to."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


class LedgerRefused(LedgerError):
    """A command that needs a valid ledger was given one with violations (fail closed).
    ``violations`` are the first ones found (those the loader kept); ``count`` all of them."""

    def __init__(self, message: str, violations: list, count: int | None = None) -> None:
        super().__init__(message)
        self.violations = list(violations)
        self.count = len(self.violations) if count is None else count
