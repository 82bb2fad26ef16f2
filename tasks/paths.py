"""Where things live, relative to the repository root (the folder holding dodo.py)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "bootstrap"
VALUES = BOOTSTRAP / "values"
CHARTS_FILE = BOOTSTRAP / "charts.yaml"
RESOURCES_FILE = BOOTSTRAP / "resources.yaml"
HELMFILE_DIR = BOOTSTRAP / "helmfile.d"
TEMPLATES = ROOT / "templates"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
BUILD = ROOT / "build"

# The settings files under bootstrap/values/, each validated by tasks/schemas/<name>.schema.yaml.
SETTINGS = ("common", "talos", "cilium", "kube-vip", "cert-manager", "external-secrets",
            "onepassword-store", "flux-operator", "flux-instance", "spegel")


def rel(path: Path) -> str:
    """A path as the user sees it: relative to the repository root when inside it. doit runs
    in the root, so these also keep its state valid when the checkout moves."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
