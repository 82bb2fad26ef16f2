"""Version drift: the charts the bootstrap installs (bootstrap/charts.yaml) must have the versions the
Flux-managed stack deploys, read from the objects Flux reconciles (fluxtree).

Every form Flux reads (source-controller and helm-controller APIs): HelmRelease `spec.chartRef` to an
OCIRepository (`spec.ref.digest`, else `ref.semver`, else `ref.tag`; chart name = last segment of
`spec.url`) or to a HelmChart (`spec.chart`, `spec.version`), in the HelmRelease's namespace unless the
reference names one; and HelmRelease `spec.chart.spec.{chart,version}`. A version may be a semver range
(the pinned version must be in it), a digest (not comparable: a warning), or hold a post-build
variable Flux could not set (a warning naming it and where it should come from)."""
from __future__ import annotations

from dataclasses import dataclass

from .. import paths
from ..problems import Problem
from .gitops import SourcedObject, mapping
from .semver_range import RangeError, parse_version, satisfies

RULE = "chart-version-drift"
NOT_FOUND = "bootstrap-charts-not-found"


@dataclass(frozen=True)
class PinnedChart:
    """A chart version the GitOps tree pins, and the file that pins it."""

    chart: str
    version: str
    file: str
    form: str = "tag"                  # tag, version, semver or digest
    owner: str = ""                    # the object that pins it: "OCIRepository kube-system/cilium"
    unresolved: tuple = ()
    via: str = ""                      # the kustomization.yaml or spec.patches that built or changed it

    @property
    def built(self) -> str:
        """What built or changed it, if not its file alone."""
        return f", as built by {self.via}" if self.via else ""


def _source(ref: dict, release: SourcedObject, objects: list[SourcedObject]) -> SourcedObject | None:
    """The object a chartRef names, in the HelmRelease's namespace unless it names one."""
    namespace = ref.get("namespace") or release.namespace
    return next((o for o in objects if o.kind == ref.get("kind") and o.name == ref.get("name")
                 and o.namespace == namespace), None)


def _owner(o: SourcedObject) -> str:
    return f"{o.kind} {o.namespace or '(no namespace)'}/{o.name}"


def _from_oci(source: SourcedObject) -> PinnedChart | None:
    """OCIRepository: digest wins over semver, semver over tag (source-controller's precedence)."""
    spec = mapping(source.obj.get("spec"))
    ref, url = mapping(spec.get("ref")), str(spec.get("url") or "")
    form = next((f for f in ("digest", "semver", "tag") if ref.get(f)), None)
    if not url or form is None:
        return None
    return PinnedChart(url.rstrip("/").rpartition("/")[2], str(ref[form]), source.file, form, _owner(source),
                       source.unresolved, source.via)


def _from_chart_spec(chart: dict, holder: SourcedObject) -> PinnedChart | None:
    """spec.chart.spec of a HelmRelease, or a HelmChart's spec: a version or a range (default `*`)."""
    if not chart.get("chart"):
        return None
    version = str(chart.get("version") or "*")
    exact = parse_version(version) is not None and not any(c in version for c in "xX*")
    return PinnedChart(str(chart["chart"]), version, holder.file, "version" if exact else "semver",
                       _owner(holder), holder.unresolved, holder.via)


def pinned_charts(objects: list[SourcedObject]) -> tuple[list[PinnedChart], list[str]]:
    """Every chart version the HelmReleases pin, and warnings for references that lead nowhere."""
    pinned, warnings = [], []
    for release in (o for o in objects if o.kind == "HelmRelease"):
        spec = mapping(release.obj.get("spec"))
        ref = mapping(spec.get("chartRef"))
        if "chartRef" not in spec:
            found = _from_chart_spec(mapping(mapping(spec.get("chart")).get("spec")), release)
        elif ref.get("kind") in ("OCIRepository", "HelmChart"):
            source = _source(ref, release, objects)
            if source is None:
                warnings.append(f"{release.file}: {_owner(release)}: spec.chartRef names {ref.get('kind')} "
                                f"{ref.get('namespace') or release.namespace}/{ref.get('name')}, which Flux "
                                "does not reconcile from this tree; its version cannot be checked")
                continue
            found = _from_oci(source) if source.kind == "OCIRepository" \
                else _from_chart_spec(mapping(source.obj.get("spec")), source)
        else:
            found = None
        if found:
            pinned.append(found)
    return pinned, warnings


def _compare(key: str, chart: dict, pin: PinnedChart) -> tuple[Problem | None, str | None]:
    """A drift problem, a warning (a version that cannot be compared), or neither."""
    charts_file, version = paths.rel(paths.CHARTS_FILE), str(chart["version"])
    where = f"{pin.file}: {pin.owner}"
    if "${" in pin.version:
        names = "; ".join(f"${{{n}}} should come from {w}" for n, w in pin.unresolved) or "an unset variable"
        return None, f"{where}: the version of chart {pin.chart} is {pin.version!r}, which Flux cannot resolve: " \
                     f"{names}; its drift cannot be checked"
    if pin.form == "digest":
        return None, f"{where}: pins chart {pin.chart} by digest only ({pin.version}); its version cannot be " \
                     f"compared with {charts_file} charts.{key}.version ({version})"
    if pin.form == "semver":
        try:
            inside = satisfies(version, pin.version)
        except RangeError as err:
            return None, f"{where}: version range {pin.version!r} of chart {pin.chart} is not a semver range " \
                         f"Flux reads ({err}); its drift cannot be checked"
        return (None if inside else Problem(
            charts_file, f"charts.{key}.version",
            f"a version in the range {pin.version!r} (the range {pin.file} sets for chart {pin.chart}{pin.built})",
            f"{version}, outside that range", rule=RULE,
            hint=f"pin a version inside {pin.version!r} in {charts_file}, or widen the range in {pin.file}")), None
    if pin.version == version:
        return None, None
    return Problem(charts_file, f"charts.{key}.version",
                   f"{pin.version} (the version {pin.file} pins for chart {pin.chart}{pin.built})", version, rule=RULE,
                   hint=f"make {charts_file} and {pin.file}{pin.built} agree on one version of {pin.chart}"), None


def drift_problems(charts: dict, objects: list[SourcedObject], installed: tuple[str, ...] | None = None,
                   root: str = "the GitOps tree") -> tuple[list[Problem], list[str]]:
    """Problems for every bootstrap chart whose version differs from what Flux deploys; warnings for
    versions that cannot be compared, charts not found, and drift of charts the bootstrap never installs."""
    pins, warnings = pinned_charts(objects)
    installed = tuple(charts) if installed is None else installed
    problems, found, charts_file, unpinned = [], 0, paths.rel(paths.CHARTS_FILE), []
    for key, chart in charts.items():
        mine = [p for p in pins if p.chart == chart["chart"]]
        found += bool(mine) and key in installed
        if not mine and key in installed:
            unpinned.append(key)
        for pin in mine:
            problem, warning = _compare(key, chart, pin)
            if problem and key not in installed:
                warning, problem = (f"{problem.file}: charts.{key}.version: {chart['version']}, but {pin.file} "
                                    f"pins {pin.version}: the bootstrap does not install {key}, so this drift "
                                    "is Flux's alone"), None
            problems += [problem] if problem else []
            warnings += [warning] if warning else []
    wanted = [k for k in charts if k in installed]
    if len(unpinned) == 1:
        warnings.append(f"{charts_file}: charts.{unpinned[0]}: chart {charts[unpinned[0]]['chart']} is not pinned "
                        f"anywhere in {root}; its version cannot be checked for drift")
    elif found and unpinned:
        warnings.append(f"{charts_file}: {len(unpinned)} bootstrap charts are not pinned anywhere in {root} "
                        f"({', '.join(unpinned)}); their versions cannot be checked for drift")
    if wanted and not found:
        problems.append(Problem(paths.rel(paths.settings_file("common")), "gitops.path",
                                f"the HelmReleases of the {len(wanted)} bootstrap charts ({', '.join(wanted)}) "
                                f"among what Flux reconciles from {root}",
                                f"0 of {len(wanted)} bootstrap charts found in {root}", rule=NOT_FOUND,
                                hint="point common.yaml gitops.path at the home-ops checkout and "
                                     "flux-instance.yaml sync.path at its cluster root"))
    return problems, warnings
