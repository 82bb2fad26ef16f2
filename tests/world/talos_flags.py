"""The fake talosctl's flags, as v1.13.9 declares them (each block cites its init()).

Talos commands get the persistent flags of cmd/talosctl/cmd/talos/root.go addCommand(); the
`gen` commands (mgmt) do not, and share gen.go's persistent --force/-f.
"""
from __future__ import annotations

from tests.world import fake_cobra as cobra
from tests.world.fake_cobra import Flag

GLOBAL = [  # cmd/talosctl/cmd/talos/root.go addCommand()
    Flag("talosconfig", help="The path to the Talos configuration file. Defaults to 'TALOSCONFIG' env variable "
                             "if set, otherwise '$HOME/.talos/config' and '/var/run/secrets/talos.dev/config' in order."),
    Flag("nodes", "n", "slice", [], "target the specified nodes"),
    Flag("endpoints", "e", "slice", [], "override default endpoints in Talos configuration"),
    Flag("cluster", "c", help="Cluster to connect to if a proxy endpoint is used."),
    Flag("context", help="Context to be used in command"),
    Flag("siderov1-keys-dir", help="The path to the SideroV1 auth PGP keys directory."),
]
TRACK = [  # cmd/talosctl/cmd/talos/track.go addTrackActionFlags()
    Flag("wait", kind="bool", default=True, help="wait for the operation to complete, tracking its progress. "
                                                 "always set to true when --debug is set"),
    Flag("debug", kind="bool", default=False, help="debug operation from kernel logs. --wait is set to true when this flag is set"),
    Flag("timeout", kind="duration", default=1800.0, help="time to wait for the operation is complete if --debug or --wait is set"),
]
LEGACY = "legacy flag for MachineService.Upgrade fallback, to be removed in Talos 1.18"  # upgrade.go init()
FORCE = Flag("force", "f", "bool", False, "will overwrite existing files")  # mgmt/gen/gen.go init()

COMMANDS = {
    "apply-config": [  # cmd/talosctl/cmd/talos/apply-config.go init(), helpers/mode.go AddModeFlags
        Flag("file", "f", help="the filename of the updated configuration"),
        Flag("insecure", "i", "bool", False, "apply the config using the insecure (encrypted with no auth) maintenance service"),
        Flag("dry-run", kind="bool", default=False, help="check how the config change will be applied in dry-run mode"),
        Flag("cert-fingerprint", kind="slice", default=[], help="list of server certificate fingeprints to accept (defaults to no check)"),
        Flag("config-patch", "p", "array", [], "the list of config patches to apply to the local config file before sending it to the node"),
        Flag("timeout", kind="duration", default=60.0, help="the config will be rolled back after specified timeout (if try mode is selected)"),
        Flag("mode", "m", "choice", "auto", "apply config mode", ("auto", "no-reboot", "reboot", "staged", "try")),
    ],
    "bootstrap": [  # bootstrap.go init()
        Flag("recover-from", help="recover etcd cluster from the snapshot"),
        Flag("recover-skip-hash-check", kind="bool", default=False,
             help="skip integrity check when recovering etcd (use when recovering from data directory copy)"),
    ],
    "kubeconfig": [  # kubeconfig.go init()
        Flag("force", "f", "bool", False, "Force overwrite of kubeconfig if already present, force overwrite on kubeconfig merge"),
        Flag("force-context-name", help="Force context name for kubeconfig merge"),
        Flag("merge", "m", "bool", True, "Merge with existing kubeconfig"),
    ],
    "service": [], "etcd": [], "etcd leave": [], "etcd members": [], "etcd status": [], "etcd remove-member": [],
    "etcd forfeit-leadership": [],
    "health": [  # health.go init()
        Flag("init-node", help="specify IPs of init node"),
        Flag("control-plane-nodes", kind="slice", default=[], help="specify IPs of control plane nodes"),
        Flag("worker-nodes", kind="slice", default=[], help="specify IPs of worker nodes"),
        Flag("wait-timeout", kind="duration", default=1200.0, help="timeout to wait for the cluster to be ready"),
        Flag("k8s-endpoint", help="use endpoint instead of kubeconfig default"),
        Flag("server", kind="bool", default=True, help="run server-side check"),
        Flag("run-e2e", kind="bool", default=False, help="run Kubernetes e2e test"),
    ],
    "version": [  # version.go init()
        Flag("short", kind="bool", default=False, help="Print the short version"),
        Flag("client", kind="bool", default=False, help="Print client version only"),
        Flag("insecure", "i", "bool", False, "use Talos maintenance mode API"),
        Flag("json", kind="bool", default=False, hidden=True),
    ],
    "reset": [  # reset.go init()
        Flag("graceful", kind="bool", default=True, help="if true, attempt to cordon/drain node and leave etcd (if applicable)"),
        Flag("reboot", kind="bool", default=False, help="if true, reboot the node after resetting instead of shutting down"),
        Flag("insecure", kind="bool", default=False, help="reset using the insecure (encrypted with no auth) maintenance service"),
        Flag("wipe-mode", kind="choice", default="all", help="disk reset mode", choices=("all", "system-disk", "user-disks")),
        Flag("user-disks-to-wipe", kind="slice", default=[], help="if set, wipes defined devices in the list"),
        Flag("system-labels-to-wipe", kind="slice", default=[],
             help="if set, just wipe selected system disk partitions by label but keep other partitions intact"),
    ] + TRACK,
    "get": [  # get.go init()
        Flag("namespace", help="resource namespace (default is to use default namespace per resource)"),
        Flag("output", "o", default="table", help="output mode (json, table, yaml, jsonpath)"),
        Flag("watch", "w", "bool", False, "watch resource changes"),
        Flag("insecure", "i", "bool", False, "get resources using the insecure (encrypted with no auth) maintenance service"),
    ],
    "reboot": [  # reboot.go init()
        Flag("progress", kind="enum", default="auto", help="output mode for upgrade progress.", choices=("auto", "plain")),
        Flag("mode", "m", "enum", "default", "select the reboot mode during upgrade.", ("default", "force", "powercycle")),
        Flag("drain", kind="bool", default=False, help="drain the Kubernetes node before rebooting (cordon + evict pods)"),
        Flag("drain-timeout", kind="duration", default=300.0, help="timeout for draining the Kubernetes node"),
    ] + TRACK,
    "upgrade": [  # upgrade.go init()
        Flag("image", "i", default="ghcr.io/siderolabs/installer:v1.13.9", help="the container image to use for performing the install"),
        Flag("namespace", default="system", help='namespace to use: "system" (etcd and kubelet images), "cri" for all '
                                                 'Kubernetes workloads, "inmem" for in-memory containerd instance'),
        Flag("reboot-mode", "m", "enum", "default", "select the reboot mode during upgrade.", ("default", "force", "powercycle")),
        Flag("progress", kind="enum", default="auto", help="output mode for upgrade progress.", choices=("auto", "plain")),
        Flag("no-reboot", kind="bool", default=False, help="do not reboot the node after upgrade (skip reboot and drain)"),
        Flag("drain", kind="bool", default=True, help="drain the Kubernetes node before rebooting (cordon + evict pods)"),
        Flag("drain-timeout", kind="duration", default=300.0, help="timeout for draining the Kubernetes node"),
    ] + TRACK + [
        Flag("legacy", kind="bool", default=False, help="force use of legacy upgrade method"),
        Flag("force", "f", "bool", False, "force the upgrade (skip checks on etcd health and members, might lead to data loss)",
             deprecated=LEGACY),
        Flag("insecure", kind="bool", default=False, help="upgrade using the insecure (encrypted with no auth) maintenance service",
             deprecated=LEGACY),
        Flag("preserve", "p", "bool", False, "preserve data", deprecated=LEGACY),
        Flag("stage", "s", "bool", False, "stage the upgrade to perform it after a reboot", deprecated=LEGACY),
    ],
    "upgrade-k8s": [  # upgrade-k8s.go init()
        Flag("from", help="the Kubernetes control plane version to upgrade from"),
        Flag("to", default="1.36.3", help="the Kubernetes control plane version to upgrade to"),
        Flag("endpoint", help="the cluster control plane endpoint"),
        Flag("with-examples", kind="bool", default=True, help="patch all machine configs with the commented examples"),
        Flag("with-docs", kind="bool", default=True, help="patch all machine configs adding the documentation for each field"),
        Flag("pre-pull-images", kind="bool", default=True, help="pre-pull images before upgrade"),
        Flag("upgrade-kubelet", kind="bool", default=True, help="upgrade kubelet service"),
        Flag("dry-run", kind="bool", default=False, help="skip the actual upgrade and show the upgrade plan instead"),
        Flag("kubelet-image", default="ghcr.io/siderolabs/kubelet", help="kubelet image to use"),
        Flag("apiserver-image", default="registry.k8s.io/kube-apiserver", help="kube-apiserver image to use"),
        Flag("controller-manager-image", default="registry.k8s.io/kube-controller-manager", help="kube-controller-manager image to use"),
        Flag("scheduler-image", default="registry.k8s.io/kube-scheduler", help="kube-scheduler image to use"),
        Flag("proxy-image", default="registry.k8s.io/kube-proxy", help="kube-proxy image to use"),
        Flag("manifests-force", kind="bool", default=False, help="whether to recreate objects that contain immutable field changes"),
        Flag("manifests-no-prune", kind="bool", default=False, help="whether pruning of previously applied objects should happen after apply"),
        Flag("manifests-inventory-policy", default="AdoptIfNoInventory", help="kubernetes SSA inventory policy"),
        Flag("manifests-reconcile-timeout", kind="duration", default=300.0,
             help="how long to wait for resources to be fully reconciled (set to zero to disable waiting)"),
    ],
}
MGMT = {
    "validate": [  # mgmt/validate.go init()
        Flag("config", "c", help="the path of the config file"),
        Flag("mode", "m", help="the mode to validate the config for (valid values are metal, cloud, and container)"),
        Flag("strict", kind="bool", default=False, help="treat validation warnings as errors"),
    ],
    "gen": [FORCE],
    "gen secrets": [FORCE] + [  # mgmt/gen/secrets.go init()
        Flag("output-file", "o", default="secrets.yaml", help='path of the output file, or "-" for stdout'),
        Flag("talos-version", help="the desired Talos version to generate secrets bundle for (backwards compatibility, e.g. v0.8)"),
        Flag("from-controlplane-config", help="use the provided controlplane Talos machine configuration as input"),
        Flag("from-kubernetes-pki", "p", help="use a Kubernetes PKI directory (e.g. /etc/kubernetes/pki) as input"),
        Flag("kubernetes-bootstrap-token", "t", help="use the provided bootstrap token as input"),
    ],
    "gen config": [FORCE] + [  # mgmt/gen/config.go init()
        Flag("with-secrets", help="use a secrets file generated using 'gen secrets'"),
        Flag("output-types", "t", "slice", ["controlplane", "worker", "talosconfig"], "types of outputs to be generated."),
        Flag("output", "o", help="destination to output generated files."),
        Flag("output-dir", hidden=True),
        Flag("kubernetes-version", default="1.36.3", help="desired kubernetes version to run"),
        Flag("talos-version", help="the desired Talos version to generate config for"),
        Flag("install-disk", default="/dev/sda", help="the disk to install to"),
        Flag("with-docs", kind="bool", default=True, help="renders all machine configs adding the documentation for each field"),
        Flag("with-examples", kind="bool", default=True, help="renders all machine configs with the commented examples"),
    ],
}


def usage(command: str) -> str:
    """cobra's UsageString for a command (condensed: no examples, no subcommand list)."""
    flags = COMMANDS.get(command, MGMT.get(command, []))
    text = f"Usage:\n  talosctl {command} [flags]\n\n"
    if flags:
        text += "Flags:\n" + cobra.flag_usages(flags + [Flag("help", "h", "bool", help=f"help for {command.split()[-1]}")])
        text += "\n\n"
    if command in COMMANDS:
        text += "Global Flags:\n" + cobra.flag_usages(GLOBAL) + "\n"
    return text
