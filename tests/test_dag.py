"""One honest DAG: every dvc.yaml comes from the one stage definition, a code edit flags exactly the stages whose code
imports the edited module, a params edit flags exactly the stages that read the key, and the imports form no circle."""

from __future__ import annotations

import ast
import functools
import json
from modulefinder import ModuleFinder
from pathlib import Path

import pytest
import yaml

from synthkit import dag
from synthkit.task_types import task_types
from tests.repo_copy import REPO, copy_repo, run

STAGE_NAMES = [s.name for s in dag.STAGES]
MODULES = sorted(p for p in (REPO / "src" / "synthkit").rglob("*.py") if "__pycache__" not in p.parts)


def test_every_dvc_yaml_is_what_the_stage_definition_and_the_code_give():
    assert dag.write_all(check=True) == [], "run `synthkit dag` and commit the dvc.yaml files"
    assert [p.dir.name for p in dag.projects()[1:]] == ["extraction", "rewrite", "summarization"]


@pytest.mark.parametrize("project", dag.projects(), ids=lambda p: p.dir.name)
def test_every_pipeline_runs_the_same_stages_with_the_same_options(project):
    stages = yaml.safe_load((project.dir / "dvc.yaml").read_text())["stages"]
    assert list(stages) == STAGE_NAMES
    root = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        options = {w for w in stage["cmd"].split() if w.startswith("--")} - {"--docs", "--eval-docs"}
        assert options == {w for w in root[name]["cmd"].split() if w.startswith("--")} - {"--docs", "--eval-docs"}, name
    assert {"--rejects", "--prompts", "--llm-cache"} <= set(stages["generate"]["cmd"].split())


def _finder_closure(script: Path, task_type: str) -> set[str]:
    """synthkit modules a script imports, found by the standard library's ModuleFinder (its own reading of the
    bytecode, functions included) over src/ alone, plus what the modules loaded by name import (the type's task.py
    when the registry is imported; the step a load_step call names): an independent view of dag.code_deps."""
    finder = ModuleFinder(path=[str(REPO / "src"), str(script.parent)])
    finder.run_script(str(script))
    steps = {n.args[2].value for n in ast.walk(ast.parse(script.read_text())) if isinstance(n, ast.Call)
             and getattr(n.func, "id", None) == "load_step"}
    if "synthkit.tasks.registry" in finder.modules:
        finder.import_hook(f"synthkit.tasks.{task_type}.task")
    for step in steps:
        finder.import_hook(f"synthkit.tasks.{task_type}.{step}")
    local = {Path(m.__file__).relative_to(REPO).as_posix() for m in finder.modules.values()
             if m.__file__ and Path(m.__file__).parent == script.parent and Path(m.__file__) != script}
    return {name for name in finder.modules if name.startswith("synthkit")} | {f"local:{f}" for f in local}


def _as_files(modules: set[str]) -> set[str]:
    return {m[6:] if m.startswith("local:") else dag.module_path(m).relative_to(REPO).as_posix()
            for m in modules if m.startswith("local:") or dag.module_path(m)}


@pytest.mark.parametrize("stage", [s for s in STAGE_NAMES if s != "manifest"])
def test_derived_code_deps_match_an_independent_import_finder(stage):
    script = REPO / "stages" / f"{stage}.py"
    derived = {p.relative_to(REPO).as_posix() for p in dag.code_deps(script, "classification")}
    found = _as_files(_finder_closure(script, "classification")) | {f"stages/{stage}.py"}
    assert found == derived


def test_no_circle_in_the_imports():
    graph = {}
    for path in MODULES:
        name = dag._module_name(path, REPO)
        graph[name] = {m for m in dag.imports_of(path) if "{type}" not in m and m != name and dag.module_path(m)}
    # a package's __init__ is imported before its modules: an edge to a parent package is not a circle
    graph = {n: {m for m in deps if not n.startswith(m + ".")} for n, deps in graph.items()}
    seen, stack, circles = set(), [], []

    def visit(node):
        if node in stack:
            circles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    assert circles == []


def test_no_stage_script_branches_on_the_task_type():
    for script in sorted((REPO / "stages").glob("*.py")):
        tree = ast.parse(script.read_text())
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not strings & set(task_types()), script.name
        for node in ast.walk(tree):
            if isinstance(node, (ast.If, ast.IfExp, ast.Match, ast.While)):
                assert "type" not in {n.attr for n in ast.walk(node.test if not isinstance(node, ast.Match) else node.subject)
                                      if isinstance(n, ast.Attribute)}, f"{script.name}:{node.lineno}"


# ------------------------------------------------------------------------------------------------ dvc status


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("dag"))


@pytest.fixture(scope="module")
def repo(copy):
    """DVC's own API on the copy, opened once (the same as `dvc status`, without a process per call)."""
    from dvc.repo import Repo

    with Repo(str(copy)) as r:
        yield r


def _flagged(repo, target: str = "dvc.yaml") -> dict[str, set[str]]:
    """Stage -> the deps and params `dvc status` reports as modified (data missing in a fresh copy is not a change)."""
    status = repo.status(targets=[str(Path(repo.root_dir) / target)])
    out: dict[str, set[str]] = {}
    for stage, changes in status.items():
        for change in changes:
            if isinstance(change, dict):
                changed = change.get("changed deps", {})
                out.setdefault(stage.split(":")[-1], set()).update(k for k, v in changed.items() if v != "deleted")
    return {k: v for k, v in out.items() if v}


@functools.cache
def _stage_code(task_type: str) -> dict[str, set[Path]]:
    """Stage -> the files its code runs (the manifest also records every file the pipeline runs)."""
    code = {s: set(dag.code_deps(REPO / "stages" / f"{s}.py", task_type)) for s in STAGE_NAMES}
    code["manifest"] |= set(dag.pipeline_code(task_type))
    return code


def _importers(relpath: str, task_type: str) -> set[str]:
    return {s for s, files in _stage_code(task_type).items() if REPO / relpath in files}


def test_a_code_edit_flags_exactly_the_stages_whose_code_imports_it(copy, repo):
    """Every module under src/synthkit and stages/ edited at once: `dvc status` names, for each stage, every changed
    dep, so one status gives each module's flagged stages, which must be exactly the stages whose code imports it."""
    assert _flagged(repo) == {}  # the committed dvc.lock matches the code
    paths = [*MODULES, *sorted((REPO / "stages").glob("*.py"))]
    originals = {path: (copy / path.relative_to(REPO)).read_bytes() for path in paths}
    try:
        for path, original in originals.items():
            (copy / path.relative_to(REPO)).write_bytes(original + b"\n# touched\n")
        flagged = _flagged(repo)
    finally:
        for path, original in originals.items():
            (copy / path.relative_to(REPO)).write_bytes(original)
    checked = 0
    for path in paths:
        rel = path.relative_to(REPO).as_posix()
        expected = _importers(rel, "classification")
        assert {s for s, deps in flagged.items() if rel in deps} == expected, rel
        checked += bool(expected)
    assert checked >= 50  # most modules are some stage's code
    assert _flagged(repo) == {}  # every edit undone: nothing left flagged
    # the manifest records every module the pipeline runs; cli and diff are in no pipeline
    assert _importers("src/synthkit/cli.py", "classification") == set()


def test_a_task_type_module_flags_only_its_own_examples_stages(copy, repo):
    rel = "src/synthkit/tasks/extraction/student.py"
    target = copy / rel
    original = target.read_bytes()
    target.write_bytes(original + b"\n# touched\n")
    try:
        assert _flagged(repo) == {}  # the root pipeline (classification) never runs extraction code
        flagged = {s for s, deps in _flagged(repo, "examples/extraction/dvc.yaml").items() if rel in deps}
    finally:
        target.write_bytes(original)
    assert flagged == {"evaluate", "manifest"}


def _edit_params(copy: Path, key: str, value) -> bytes:
    path = copy / "params.yaml"
    original = path.read_bytes()
    data = yaml.safe_load(original)
    node = data
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return original


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("filter.critic.min_realism", 4, {"filter", "manifest"}),
    ("ray.batch_size", 7, set()),
    ("ray.address", "ray://elsewhere:10001", set()),
    ("engine", "ray", set()),
    ("llm.max_concurrency", 2, set()),
    ("filter.pii.workers", 1, set()),
    ("mix.synthetic_ratio", 0.5, {"mix", "manifest"}),
    ("evaluate.C", 3.0, {"mix", "evaluate"}),  # mix.synthetic_ratio auto cross-validates the evaluate student
    ("validate.min_chars", 5, {"validate", "manifest"}),
    ("generate.approve.min_realism", 2, {"generate", "manifest"}),
])
def test_a_params_edit_flags_exactly_the_stages_that_read_the_key(copy, repo, key, value, expected):
    original = _edit_params(copy, key, value)
    try:
        flagged = {s for s, deps in _flagged(repo).items() if any(str(d).startswith("params.yaml") for d in deps)}
    finally:
        (copy / "params.yaml").write_bytes(original)
    assert flagged == expected


def test_declared_params_are_leaf_keys_or_sections_read_whole():
    root = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert "filter.critic.min_realism" in root["filter"]["params"] and "filter" not in root["filter"]["params"]
    assert not [k for s in root.values() for k in s.get("params", []) if str(k).split(".")[0] in ("ray", "engine")]
    assert "validate.min_chars" not in root["generate"]["params"] and not [k for k in root["generate"]["params"] if str(k).startswith("filter")]


def test_traces_hold_against_the_declared_deps(tmp_path):
    """A stage run with SYNTHKIT_TRACE: every module it imported is a dep, every params key it read is declared."""
    from synthkit.tasks.base import EXECUTION_ONLY
    from tests.examples import write_seeds

    trace = tmp_path / "trace"
    ex = REPO / "examples" / "rewrite"
    seeds = write_seeds("rewrite", tmp_path)
    env = {"SYNTHKIT_TRACE": str(trace)}
    res = run(["python", str(REPO / "stages" / "validate.py"), "--params", str(ex / "params.yaml"), "--spec", str(ex / "spec.yaml"),
               "--candidates", str(seeds), "--out", str(tmp_path / "v.parquet"), "--rejects", str(tmp_path / "r.parquet"),
               "--counts", str(tmp_path / "c.json")], cwd=ex, extra_env=env)
    assert res.returncode == 0
    assert_trace_declared(trace / "validate.json", ex / "dvc.yaml", "validate", EXECUTION_ONLY)


def assert_trace_declared(trace_file: Path, dvc_yaml: Path, stage: str, execution_only) -> None:
    """The trace of one stage run holds against its dvc.yaml entry: modules within the deps, params within the params."""
    traced = json.loads(trace_file.read_text())
    entry = yaml.safe_load(dvc_yaml.read_text())["stages"][stage]
    deps = {d.replace("../../", "") for d in entry["deps"]}
    files = _as_files(set(traced["modules"]))
    assert files <= deps, sorted(files - deps)
    declared = [str(k) for k in entry["params"]]
    unread = [r for r in traced["params"] if not any(r == k or r.startswith(k + ".") for k in [*declared, *execution_only])]
    assert unread == []
