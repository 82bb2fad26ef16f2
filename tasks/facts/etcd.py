"""etcd facts for the gates of a rolling change: the member list (`talosctl etcd members`, also what
`doit plan` reports) and each control plane's member status (`talosctl etcd status`), read only when a
node is about to go down.
Output shapes: cmd/talosctl/cmd/talos/etcd.go (members: NODE ID HOSTNAME PEER URLS CLIENT URLS
LEARNER; status: NODE MEMBER DB SIZE IN USE LEADER ... ERRORS; a node that fails is a WARNING on
stderr and the command still exits 0 when another node answered)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import tools


@dataclass
class Member:
    """One etcd member as the member list shows it."""

    member_id: str
    hostname: str
    address: str            # host of its peer URL
    learner: bool


@dataclass
class EtcdHealth:
    """The members, and which control planes' etcd answers without errors."""

    members: list[Member] = field(default_factory=list)
    healthy: set[str] = field(default_factory=set)      # addresses whose member status has no error
    reason: str = ""                                    # why the list could not be read

    def unhealthy(self) -> list[Member]:
        """Members that are not started, not answering or report errors."""
        return [m for m in self.members if m.address not in self.healthy or m.learner]


def _rows(text: str, header: str) -> list[list[str]]:
    """Rows of a talosctl table (columns split on runs of spaces; padding is 3)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith(header):
        return []
    return [[cell.strip() for cell in line.split("   ") if cell.strip()] for line in lines[1:]]


def parse_members(text: str) -> list[Member]:
    """Members of `etcd members` (the first node's list; they all list the same cluster)."""
    members, first = {}, None
    for row in _rows(text, "NODE"):
        if len(row) < 6 or (first and row[0] != first):
            continue
        first = row[0]
        host = row[3].split(",")[0].split("://")[-1].rsplit(":", 1)[0]
        members[row[1]] = Member(row[1], row[2], host, row[5] == "true")
    return list(members.values())


def parse_healthy(text: str) -> set[str]:
    """Nodes whose `etcd status` row has no ERRORS column."""
    return {row[0] for row in _rows(text, "NODE") if len(row) == 11}


def query_members(controlplanes: list[str], talosconfig: str) -> EtcdHealth:
    """One `etcd members` across the control planes: the members, no health yet."""
    members = tools.talosctl(["etcd", "members", "-n", ",".join(controlplanes)], talosconfig, timeout=30)
    found = parse_members(members.stdout)
    if not found:
        return EtcdHealth(reason=f"talosctl etcd members: {members.message()}")
    return EtcdHealth(found)


def query_health(members: EtcdHealth, controlplanes: list[str], talosconfig: str) -> EtcdHealth:
    """The members (already read) with one `etcd status` across the control planes."""
    if not members.members:
        return members
    status = tools.talosctl(["etcd", "status", "-n", ",".join(controlplanes)], talosconfig, timeout=30)
    return EtcdHealth(members.members, parse_healthy(status.stdout))
