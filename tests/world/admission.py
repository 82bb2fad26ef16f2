"""Admission webhooks, as far as the world can call them: the API server calls every Mutating and
Validating webhook whose rules match a write (k8s.io/apiserver pkg/admission/plugin/webhook: rules,
scope, namespaceSelector, objectSelector; matchPolicy Equivalent ignores the version). The world cannot
run the webhook's code, so a webhook whose Service has a ready endpoint allows the request; one whose
Service has none fails it when ``failurePolicy`` is Fail (the default), with the API server's message
(``failed calling webhook``, util/proxy ResolveEndpoint's ``no endpoints available for service``)."""
from __future__ import annotations

from . import errors
from .scheduling import label_selector_matches
from .store import _meta

OPERATIONS = {"POST": "CREATE", "PUT": "UPDATE", "PATCH": "UPDATE", "DELETE": "DELETE"}
CONFIGS = (("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"),
           ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations"))


def _rule_matches(rule: dict, res, sub: str, operation: str, exact: bool) -> bool:
    """One RuleWithOperations against a request."""
    resource = f"{res.plural}/{sub}" if sub else res.plural
    listed = lambda values, value: "*" in (values or []) or value in (values or [])
    resources = rule.get("resources") or []
    return (listed(rule.get("operations"), operation) and listed(rule.get("apiGroups"), res.group)
            and (not exact or listed(rule.get("apiVersions"), res.version))
            and (resource in resources or "*/*" in resources or (not sub and "*" in resources)
                 or (sub and f"*/{sub}" in resources) or f"{res.plural}/*" in resources)
            and rule.get("scope", "*") in ("*", "Namespaced" if res.namespaced else "Cluster"))


def _selected(ctl, webhook: dict, res, namespace: str, labels: dict) -> bool:
    """namespaceSelector (namespaced objects: their Namespace's labels) and objectSelector."""
    if res.namespaced and webhook.get("namespaceSelector"):
        ns = ctl.get("", "v1", "namespaces", "", namespace) or {}
        if not label_selector_matches(webhook["namespaceSelector"], _meta(ns).get("labels") or {}):
            return False
    return label_selector_matches(webhook.get("objectSelector") or {}, labels)


def review(ctl, method: str, res, namespace: str, name: str, sub: str, body) -> None:
    """Call the matching webhooks for a write; raise the API server's error when one cannot be called."""
    live = ctl.get(res.group, res.version, res.plural, namespace, name) if name else None
    operation = "CREATE" if method == "PATCH" and live is None else OPERATIONS.get(method)
    source = body if isinstance(body, dict) and operation != "DELETE" else live or {}
    labels = _meta(source).get("labels") or {}
    for path in CONFIGS:
        for config in ctl.list(*path):
            for webhook in config.get("webhooks") or []:
                exact = webhook.get("matchPolicy", "Equivalent") == "Exact"
                if not any(_rule_matches(r, res, sub, operation, exact) for r in webhook.get("rules") or []) \
                        or not _selected(ctl, webhook, res, namespace, labels):
                    continue
                service = (webhook.get("clientConfig") or {}).get("service")
                if service is None or webhook.get("failurePolicy", "Fail") != "Fail":
                    continue
                _, ready = ctl.endpoints(service.get("namespace", ""), service.get("name", ""))
                if not ready:
                    url = (f"https://{service.get('name')}.{service.get('namespace')}.svc:{service.get('port', 443)}"
                           f"{service.get('path', '')}?timeout={webhook.get('timeoutSeconds', 10)}s")
                    raise errors.internal(f'failed calling webhook "{webhook.get("name")}": failed to call webhook: '
                                          f'Post "{url}": no endpoints available for service "{service.get("name")}"')
