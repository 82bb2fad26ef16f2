"""doit task creators, one module per command family; dodo.py imports them and nothing else.

    render     `check` and one `render:<artifact>` task per file under build/
    bootstrap  one task per stage, `bootstrap` and `plan`
    state      doit's own state file, checked before doit reads it
"""
