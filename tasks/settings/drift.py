"""Version drift: the charts the bootstrap installs (bootstrap/charts.yaml, used for CRD seeding
and releases) must have the versions the Flux-managed stack pins in the GitOps tree.

Reads both forms found in real trees: HelmRelease `spec.chartRef` -> OCIRepository `spec.ref.tag`
(chart name = last segment of `spec.url`), and HelmRelease `spec.chart.spec.{chart,version}`."""
from __future__ import annotations

from dataclasses import dataclass

from .. import paths
from ..problems import Problem
from .gitops import SourcedObject, mapping

RULE = "chart-version-drift"


@dataclass(frozen=True)
class PinnedChart:
    """A chart version the GitOps tree pins, and the file that pins it."""

    chart: str
    version: str
    file: str


def _oci_index(objects: list[SourcedObject]) -> dict:
    """OCIRepositories by (namespace, name)."""
    return {(o.namespace, o.name): o for o in objects if o.kind == "OCIRepository"}


def _from_chart_ref(release: SourcedObject, ocis: dict) -> PinnedChart | None:
    """The chart a HelmRelease takes from an OCIRepository through spec.chartRef."""
    ref = mapping(release.obj["spec"]["chartRef"])
    if ref.get("kind") != "OCIRepository":
        return None
    source = ocis.get((ref.get("namespace") or release.namespace, ref.get("name")))
    if source is None:
        return None
    spec = mapping(source.obj.get("spec"))
    tag = mapping(spec.get("ref")).get("tag")
    url = str(spec.get("url") or "")
    return PinnedChart(url.rstrip("/").rpartition("/")[2], str(tag), source.file) if tag and url else None


def pinned_charts(objects: list[SourcedObject]) -> list[PinnedChart]:
    """Every chart version the HelmReleases of the tree pin."""
    ocis, pinned = _oci_index(objects), []
    for release in (o for o in objects if o.kind == "HelmRelease"):
        spec = mapping(release.obj.get("spec"))
        if "chartRef" in spec:
            found = _from_chart_ref(release, ocis)
        else:
            chart = mapping(mapping(spec.get("chart")).get("spec"))
            found = PinnedChart(chart["chart"], str(chart["version"]), release.file) \
                if chart.get("chart") and chart.get("version") else None
        if found:
            pinned.append(found)
    return pinned


def drift_problems(charts: dict, objects: list[SourcedObject]) -> tuple[list[Problem], list[str]]:
    """Problems for every bootstrap chart whose version differs from the tree's; warnings for
    charts the tree does not pin at all."""
    by_chart: dict[str, list[PinnedChart]] = {}
    for pin in pinned_charts(objects):
        by_chart.setdefault(pin.chart, []).append(pin)
    problems, warnings = [], []
    charts_file = paths.rel(paths.CHARTS_FILE)
    for key, chart in charts.items():
        pins = by_chart.get(chart["chart"], [])
        if not pins:
            warnings.append(f"{charts_file}: charts.{key}: chart {chart['chart']} is not pinned anywhere "
                            "in the GitOps tree; its version cannot be checked for drift")
        for pin in pins:
            if pin.version != str(chart["version"]):
                problems.append(Problem(
                    charts_file, f"charts.{key}.version",
                    f"{pin.version} (the version {pin.file} pins for chart {chart['chart']})",
                    f"{chart['version']}", rule=RULE,
                    hint=f"make {charts_file} and {pin.file} agree on one version of {chart['chart']}"))
    return problems, warnings
