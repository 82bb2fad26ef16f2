"""`talosctl reboot` and `talosctl upgrade` (cmd/talosctl/cmd/talos/reboot.go, upgrade.go).

upgrade (v1.13 LifecycleService path, upgradeViaLifecycleService): WithClientAndNodes opens the
talosconfig, WithClient(TalosVersionCheck) opens it again (range ">1.13.0-alpha.2 <2.0.0"; a node
outside it: "New upgrade API is not available, falling back to legacy"), ImageService.Pull
("%s: pulled image %s"), LifecycleService.Upgrade (each installer line "<node>: <message>",
"Exit code: %d", then "%s: upgrade completed" / "%s: upgrade failed with exit code %d"), drain,
reboot (the tracker opens the talosconfig a third time), uncordon. All progress goes to the
reporter (stderr). The installer (cmd/installer/pkg/install/preflight.go, install.go) checks
compatibility.UpgradeableFrom and installs the version of its image tag.
"""
from __future__ import annotations


from tests.world import talos_client as tcl
from tests.world import talos_compat as compat
from tests.world import talos_drain as drain
from tests.world import talos_get
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world import talos_tracker
from tests.world import talos_upgrade_legacy
from tests.world.talos_client import CliError, RpcError


def reboot_node(address: str) -> None:
    """(*Server).Reboot: the reboot sequence runs in the background."""
    with st.locked(tcl.world_dir()) as state:
        st.begin_reboot(state[address])


def _reboot(flags, wait: bool, sequence: str = "reboot", action=reboot_node) -> None:
    """rebootInternal: the tracker with --wait, else Reboot on every node ("error executing reboot: %s")."""
    if wait:
        talos_tracker.Tracker(flags, action, talos_tracker.reboot_events(sequence), talos_tracker.ready,
                              talos_tracker.rebooted).run()
        return
    session = ts.connect(flags)
    talos_get.client_version_check(talos_get.node_versions(session))
    ts.executing("reboot", session, action)


def cmd_reboot(flags) -> None:
    """reboot [--wait] [--drain] (--drain opens the talosconfig three times: drain, tracker, uncordon)."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl reboot"')  # cobra.NoArgs (args.go)
    wait = flags["wait"] or flags["debug"] or flags["drain"]
    if not flags["drain"]:
        _reboot(flags, wait)
        return
    reporter = drain.Reporter()
    names = drain.drain(ts.connect(flags), reporter)
    failure = uncordon_failure = None
    try:
        _reboot(flags, wait)
    except CliError as exc:
        failure = exc
    try:
        ts.connect(flags)
        drain.uncordon(names, flags["timeout"], reporter)
    except CliError as exc:
        uncordon_failure = exc
    _joined(failure, uncordon_failure)


def _image_tag(image: str) -> str:
    """The installer's version: its image tag (the world's installers are tagged vX.Y.Z)."""
    tag = image.rsplit("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
    if not tag.startswith("v") or compat.core(tag) == (0, 0, 0):
        raise CliError(f"the simulated talosctl needs an installer image tagged vX.Y.Z, got {image!r}")
    return tag


def _install(address: str, image: str, version: str) -> tuple[list[str], int]:
    """LifecycleService.Upgrade on one node: the installer's lines and exit code."""
    with st.locked(tcl.world_dir()) as state:
        node = state[address]
        # lifecycle.go Upgrade: s.lock.TryLock() ("another installation/upgrade is already in progress")
        # is held only while the RPC runs; the world's install is one step under the state lock, so it
        # is never contended, and a completed install that never rebooted may be installed again.
        lines = ["running pre-flight checks", f"host Talos version: {node['talos_version']}"]
        problem = compat.upgradeable_from(version, node["talos_version"])
        if problem:
            return lines + [f"pre-flight checks failed: {problem}"], 1
        node.update(upgrade_to=version, installer_image=image)
        return lines + ["all pre-flight checks successful", f"installation of {version} complete"], 0


def _upgrade(session, image: str, reporter: drain.Reporter) -> None:
    """imagePullInternal + upgradeInternal."""
    version = _image_tag(image)
    pulled, errors = [], []
    for target in session.nodes:
        try:
            ts.proxied(tcl.snapshot(tcl.world_dir()), session, target)
            pulled.append(f"{target}: pulled image {image}\n")
        except RpcError as exc:
            errors.append(f"error from node {target}: {exc}")
    if pulled:
        reporter.report("".join(pulled))
    if errors:
        raise CliError("error pulling upgrade image: " + "\n".join(errors))  # errors.Join
    latest, finished = {}, {}
    for target in session.nodes:
        try:
            ts.proxied(tcl.snapshot(tcl.world_dir()), session, target)
            lines, code = _install(tcl.host_of(target), image, version)
        except RpcError as exc:
            errors.append(f"error from node {target}: {exc}")
            continue
        for line in lines + [f"Exit code: {code}"]:  # lifecycle.ProgressWriter.PrintLayerProgress
            latest[target] = line
            reporter.report("".join(f"{n}: {latest[n]}\n" for n in sorted(latest)))
        finished[target] = code
    if finished:
        reporter.report("".join(f"{n}: upgrade completed\n" if c == 0 else f"{n}: upgrade failed with exit code {c}\n"
                                for n, c in finished.items()))
    errors += [f"node {n}: upgrade failed with exit code {c}" for n, c in finished.items() if c]
    if errors:
        raise CliError("error during upgrade: " + "\n".join(errors))


def _talos_version_check(flags) -> list[tuple[str, str]]:
    """WithClient(helpers.TalosVersionCheck): a second talosconfig Open, then Version on every node."""
    session = ts.connect(flags)
    try:
        results, errors = ts.one2many(session, lambda state, node, target: node["talos_version"])
    except RpcError as exc:
        raise CliError(f"error getting server versions: {exc}") from None
    if errors:
        raise CliError(f"error getting server versions: {tcl.multierror(errors)}")
    return results


def _joined(first: CliError | None, second: CliError | None) -> None:
    """errors.Join(retErr, uncordonErr): raise what failed (suppressed only if nothing else prints)."""
    errors = [e for e in (first, second) if e is not None and str(e)]
    if errors:
        raise CliError("\n".join(str(e) for e in errors))
    if first is not None:
        raise first


def cmd_upgrade(flags) -> None:
    """upgrade --image X [--wait] [--drain] [--no-reboot] (v1.13 defaults: wait and drain on)."""
    if flags.args:
        raise CliError(f'unknown command "{flags.args[0]}" for "talosctl upgrade"')  # cobra.NoArgs (args.go)
    wait = flags["wait"] or flags["debug"] or flags["drain"]
    if wait and flags["insecure"]:
        raise CliError("cannot use --wait and --insecure together")
    session = ts.connect(flags)  # WithClientAndNodes
    use_drain = flags["drain"] and not flags["no-reboot"]
    if flags["legacy"]:
        tcl.warn("Forcing use of legacy upgrade method. This flag is deprecated and will be removed in Talos 1.18.")
        talos_upgrade_legacy.run(flags, _image_tag(flags["image"]))
        return
    if flags["namespace"] not in ("system", "cri", "inmem"):
        raise CliError(f'unsupported namespace "{flags["namespace"]}"')  # image.go containerdInstance
    reporter = drain.Reporter()
    try:
        versions = _talos_version_check(flags)
    except CliError as exc:
        raise CliError(f"error checking Talos version compatibility: {exc}") from None
    if any(talos_get.semver(tag) <= talos_get.semver("v1.13.0-alpha.2") for _, tag in versions):
        reporter.report("New upgrade API is not available, falling back to legacy")
        talos_upgrade_legacy.run(flags, _image_tag(flags["image"]))
        return
    _upgrade(session, flags["image"], reporter)
    names = drain.drain(session, reporter) if use_drain else {}
    failure = uncordon_failure = None
    if not flags["no-reboot"]:
        try:
            _reboot(flags, wait)
        except CliError as exc:
            failure = CliError(f"error during upgrade: {exc}" if str(exc) else "", exc.suppressed)
    if names:
        try:
            drain.uncordon(names, flags["timeout"], reporter)
        except CliError as exc:
            uncordon_failure = exc
    _joined(failure, uncordon_failure)
