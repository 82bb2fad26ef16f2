"""Values stay values: hostile strings through every free-form setting that reaches a rendered file,
in-process (the shipped settings edited, rendered by the catalogue as `doit render` does). Each string
either reaches its scalar byte for byte, with its type, or the schema refuses it naming the key path
and what the field holds (a branch cannot hold a newline); a free field (chart values, a vault name in
the ClusterSecretStore) must take every one of them."""
from __future__ import annotations

import pytest
import yaml

from tasks.render import catalogue
from tasks.settings.schema import schema_problems
from tests.variants import cluster_of, shipped, variant  # noqa: F401  (fixtures)

HOSTILE = {
    "newline": "main\n  suspend: true", "trailing-newline": "main\n", "hash": "#private", "hash-inside": "a #b",
    "colon-space": "a: b", "yes": "yes", "off": "off", "hex": "0x1F", "octal": "0o17", "tilde": "~",
    "null": "null", "inf": ".inf", "float": "1e3", "date": "2024-01-01", "double-quotes": '"quoted"',
    "single-quote": "it's", "leading-spaces": "  leading", "trailing-spaces": "trailing  ", "anchor": "&anchor",
    "alias": "*alias", "tag": "!tag value", "dash": "- item", "flow": "{flow: map}", "jinja": "{{ cluster.name }}",
    "jinja-block": "{% raw %}", "document-end": "...", "percent": "%YAML", "unicode": "ünïcödé ☃ 東京",
    "rtl": "\u202egnp.exe", "control": "bell\x07esc\x1b", "tab": "a\tb", "very-long": "x" * 20_000,
}

# (setting, key path in its settings file, the setting's value around the hostile string {h}, rendered
# file, where the scalar lands, what the scalar is for the setting's value {v}, whether every string
# must pass). A `{v}` step in a key path is the value itself, as a mapping key.
FIELDS = [
    ("common", ("network", "dnsDomain"), "{h}", "talos/cp-1.yaml", (0, "cluster", "network", "dnsDomain"), "{v}"),
    ("common", ("onepassword", "vault"), "{h}", "talos/cp-1.yaml", (0, "machine", "token"),
     "op://{v}/talos/machine-token"),
    ("talos", ("secretsItem",), "{h}", "talos/talosconfig.yaml", (0, "contexts", "home", "ca"),
     "op://homelab/{v}/machine-ca-crt"),
    ("talos", ("bond", "links", 0), "{h}", "talos/cp-1.yaml", ("BondConfig", "links", 0), "{v}"),
    ("talos", ("nodes", 3, "bondLinks", 0), "{h}", "talos/worker-1.yaml", ("BondConfig", "links", 0), "{v}"),
    ("talos", ("nodes", 0, "installDisk"), "/dev/{h}", "talos/cp-1.yaml", (0, "machine", "install", "disk"), "{v}"),
    ("kube-vip", ("interface",), "{h}", "values/kube-vip.yaml", (0, "env", "vip_interface"), "{v}"),
    ("spegel", ("registries", 0), "https://{h}", "values/spegel.yaml", (0, "spegel", "registries", 0), "{v}"),
    ("spegel", ("containerdRegistryConfigPath",), "/{h}", "values/spegel.yaml",
     (0, "spegel", "containerdRegistryConfigPath"), "{v}"),
    ("flux-instance", ("distribution", "version"), "{h}", "values/flux-instance.yaml",
     (0, "instance", "distribution", "version"), "{v}"),
    ("flux-instance", ("distribution", "registry"), "{h}", "values/flux-instance.yaml",
     (0, "instance", "distribution", "registry"), "{v}"),
    ("flux-instance", ("sync", "url"), "ssh://{h}", "values/flux-instance.yaml", (0, "instance", "sync", "url"), "{v}"),
    ("flux-instance", ("sync", "ref"), "{h}", "values/flux-instance.yaml", (0, "instance", "sync", "ref"), "{v}"),
    ("flux-instance", ("sync", "path"), "{h}", "values/flux-instance.yaml", (0, "instance", "sync", "path"), "{v}"),
    ("cert-manager", ("defaultIssuer", "acme", "email"), "{h}@example.org", "manifests/cluster-issuer.yaml",
     (0, "spec", "acme", "email"), "{v}"),
    ("cert-manager", ("defaultIssuer", "acme", "server"), "https://{h}", "manifests/cluster-issuer.yaml",
     (0, "spec", "acme", "server"), "{v}"),
    ("onepassword-store", ("connect", "url"), "http://{h}", "manifests/clustersecretstore.yaml",
     (0, "spec", "provider", "onepassword", "connectHost"), "{v}"),
    ("onepassword-store", ("store", "vaults", "{v}"), 1, "manifests/clustersecretstore.yaml",
     (0, "spec", "provider", "onepassword", "vaults", "{v}"), 1),
]
# Fields with no pattern: every string must arrive.
FREE = [
    ("cilium", ("values", "hostile"), "{h}", "values/cilium.yaml", (0, "hostile"), "{v}"),
    ("flux-instance", ("values", "instance", "sync", "name"), "{h}", "values/flux-instance.yaml",
     (0, "instance", "sync", "name"), "{v}"),
    ("cert-manager", ("values", "{v}"), "key", "values/cert-manager.yaml", (0, "{v}"), "key"),
]
ACME = {"name": "letsencrypt", "type": "acme", "acme": {"email": "ops@example.org",
                                                         "server": "https://acme-v02.api.letsencrypt.org/directory"}}


def _fill(step, value: str):
    return value if step == "{v}" else step


def _put(data: dict, path: tuple, value: str, leaf) -> None:
    """Set data[path] (the `{v}` step is the value itself, as a key) to leaf (its `{v}` the value)."""
    node = data
    for step in path[:-1]:
        node = node[_fill(step, value)] if not isinstance(node, dict) or step in node else node.setdefault(step, {})
    node[_fill(path[-1], value)] = value if leaf == "{v}" else leaf


def _find(documents: list, where: tuple, value: str):
    """The scalar at where: a document index or a document kind, then keys and list positions."""
    first, *rest = where
    node = documents[first] if isinstance(first, int) else next(d for d in documents if d.get("kind") == first)
    for step in rest:
        node = node[_fill(step, value)]
    return node


def _key_path(path: tuple, value: str) -> str:
    text = ""
    for step in path:
        step = _fill(step, value)
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _outcome(variant, field: tuple, hostile: str) -> tuple[str, object, object]:
    """("refused", problem, None) or ("rendered", scalar found, scalar wanted) for one hostile string."""
    name, path, form, target, where, expected = field
    value = hostile if "{v}" in path else form.replace("{h}", hostile)

    def edit(data):
        if name == "cert-manager":
            data["cert-manager"]["defaultIssuer"] = dict(ACME)
        _put(data[name], path, value, form if "{v}" in path else value)
    cluster, docs = variant(edit)
    problems = schema_problems(docs[name], name)
    if problems:
        [problem] = problems
        named = path[:-1] if path[-1] == "{v}" else path      # a refused key: its mapping is named
        return "refused", problem, _key_path(named, value)
    artifact = next(a for a in catalogue.cluster_catalogue(cluster) if a.target == target)
    scalar = _find(list(yaml.safe_load_all(catalogue.render_artifact(cluster, artifact))), where, value)
    return "rendered", scalar, expected.replace("{v}", value) if isinstance(expected, str) else expected


@pytest.mark.parametrize("field", FIELDS, ids=[f"{f[0]}:{_key_path(f[1], 'v')}" for f in FIELDS])
def test_every_string_is_kept_or_refused_by_the_schema(variant, field):
    name = field[0]
    kept, refused = [], []
    for label, hostile in HOSTILE.items():
        how, found, wanted = _outcome(variant, field, hostile)
        if how == "refused":
            assert (found.file, found.path) == (f"bootstrap/values/{name}.yaml", wanted), found
            assert "matching" not in found.expected, found      # what the field holds, in words
            refused.append(label)
        else:
            assert type(found) is type(wanted) and found == wanted, (label, found)
            kept.append(label)
    assert "newline" in refused and "trailing-newline" in refused, (kept, refused)
    assert kept, f"{name}: every hostile string refused, so nothing was rendered"


@pytest.mark.parametrize("field", FREE, ids=[f"{f[0]}:{_key_path(f[1], 'v')}" for f in FREE])
def test_a_free_field_takes_every_string(variant, field):
    for label, hostile in HOSTILE.items():
        how, found, wanted = _outcome(variant, field, hostile)
        assert how == "rendered", (label, found)
        assert type(found) is type(wanted) and found == wanted, (label, found)
