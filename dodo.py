"""doit entry point: configuration and task creators only; the logic lives in tasks/.

    doit render      render every artifact under build/ (offline)
    doit list        the stages, one line each
"""
from tasks.render_tasks import task_check, task_render  # noqa: F401

DOIT_CONFIG = {
    "default_tasks": ["render"],
    "dep_file": ".doit.db",
    "backend": "json",
    "check_file_uptodate": "md5",
    "verbosity": 1,
}
