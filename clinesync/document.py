"""The document a console stores per organization: the `enabled` toggle and the RemoteConfig value.

Canonical form ignores what Cline ignores: key order, and the order of identity-keyed lists.
"""

from __future__ import annotations

import functools
from typing import Any

from clinesync import strictjson
from clinesync.fields import identified_items
from clinesync.records import record


@record(frozen=True)
class Document:
    enabled: bool
    config: dict[str, Any]

    def tree(self) -> dict[str, Any]:
        """The shape plans speak of: `enabled` and `remoteConfig.*`."""
        return {"enabled": self.enabled, "remoteConfig": self.config}

    @classmethod
    def from_tree(cls, tree: dict[str, Any]) -> Document:
        return cls(bool(tree["enabled"]), tree["remoteConfig"])

    def wire_value(self) -> str:
        """The RemoteConfig as the JSON string Cline's API carries (made once: a document is not changed)."""
        return self._wire

    @functools.cached_property
    def _wire(self) -> str:
        return strictjson.dumps(self.config, ensure_ascii=False, separators=(",", ":"))

    def canonical(self) -> str:
        return canonical_json(self.tree())


def canonical_json(value: Any) -> str:
    return strictjson.dumps(
        _canonical(value, None), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def fingerprint(text: str, salt: str) -> str:
    import hashlib  # only saved plans need it; loading OpenSSL costs start-up time

    return hashlib.sha256(f"{salt}\0{text}".encode()).hexdigest()


def _canonical(value: Any, name: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(child, key) for key, child in value.items()}
    if isinstance(value, list):
        named = identified_items(name, value)
        if named is not None:
            return [_canonical(named[identity], None) for identity in sorted(named)]
        return [_canonical(child, None) for child in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON has one number type: 128000.0 is 128000
    return value


def same(left: Any, right: Any, name: Any = None) -> bool:
    """Equal as Cline would see them: key and identity order ignored, 1 == 1.0, true is not 1. Compared
    in place, without serialising either side: a fleet's plan compares every value it holds."""
    if isinstance(left, dict) or isinstance(right, dict):
        return (
            isinstance(left, dict)
            and isinstance(right, dict)
            and left.keys() == right.keys()
            and all(same(left[key], right[key], key) for key in left)
        )
    if isinstance(left, list) or isinstance(right, list):
        if not (isinstance(left, list) and isinstance(right, list)) or len(left) != len(right):
            return False
        named_left, named_right = identified_items(name, left), identified_items(name, right)
        if named_left is not None and named_right is not None:
            return named_left.keys() == named_right.keys() and all(
                same(item, named_right[identity]) for identity, item in named_left.items()
            )
        return all(same(one, other) for one, other in zip(left, right, strict=True))
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)
