"""The action tracker of `reboot`, `reset`, `upgrade` (legacy) with --wait, in a non-terminal.

cmd/talosctl/pkg/talos/action/tracker.go Run(): WithClient (one talosconfig Open),
ClientVersionCheck, then common.SuppressErrors = true (a failure is printed by the tracker, not
by Execute; exit 1). runReporter: every update is `fmt.Fprintf(os.Stderr, "%q: %v\\n", node, msg)`.
node.go: "waiting for actor ID", "actor ID: %v", then the events of that actor ("sequence: %s
action: %v[ error: [code: %v message: %v]]" with message and code swapped as in the source,
"phase: %s action: %v", "task: %s action: %v"); a "reboot" sequence ends the stream with the
retryable "reboot sequence completed" (printed as "error: ..."); a dropped stream prints
"unavailable, retrying..."; "events check condition met"; "post check passed". The action itself
and the boot-id read run One2One (plain status errors).
"""
from __future__ import annotations

import os
import sys
import time
import uuid

from tests.world import talos_client as tcl
from tests.world import talos_get
from tests.world import talos_session as ts
from tests.world import talos_state as st
from tests.world.talos_client import CliError, RpcError


class Tracker:
    """One tracked action over the session's nodes."""

    def __init__(self, flags, action, events, done, post_check=None):
        """action(address); events(node) -> (lines, sequence error); done(node) (None: in the stream); post_check."""
        self.flags, self.action, self.events, self.done, self.post_check = flags, action, events, done, post_check
        self.poll = float(os.environ.get("TALOS_WORLD_POLL_SECONDS", "0.2"))
        self.retried: dict[str, float] = {}

    @staticmethod
    def say(node: str, message: str) -> None:
        """runReporter, non-terminal branch."""
        sys.stderr.write(f'"{node}": {message}\n')
        sys.stderr.flush()

    def _retrying(self, node: str) -> None:
        """"unavailable, retrying..." once per retry (go-retry Constant: one attempt a second)."""
        if time.monotonic() - self.retried.get(node, -1.0) >= 1.0:
            self.retried[node] = time.monotonic()
            self.say(node, "unavailable, retrying...")

    def _start(self, session, target: str) -> str | None:
        """Boot ID (post check only), the action, its actor ID and events; the boot ID or None on failure."""
        state = tcl.snapshot(tcl.world_dir())
        try:
            node = ts.proxied(state, session, target)
            self.say(target, "waiting for actor ID")
            boot_id = node["boot_id"]
            self.action(node["address"])
        except RpcError as exc:
            self.say(target, str(exc))
            return None
        self.say(target, f"actor ID: {uuid.uuid4()}")
        lines, failure = self.events(node)
        for line in lines:
            self.say(target, line)
        if failure:
            self.say(target, f"error: sequence error: {failure}")  # handleEvent, then trackEventsWithRetry
            self.say(target, f"sequence error: {failure}")         # Tracker.Run: the node's final error
            return None
        return boot_id

    def _wait(self, session, target: str, boot_id: str, deadline: float) -> bool:
        """Events until the expected one (retrying while the node is away), then the post check."""
        met = self.done is None
        if met:
            self.say(target, "events check condition met")
        while time.monotonic() < deadline:
            state = tcl.snapshot(tcl.world_dir())
            node = state.get(tcl.host_of(target))
            if not met:
                try:
                    ts.proxied(state, session, target)
                    met = self.done(node)
                except RpcError:
                    self._retrying(target)
                if met:
                    self.say(target, "events check condition met")
            if met and self.post_check is not None and not self.post_check(node, boot_id) and node_down(node):
                self._retrying(target)
            elif met and (self.post_check is None or self.post_check(node, boot_id)):
                if self.post_check is not None:
                    self.say(target, "post check passed")
                return True
            time.sleep(self.poll)
        self.say(target, "context deadline exceeded")
        return False

    def run(self) -> None:
        """Tracker.Run: raises a suppressed CliError when any node failed."""
        session = ts.connect(self.flags)
        talos_get.client_version_check(talos_get.node_versions(session))
        deadline = time.monotonic() + self.flags["timeout"]
        started = {target: self._start(session, target) for target in session.nodes}
        ok = all(boot_id is not None for boot_id in started.values())
        for target, boot_id in started.items():
            if boot_id is not None:
                ok = self._wait(session, target, boot_id, deadline) and ok
        if not ok:
            raise CliError("", suppressed=True)


def node_down(node: dict | None) -> bool:
    """The node does not answer (off, cut off or rebooting)."""
    return node is None or bool(node.get("unreachable")) or st.is_rebooting(node)


def rebooted(node: dict, boot_id: str) -> bool:
    """BootIDChangedPostCheckFn: the boot ID differs (else "didn't reboot yet", retried)."""
    return node is not None and node["boot_id"] != boot_id


def ready(node: dict) -> bool:
    """MachineReadyEventFn: stage RUNNING and ready."""
    return node is not None and not st.is_rebooting(node) and st.is_ready(node)


def reboot_events(sequence: str):
    """The events of a reboot-type sequence until the stream drops."""
    def events(_node: dict) -> tuple[list[str], None]:
        lines = [f"sequence: {sequence} action: START"]
        return lines + (["error: reboot sequence completed"] if sequence == "reboot" else []), None
    return events
