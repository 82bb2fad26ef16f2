"""doit entry point: configuration and task creators only; the logic lives in tasks/.

    doit render      render every artifact under build/ (offline)
    doit list        the stages, one line each
    doit plan        what `doit bootstrap` would do, and why (changes nothing)
    doit bootstrap   every stage, rerunning only what changed or is incomplete
    doit trust-cluster  record the identity of the cluster build/kubeconfig reaches (explicit)
    doit graph       the stage chain as a picture, coloured by the last plan (build/graph/)
    doit doctor      read-only preflight: tools, 1Password, nodes and their hardware, API server, GitOps tree
    doit secrets     generate the Talos secrets into 1Password (`--overwrite` to replace them)
"""
from tasks.commands.bootstrap import task_plan, task_remove_node, task_stages, task_trust_cluster  # noqa: F401
from tasks.commands.doctor import task_doctor, task_secrets  # noqa: F401
from tasks.commands.graph import task_graph  # noqa: F401
from tasks.commands.render import task_check, task_render  # noqa: F401
from tasks.commands.reporter import StageReporter
from tasks.commands.state import guard_doit_state

guard_doit_state()          # before doit reads .doit.db: an unusable one is moved aside

DOIT_CONFIG = {
    "default_tasks": ["render"],
    "dep_file": ".doit.db",
    "backend": "json",
    "check_file_uptodate": "md5",
    "verbosity": 1,
    "sort": "definition",
    "reporter": StageReporter,      # one line per stage, a summary; BOOTSTRAP_VERBOSE=1 for every stage
}
