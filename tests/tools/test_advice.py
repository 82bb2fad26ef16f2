"""Known tool failures distilled to a cause and a fix (tasks/tools/advice.py), from the tools' real texts."""
from __future__ import annotations

from tasks.tools.advice import advise, permanent
from tasks.tools.gateway import Result

# helm pkg/action/validate.go (existingResourceConflict, checkOwnership, requireValue), wrapped by
# install.go "Unable to continue with install", inside helmfile's failure report.
OTHER_OWNER = ('in ./bootstrap/helmfile.d/01-apps.yaml: command "helm" exited with status 1:\n  OUTPUT:\n'
               '    Error: Unable to continue with install: ServiceAccount "spegel" in namespace "kube-system" exists '
               'and cannot be imported into the current release: invalid ownership metadata; annotation validation '
               'error: key "meta.helm.sh/release-name" must equal "spegel": current value is "other"\n')
NO_OWNER = ('Error: Unable to continue with install: IngressClass "nginx" in namespace "" exists and cannot be '
            'imported into the current release: invalid ownership metadata; label validation error: missing key '
            '"app.kubernetes.io/managed-by": must be set to "Helm"; annotation validation error: missing key '
            '"meta.helm.sh/release-name": must be set to "ingress"; annotation validation error: missing key '
            '"meta.helm.sh/release-namespace": must be set to "edge"')
UNKNOWN_CA = ("Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by "
              "unknown authority")
SIGNED_OUT = "[ERROR] 2026/12/03 12:00:00 You are not currently signed in. Please run `op signin --help` for instructions"


def test_ownership_conflict_names_the_object_its_owner_and_both_fixes():
    advice = advise("helmfile", OTHER_OWNER)
    assert advice.cause.startswith("ServiceAccount kube-system/spegel already exists and belongs to Helm release "
                                   "other, so Helm release spegel cannot take it over")
    assert ("kubectl -n kube-system annotate ServiceAccount spegel meta.helm.sh/release-name=spegel "
            "meta.helm.sh/release-namespace=kube-system --overwrite") in advice.fix
    assert "`kubectl -n kube-system delete ServiceAccount spegel`" in advice.fix
    assert len(str(advice).splitlines()) == 2 and not permanent(str(advice))


def test_cluster_scoped_object_without_helm_metadata():
    advice = advise("helm", NO_OWNER)
    assert "IngressClass nginx already exists and belongs to no Helm release" in advice.cause
    assert "kubectl label IngressClass nginx app.kubernetes.io/managed-by=Helm" in advice.fix
    assert "meta.helm.sh/release-name=ingress meta.helm.sh/release-namespace=edge" in advice.fix


def test_unknown_authority_is_permanent_and_names_the_ca_source():
    advice = advise("kubectl", UNKNOWN_CA)
    assert "cluster CA in build/kubeconfig" in advice.cause and "talosctl kubeconfig" in advice.cause
    assert permanent(f"Kubernetes API: {advice}") and not permanent(UNKNOWN_CA)
    assert advise("talosctl", UNKNOWN_CA) is None       # for talosctl a TLS failure means maintenance mode


def test_signed_out_op_says_how_to_sign_in():
    advice = advise("op", SIGNED_OUT)
    assert "not signed in" in advice.cause and "You are not currently signed in" in advice.cause
    assert "op signin" in advice.fix and "OP_SERVICE_ACCOUNT_TOKEN" in advice.fix


def test_result_message_is_the_advice_or_the_tool_text():
    assert Result("op", ("inject",), 1, "", SIGNED_OUT, 0.1).message().startswith("1Password CLI is not signed in")
    assert Result("helm", ("x",), 1, "", "Error: boom\n", 0.1).message() == "Error: boom"
