"""Tool failures classified once, from a table: the stages ask `result.outcome` instead of
matching error text themselves. Each pattern names where the text comes from."""
from __future__ import annotations

# Exit codes the gateway itself produces (tools/gateway.py).
TIMEOUT, MISSING, CANNOT_RUN = 124, 127, 126

# (outcome, substrings of stderr); the first row with a match wins.
RULES = (
    # gRPC status codes as talosctl prints them: "rpc error: code = AlreadyExists desc = ..."
    # (google.golang.org/grpc/status Error()); Talos' Bootstrap answers AlreadyExists when etcd's
    # data directory is not empty and FailedPrecondition while it cannot bootstrap yet
    # (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go Bootstrap).
    ("already-exists", ("code = AlreadyExists",)),
    ("failed-precondition", ("code = FailedPrecondition",)),
    # TLS failures (crypto/x509 and crypto/tls error texts). For talosctl without --insecure, a node
    # in maintenance mode presents a certificate no client CA signed (FIELD-NOTES: talosctl).
    ("tls", ("x509:", "tls: ", "certificate signed by unknown authority")),
    # Nothing answered (syscall errors as Go prints them; kubectl's own wrapper text).
    ("unreachable", ("connection refused", "no route to host", "i/o timeout", "network is unreachable",
                     "Unable to connect to the server", "context deadline exceeded")),
)


def classify(tool: str, returncode: int, stderr: str) -> str:
    """The outcome of one command from its exit code and error text."""
    if returncode == 0:
        return "ok"
    if returncode == TIMEOUT:
        return "timeout"
    if returncode in (MISSING, CANNOT_RUN):
        return "missing"
    return classify_text(stderr)


def classify_text(text: str) -> str:
    """The outcome an error text names (one node's line of a multi-node talosctl call, say)."""
    for outcome, needles in RULES:
        if any(needle in text for needle in needles):
            return outcome
    return "error"


def reports_reboot(text: str) -> bool:
    """talosctl apply-config --dry-run says the change needs a reboot: the summary's mode details are
    "Applied configuration with a reboot" (internal/app/machined/internal/server/v1alpha1/
    v1alpha1_server.go ApplyConfiguration, printed on stderr by helpers/mode.go)."""
    return "Applied configuration with a reboot" in text


def reports_no_changes(text: str) -> bool:
    """talosctl apply-config --dry-run found nothing to change: its summary ends with
    "No changes." (cmd/talosctl/pkg/talos/helpers/mode.go)."""
    return "No changes." in text
