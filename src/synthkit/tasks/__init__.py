"""Task types as plug-ins: one package per type under synthkit/tasks/, loaded from the spec by
synthkit.tasks.registry.load_task.

A package synthkit/tasks/<type>/ holds the type's `task.py` (TASK, a synthkit.tasks.base.TaskType) and, when the
type has its own spec or params section, a light `section.py` (SPEC_SECTION, PARAMS_SECTION). Adding a type is
adding a package; nothing else names the types.
"""
