"""Small helpers the simulated controllers share: conditions, owner references, template hashes."""
from __future__ import annotations

import copy
import hashlib
import json

from .store import _meta, condition, now

HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: dict) -> str:
    """A stable pod-template-hash for a pod template (alphabet of rand.SafeEncodeString)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:10])


def set_condition(conds: list, ctype: str, status: str, reason: str = "", message: str = "",
                  generation: int | None = None) -> list:
    """Return conditions with one type set, keeping lastTransitionTime when the status is unchanged."""
    out = [copy.deepcopy(c) for c in conds or [] if c.get("type") != ctype]
    old = next((c for c in conds or [] if c.get("type") == ctype), None)
    cond = {"type": ctype, "status": status,
            "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == status
            and old.get("lastTransitionTime") else now(), "reason": reason, "message": message}
    if generation is not None:
        cond["observedGeneration"] = generation
    if old and old.get("lastUpdateTime") is not None:
        cond["lastUpdateTime"] = old["lastUpdateTime"] if old.get("status") == status else cond["lastTransitionTime"]
    out.insert(next((i for i, c in enumerate(conds or []) if c.get("type") == ctype), len(out)), cond)
    return out


def ready(obj: dict) -> bool:
    """Whether an object's Ready condition is True."""
    return condition(obj, "Ready") == "True"


def owner_ref(obj: dict) -> dict:
    """A controller ownerReference pointing at obj."""
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": _meta(obj)["name"],
            "uid": _meta(obj)["uid"], "controller": True, "blockOwnerDeletion": True}


def owned_by(obj: dict, owner: dict) -> bool:
    """True when obj has a controller reference to owner."""
    uid = _meta(owner).get("uid")
    return any(r.get("uid") == uid and r.get("controller") for r in _meta(obj).get("ownerReferences") or [])
