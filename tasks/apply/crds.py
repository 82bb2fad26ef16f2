"""The CRD stage (requirements step 3): template 00-crds.yaml without envoy-gateway, keep only the
CRDs, apply them server-side and wait until they are Established."""
from __future__ import annotations

import json

import yaml

from .. import paths, tools
from ..facts import Facts
from ..facts.kube import KubeFacts, condition
from ..files import write_if_changed
from ..settings import guards
from ..settings.gitops import SourcedObject
from ..yamlio import load_all
from .api import needs_api
from .objects import apply_objects
from .waits import deadline, wait_until


def crds_done(facts: Facts) -> tuple[bool, str]:
    """Every CRD seeded last time exists and is Established."""
    try:
        names = json.loads(paths.SEEDED_CRDS.read_text())
    except (OSError, ValueError):
        names = None
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        return False, f"no record of seeded CRDs ({paths.rel(paths.SEEDED_CRDS)} is missing or unreadable)"
    return _established(facts, names)


@needs_api
def _established(facts: Facts, kube: KubeFacts, names: list[str]) -> tuple[bool, str]:
    """Every named CRD exists and is Established."""
    pending = [n for n in names if (condition(kube.get("CustomResourceDefinition", n), "Established")
                                    or {}).get("status") != "True"]
    return (not pending), ("all CRDs Established" if not pending else "missing or not Established: " + ", ".join(pending))


def seed_crds(facts: Facts) -> str | None:
    """Template 00-crds.yaml without envoy-gateway, keep the CRDs, apply them, wait until Established."""
    result = tools.helmfile(["-f", paths.rel(paths.CRDS_HELMFILE), "template", "-q",
                             "--selector", "name!=envoy-gateway"], timeout=300)
    if not result.ok:
        return f"helmfile template of 00-crds.yaml: {result.message()}"
    try:
        documents = load_all(result.stdout)
    except yaml.YAMLError as err:
        return f"helmfile template of 00-crds.yaml printed unreadable YAML: {err}"
    crds = [d for d in documents if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    envoy = guards.envoy_crds([SourcedObject("00-crds.yaml", i, d) for i, d in enumerate(crds)])
    if envoy:
        return "refusing to seed envoy-gateway CRDs: " + ", ".join(found for *_, found in envoy)
    text = "".join("---\n" + yaml.safe_dump(c, sort_keys=True) for c in crds)
    write_if_changed(paths.CRDS, text)
    error = apply_objects(text, "the seeded CRDs", facts)
    if error:
        return error
    # Names only, so the done check stays cheap.
    write_if_changed(paths.SEEDED_CRDS, json.dumps(sorted(c["metadata"]["name"] for c in crds), indent=1) + "\n")
    return wait_until("the seeded CRDs to be Established", deadline("crds", 300), lambda: crds_done(facts), facts)
