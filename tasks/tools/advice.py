"""Tool failures distilled to their cause and a fix, from a table: a known error text (quoted from
the tool's source below) becomes two lines, "cause" and "fix: ...", instead of the tool's dump.
Some cannot heal by waiting (PERMANENT): a wait stops at once on them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Advice:
    """What went wrong, and what to do."""

    cause: str
    fix: str

    def __str__(self) -> str:
        return f"{self.cause}\n    fix: {self.fix}"


# helm pkg/action/validate.go existingResourceConflict + resourceString + checkOwnership, wrapped by
# install.go/upgrade.go as "Unable to continue with install|update: ...".
OWNERSHIP = re.compile(r'(?P<kind>[\w.]+) "(?P<name>[^"]+)" in namespace "(?P<ns>[^"]*)" exists and cannot be '
                       r'imported into the current release: invalid ownership metadata; (?P<why>[^\n]*)')
# checkOwnership's requireValue texts: `missing key %q: must be set to %q`, `key %q must equal %q: current value is %q`.
WANTED = r'"meta\.helm\.sh/release-{0}"(?:: must be set to| must equal) "(?P<want>[^"]*)"'
CURRENT = r'"meta\.helm\.sh/release-{0}" must equal "[^"]*": current value is "(?P<have>[^"]*)"'
# 1Password CLI, signed out (FIELD-NOTES op; the fake op's TEXTS["not_signed_in"]).
SIGNED_OUT = re.compile(r"You are not currently signed in[^\n]*")
# crypto/x509 UnknownAuthorityError.Error(), as kubectl/helm print it after "tls: failed to verify certificate: ".
UNKNOWN_AUTHORITY = re.compile(r"x509: certificate signed by unknown authority[^\n]*")
KUBE_TOOLS = ("kubectl", "helm", "helmfile")
WRONG_CA = ("the API server's certificate is not signed by the cluster CA in build/kubeconfig "
            "(certificate-authority-data, written from `talosctl kubeconfig`)")


def _ownership(match: re.Match) -> Advice:
    """Which object, which release owns it, and how to adopt or delete it."""
    why, kind, name, ns = match["why"], match["kind"], match["name"], match["ns"]
    wanted = {part: _wanted(why, part) for part in ("name", "namespace")}
    owner = re.search(CURRENT.format("name"), why)
    owned = (f"Helm release {owner['have']}" if owner else
             "no Helm release (created by hand, kubectl or an operator)" if "missing key" in why else
             "another Helm release")
    where = f"-n {ns} " if ns else ""
    release = wanted["name"] or "the release"
    adopt = (f"kubectl {where}label {kind} {name} app.kubernetes.io/managed-by=Helm --overwrite && kubectl {where}"
             f"annotate {kind} {name} meta.helm.sh/release-name={release} "
             f"meta.helm.sh/release-namespace={wanted['namespace'] or ns} --overwrite")
    return Advice(f"{kind} {ns + '/' if ns else ''}{name} already exists and belongs to {owned}, so Helm release "
                  f"{release} cannot take it over (helm: invalid ownership metadata)",
                  f"adopt it into {release}: `{adopt}`; or, if nothing else needs it, delete it: "
                  f"`kubectl {where}delete {kind} {name}`; then rerun")


def _wanted(why: str, part: str) -> str:
    """The release name or namespace helm wanted the object to carry."""
    match = re.search(WANTED.format(part), why)
    return match["want"] if match else ""


def _signed_out(match: re.Match) -> Advice:
    """op needs a session or a service account."""
    return Advice(f"1Password CLI is not signed in (op: \"{match[0].strip()}\")",
                  "sign in with `eval $(op signin)`, or set OP_SERVICE_ACCOUNT_TOKEN to a service account "
                  "token that can read the vault; then rerun")


def _unknown_authority(match: re.Match) -> Advice:
    """The API server's certificate and build/kubeconfig's CA do not belong together."""
    return Advice(f"{WRONG_CA} ({match[0].strip()})",
                  "if the cluster was rebuilt or its CA rotated, delete build/kubeconfig and rerun (it is "
                  "fetched again); if BOOTSTRAP_ADDRESS_MAP or a proxy leads elsewhere, point it at this "
                  "cluster's API server")


PERMANENT = (WRONG_CA,)          # causes no wait can heal
# (tools the text may come from, pattern, distiller); the first match wins.
RULES: tuple[tuple[tuple[str, ...], re.Pattern, Callable[[re.Match], Advice]], ...] = (
    (("helm", "helmfile"), OWNERSHIP, _ownership),
    (("op",), SIGNED_OUT, _signed_out),
    (KUBE_TOOLS, UNKNOWN_AUTHORITY, _unknown_authority),
)


def advise(tool: str, text: str) -> Advice | None:
    """The advice for one tool's error text, if it is a known failure."""
    for tools, pattern, distil in RULES:
        match = pattern.search(text) if tool in tools else None
        if match:
            return distil(match)
    return None


def permanent(text: str) -> bool:
    """Whether a distilled failure text names a failure waiting cannot heal (only distilled texts:
    the same raw words can mean something else from another tool, e.g. talosctl's maintenance mode)."""
    return any(cause in text for cause in PERMANENT)
