"""doit entry point: configuration and task creators only; the logic lives in tasks/."""
