"""What `serve` and `member-token` say: where the server listens, and what a member token is."""

from __future__ import annotations


def listening(url: str, database: str) -> str:
    return f"clinesync console server on {url} (database {database}); Ctrl-C stops it\n"


def reachable_from_elsewhere(host: str) -> str:
    return f"Warning: listening on {host}: reachable from other machines; put TLS in front of it\n"


STOPPED = "Stopped.\n"


def revoked(count: int, organization: str) -> str:
    return f"Revoked {count} member token(s) of {organization}.\n"


def member_token_made(organization: str) -> str:
    return f"A read-only member token for {organization}: shown once, stored hashed.\n"
