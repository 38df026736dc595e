"""Bad input and hostile use, run as a user would: the real prepare stage script and the `synthkit` CLI in a throwaway
copy of a tiny prepared project. Every case must exit with its code and exactly one stderr line naming the file,
row and field (or the refusal), print no traceback, and leave the md5 of every file in the project unchanged.

The cases run as subprocesses, two at a time, once per session; each test then checks one case's result.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import io
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import yaml

from synthkit.io import write_parquet
from synthkit.schemas import Reject, conform
from tests.conftest import TINY_SPEC
from tests.repo_copy import REPO, env as repo_env

PY = sys.executable
CLI = [PY, "-m", "synthkit.cli"]
WORKERS = 2
TIMEOUT_S = 120
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# root reads and writes whatever the permission bits say: its cases run without the capabilities that allow it
SETPRIV = shutil.which("setpriv")
WITHOUT_OVERRIDE = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search"] if AS_ROOT and SETPRIV else []

HEADER = ("text", "label", "group", "channel")
SEEDS = [
    ("I was charged twice for Pro, refund one please", "refund_request", "g1", "chat"),
    ("double charge on my card, I want my money back", "refund_request", "g1", "email"),
    ("refund the café order from Monday", "refund_request", "g2", "chat"),
    ("please cancel my Basic plan before it renews", "cancel_subscription", "g3", "chat"),
    ("stop my subscription from renewing next month", "cancel_subscription", "g3", "email"),
    ("cancel the plan, über expensive now", "cancel_subscription", "g4", "ticket_subject"),
    ("the password reset email never arrives", "login_problem", "g5", "chat"),
    ("I can't sign in since Monday", "login_problem", "g5", "chat"),
    ("login page keeps saying wrong password", "login_problem", "g6", "email"),
]
EVAL = [
    ("got billed two times this month, need a refund", "refund_request", "e1", "chat"),
    ("money back for the duplicate payment please", "refund_request", "e2", "email"),
    ("end my plan at the end of the cycle", "cancel_subscription", "e3", "chat"),
    ("don't renew my subscription", "cancel_subscription", "e4", "chat"),
    ("reset link does nothing", "login_problem", "e5", "chat"),
    ("locked out of my account", "login_problem", "e6", "email"),
]
PRODUCTION = [("where is my refund", "chat"), ("cancel please", "email"), ("cannot log in", "chat"), ("hello?", "chat")]


def csv_bytes(rows, header=HEADER, encoding="utf-8", newline="\n") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def jsonl_bytes(rows, header=HEADER) -> bytes:
    return "".join(json.dumps(dict(zip(header, r)), ensure_ascii=False) + "\n" for r in rows).encode()


def replace(rows, index: int, **values) -> list[tuple]:
    """rows with row `index` changed (text=..., label=...)."""
    out = [list(r) for r in rows]
    for key, value in values.items():
        out[index][HEADER.index(key)] = value
    return [tuple(r) for r in out]


PREPARE_ARGS = {
    "params": "params.yaml", "spec": "spec/spec.yaml", "seeds": "data/raw/seeds.csv", "eval": "data/raw/eval.csv",
    "production": "data/raw/production.csv", "unlabeled": "data/raw/production.csv", "out-dir": "data/prepared",
    "counts": "reports/counts/prepare.json",
}


def prepare_argv(**over: str) -> list[str]:
    """The prepare stage command as dvc.yaml runs it, with some paths replaced (python names: out_dir -> --out-dir)."""
    args = {**PREPARE_ARGS, **{k.replace("_", "-"): v for k, v in over.items()}}
    return [PY, str(REPO / "stages/prepare.py"), *(x for k, v in args.items() for x in (f"--{k}", v))]


# ---------------------------------------------------------------------------------------------------- cases


@dataclass
class Run:
    """What a case runs and what it must give."""

    argv: list[str]
    code: int
    expect: tuple[str, ...] = ()  # substrings of the one stderr line: the file, "row N", "field 'x'", the cause
    changes: bool = False  # an accepted input whose outputs differ from the template's
    after: Callable[[Path], None] | None = None  # a further check of the project afterwards
    send: int | None = None  # a signal to send once the process is ready
    fifo: str | None = None  # ready when the process opens this FIFO (relative to the project) for reading
    permissions: bool = False  # the case needs file permissions to hold (run without root's override)


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    build: Callable[[Path], Run]

    def __str__(self) -> str:
        return self.name


CASES: list[Case] = []


def case(kind: str, name: str, build: Callable[[Path], Run]) -> None:
    assert name not in {c.name for c in CASES}, name
    CASES.append(Case(kind, name, build))


def write(d: Path, rel: str, data: bytes | str) -> str:
    path = d / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return rel


def params_file(d: Path, mutate: Callable[[dict], None], rel: str = "bad_params.yaml") -> str:
    params = yaml.safe_load((d / "params.yaml").read_text())
    mutate(params)
    return write(d, rel, yaml.safe_dump(params, allow_unicode=True))


def spec_file(d: Path, mutate: Callable[[dict], None]) -> str:
    spec = copy.deepcopy(TINY_SPEC)
    mutate(spec)
    return write(d, "spec/bad.yaml", yaml.safe_dump(spec, allow_unicode=True))


# --- input files: the prepare stage reading a bad seeds / eval / production file -----------------------------------


def bad_input(name: str, data: bytes | Callable[[], bytes], expect: tuple[str, ...], suffix: str = ".csv", role: str = "seeds",
              code: int = 2, **run) -> None:
    def build(d: Path) -> Run:
        rel = write(d, f"data/raw/bad{suffix}", data() if callable(data) else data)
        return Run(prepare_argv(**{role: rel}), code, (rel, *expect), **run)

    case("input", name, build)


E_ACUTE = "é".encode("latin-1")
LATIN1_ROW = csv_bytes(SEEDS).replace("café".encode(), b"caf" + E_ACUTE)
bad_input("latin1_byte_in_utf8_file", LATIN1_ROW, ("row 4", f"byte offset {LATIN1_ROW.index(E_ACUTE)}", "prepare.encoding"))
CP1252 = csv_bytes(SEEDS, encoding="cp1252")
bad_input("cp1252_file_without_encoding", CP1252, ("row 4", f"byte offset {CP1252.index(E_ACUTE)}"))
bad_input("utf16_file_without_encoding", csv_bytes(SEEDS, encoding="utf-16"), ("row 1", "byte offset 0"))
JSONL_LATIN1 = jsonl_bytes(SEEDS).replace("über".encode(), b"\xfcber")
bad_input("latin1_byte_in_jsonl", JSONL_LATIN1, ("row 6", "byte offset"), suffix=".jsonl")
bad_input("duplicate_label_column", csv_bytes([(*r, r[1]) for r in SEEDS], header=(*HEADER, "label")), ("row 1", "field 'label'", "duplicate column"))
bad_input("duplicate_text_column_in_eval", csv_bytes([(r[0], *r) for r in EVAL], header=("text", *HEADER)), ("row 1", "field 'text'", "duplicate column"), role="eval")
bad_input("nul_byte_in_text", csv_bytes(replace(SEEDS, 1, text="double\x00 charge")), ("row 3", "field 'text'", "NUL"))
bad_input("escape_char_in_text", csv_bytes(replace(SEEDS, 4, text="stop \x1b[31mmy plan")), ("row 6", "field 'text'", "U+001B"))
bad_input("bell_char_in_label", csv_bytes(replace(SEEDS, 0, label="refund_request\x07")), ("row 2", "field 'label'", "U+0007"))
bad_input("c1_control_in_text", csv_bytes(replace(SEEDS, 2, text="refund\x85 the order")), ("row 4", "field 'text'", "U+0085"))
bad_input("zero_width_spaces_only_text", csv_bytes(replace(SEEDS, 3, text="\u200b\u200b\u200b")), ("row 5", "field 'text'", "no visible character"))
bad_input("joiners_and_bom_only_text", csv_bytes(replace(SEEDS, 5, text="\u200d\u200c\u2060\ufeff")), ("row 7", "field 'text'", "no visible character"))
bad_input("hangul_filler_only_text", csv_bytes(replace(SEEDS, 6, text="\u3164 \u3164")), ("row 8", "field 'text'", "no visible character"))
bad_input("zero_width_space_label", csv_bytes(replace(SEEDS, 7, label="\u200b")), ("row 9", "field 'label'", "no visible character"))
bad_input("nul_in_production_text", csv_bytes([("ok text", "chat"), ("bad\x00text", "chat")], header=("text", "channel")), ("row 3", "field 'text'", "NUL"), role="production")
bad_input("same_text_two_labels", csv_bytes([*SEEDS, (SEEDS[0][0], "login_problem", "g9", "chat")]), ("row 11", "same text as row 2", "field 'label'", "prepare.conflicts"))
bad_input("same_normalised_text_two_labels", csv_bytes([*SEEDS, ("i was CHARGED twice for pro -- refund one please!!", "cancel_subscription", "g9", "chat")]), ("row 11", "same text as row 2", "field 'label'"))
bad_input("same_text_two_labels_in_eval", csv_bytes([*EVAL, (EVAL[2][0].upper(), "refund_request", "e9", "chat")]), ("row 8", "same text as row 4", "field 'label'"), role="eval")
bad_input("empty_file", b"", ("empty file",))
bad_input("header_only", csv_bytes([]), ("no rows",))
bad_input("missing_text_column", csv_bytes(SEEDS, header=("body", "label", "group", "channel")), ("row 2", "field 'text'", "missing column"))
bad_input("extra_field_in_row", csv_bytes(SEEDS) + b"one,two,three,four,five\n", ("row 11", "expected 4 fields"))
bad_input("unterminated_quote", csv_bytes(SEEDS) + b'"never closed,refund_request,g1,chat\n', ("malformed CSV",))
bad_input("label_not_in_spec", csv_bytes(replace(SEEDS, 8, label="refnud_request")), ("row 10", "field 'label'", "'refnud_request' is not in the spec"))
bad_input("label_of_100000_chars", csv_bytes(replace(SEEDS, 0, label="x" * 100_000)), ("row 2", "field 'label'", "100000 characters"))
bad_input("whitespace_only_text", csv_bytes(replace(SEEDS, 2, text="   ")), ("row 4", "field 'text'", "empty text"))
bad_input("excel_workbook_suffix", b"PK\x03\x04 not a csv", ("unsupported file type '.xlsx'",), suffix=".xlsx")
bad_input("malformed_jsonl_line", jsonl_bytes(SEEDS) + b'{"text": "oops"\n', ("row 10", "malformed JSON"), suffix=".jsonl")
bad_input("duplicate_key_in_jsonl", jsonl_bytes(SEEDS[:2]) + b'{"text": "hi", "label": "refund_request", "label": "login_problem"}\n', ("row 3", "field 'label'", "duplicate key"), suffix=".jsonl")
bad_input("jsonl_array_line", jsonl_bytes(SEEDS[:2]) + b'["hi", "refund_request"]\n', ("row 3", "expected a JSON object"), suffix=".jsonl")
bad_input("lone_surrogate_in_jsonl", jsonl_bytes(SEEDS[:2]) + b'{"text": "hi \\ud800 there", "label": "refund_request"}\n', ("row 3", "field 'text'", "lone surrogate"), suffix=".jsonl")
bad_input("csv_text_named_parquet", csv_bytes(SEEDS), ("cannot read Parquet",), suffix=".parquet")
bad_input("eval_label_not_in_spec", csv_bytes(replace(EVAL, 0, label="billing")), ("row 2", "field 'label'", "'billing' is not in the spec"), role="eval")
bad_input("group_shared_by_seeds_and_eval", csv_bytes(replace(EVAL, 0, group="g1")), ("field 'group'", "group 'g1' also appears in the seeds"), role="eval")


def _directory_input(d: Path) -> Run:
    (d / "data/raw/x.csv").mkdir()
    return Run(prepare_argv(seeds="data/raw/x.csv"), 2, ("data/raw/x.csv", "is a directory"))


def _unreadable_input(d: Path) -> Run:
    rel = write(d, "data/raw/locked.csv", csv_bytes(SEEDS))
    (d / rel).chmod(0o000)
    return Run(prepare_argv(seeds=rel), 2, (rel, "permission denied"), permissions=True)


case("input", "directory_named_x_csv", _directory_input)
case("input", "unreadable_file", _unreadable_input)
case("input", "missing_file", lambda d: Run(prepare_argv(seeds="data/raw/nope.csv"), 2, ("data/raw/nope.csv", "file not found")))
case("input", "production_is_a_directory", lambda d: (d / "data/raw/prod.csv").mkdir() or Run(prepare_argv(production="data/raw/prod.csv"), 2, ("data/raw/prod.csv", "is a directory")))


# accepted: the stage reads these and writes exactly what the clean inputs give (md5 of every output unchanged)
def accepted(name: str, data: bytes, suffix: str = ".csv", encoding: str | None = None) -> None:
    def build(d: Path) -> Run:
        rel = write(d, f"data/raw/seeds{suffix}", data)
        over = {"seeds": rel}
        if encoding:  # prepare.encoding applies to every input file
            over["params"] = params_file(d, lambda p: p["prepare"].update(encoding=encoding))
            over["eval"] = write(d, "data/raw/eval_enc.csv", csv_bytes(EVAL, encoding=encoding))
            over["production"] = over["unlabeled"] = write(d, "data/raw/prod_enc.csv", csv_bytes(PRODUCTION, header=("text", "channel"), encoding=encoding))
        return Run(prepare_argv(**over), 0)

    case("input", name, build)


accepted("utf8_bom_excel_csv", b"\xef\xbb\xbf" + csv_bytes(SEEDS))
accepted("utf8_bom_and_crlf", b"\xef\xbb\xbf" + csv_bytes(SEEDS, newline="\r\n"))
accepted("utf8_bom_jsonl", b"\xef\xbb\xbf" + jsonl_bytes(SEEDS), suffix=".jsonl")
accepted("cp1252_files_with_encoding", CP1252, encoding="cp1252")
accepted("utf16_files_with_encoding", csv_bytes(SEEDS, encoding="utf-16"), encoding="utf-16")


def conflict_policy(policy: str, removed: int, kept_labels: set[str]) -> Callable[[Path], Run]:
    def build(d: Path) -> Run:
        rel = write(d, "data/raw/seeds.csv", csv_bytes([*SEEDS, (SEEDS[0][0].upper() + "!", "login_problem", "g9", "chat")]))
        params = params_file(d, lambda p: p["prepare"].update(conflicts=policy))

        def after(project: Path) -> None:
            counts = json.loads((project / "reports/counts/prepare.json").read_text())
            assert counts["label_conflict_rows_removed"] == {"policy": policy, "seeds": removed, "eval": 0}
            seeds = pl.read_parquet(project / "data/prepared/seeds.parquet")
            texts = seeds.filter(pl.col("text").str.to_lowercase().str.starts_with("i was charged twice"))
            assert set(texts["label"]) == kept_labels

        return Run(prepare_argv(seeds=rel, params=params), 0, changes=True, after=after)

    return build


case("input", "conflicts_drop_counts_rows", conflict_policy("drop", 2, set()))
case("input", "conflicts_first_keeps_first_label", conflict_policy("first", 1, {"refund_request"}))


# --- params.yaml -----------------------------------------------------------------------------------------------------


def bad_params(name: str, make: Callable[[Path], str], expect: tuple[str, ...]) -> None:
    case("params", name, lambda d: Run(prepare_argv(params=(rel := make(d))), 2, (rel, *expect)))


bad_params("typo_in_key", lambda d: params_file(d, lambda p: p["prepare"].update(encodng="latin-1")), ("field 'prepare.encodng'", "unknown key"))
bad_params("unknown_encoding", lambda d: params_file(d, lambda p: p["prepare"].update(encoding="klingon-8")), ("field 'prepare.encoding'", "unknown encoding 'klingon-8'"))
bad_params("unknown_conflicts_policy", lambda d: params_file(d, lambda p: p["prepare"].update(conflicts="maybe")), ("field 'prepare.conflicts'", "'error', 'drop' or 'first'", "got 'maybe'"))
bad_params("value_of_100000_chars", lambda d: params_file(d, lambda p: p["generate"].update(backend="g" * 100_000)), ("field 'generate.backend'", "100000 characters"))
bad_params("key_of_100000_chars", lambda d: params_file(d, lambda p: p["mix"].update({"k" * 100_000: 1})), ("field 'mix.kkkk", "unknown key"))
bad_params("yaml_syntax_error", lambda d: write(d, "bad_params.yaml", "seed: 13\nmix: [\n"), ("row 3", "invalid YAML"))
bad_params("key_given_twice", lambda d: write(d, "bad_params.yaml", "seed: 13\nprepare:\n  conflicts: drop\n  conflicts: error\n"), ("row 4", "key 'conflicts' given twice (lines 3 and 4)"))
bad_params("params_is_a_directory", lambda d: (d / "pdir").mkdir() or "pdir", ("is a directory",))
bad_params("params_missing", lambda d: "nope.yaml", ("file not found",))
bad_params("top_level_list", lambda d: write(d, "bad_params.yaml", "- seed\n- 13\n"), ("expected a mapping",))
bad_params("seed_not_a_number", lambda d: params_file(d, lambda p: p.update(seed="abc")), ("field 'seed'", "got 'abc'"))
bad_params("ratio_out_of_range", lambda d: params_file(d, lambda p: p["mix"].update(synthetic_ratio=1.5)), ("field 'mix.synthetic_ratio'", "less than 1", "got 1.5"))
bad_params("latin1_byte_in_params", lambda d: write(d, "bad_params.yaml", b"seed: 13 # caf" + E_ACUTE + b"\n"), ("row 1", "byte offset 14"))
bad_params("negative_dev_fraction", lambda d: params_file(d, lambda p: p["prepare"].update(dev_fraction=-0.1)), ("field 'prepare.dev_fraction'", "got -0.1"))


# --- the task spec ---------------------------------------------------------------------------------------------------


def bad_spec(name: str, make: Callable[[Path], str], expect: tuple[str, ...]) -> None:
    case("spec", name, lambda d: Run(prepare_argv(spec=(rel := make(d))), 2, (rel, *expect)))


bad_spec("duplicate_label_name", lambda d: spec_file(d, lambda s: s["labels"].append(dict(s["labels"][2]))), ("label 'login_problem' is defined twice (labels.2 and labels.3)",))
bad_spec("label_name_of_100000_chars", lambda d: spec_file(d, lambda s: s["labels"][1].update(name="C" * 100_000)), ("field 'labels.1.name'", "100000 characters"))
bad_spec("scenario_label_not_in_labels", lambda d: spec_file(d, lambda s: s["scenarios"][0].update(label="nope")), ("scenario 'refund_double': label 'nope' is not in labels",))
bad_spec("near_miss_not_a_label", lambda d: spec_file(d, lambda s: s["labels"][0].update(near_miss=["ghost"])), ("near_miss 'ghost' is not a label",))
bad_spec("unknown_key_in_label", lambda d: spec_file(d, lambda s: s["labels"][1].update(colour="red")), ("field 'labels.1.colour'", "unknown key", "label 'cancel_subscription'"))
bad_spec("definition_too_short", lambda d: spec_file(d, lambda s: s["labels"][2].update(definition="short")), ("field 'labels.2.definition'", "in label 'login_problem'"))
bad_spec("spec_is_a_list", lambda d: write(d, "spec/bad.yaml", "- task\n- labels\n"), ("expected a mapping",))
bad_spec("spec_yaml_syntax_error", lambda d: write(d, "spec/bad.yaml", "task:\n  name: [tiny\n"), ("row", "invalid YAML"))
bad_spec("spec_key_given_twice", lambda d: write(d, "spec/bad.yaml", yaml.safe_dump(TINY_SPEC) + "labels: []\n"), ("key 'labels' given twice",))
bad_spec("spec_missing", lambda d: "spec/nope.yaml", ("file not found",))
bad_spec("only_one_label", lambda d: spec_file(d, lambda s: (s.update(labels=s["labels"][:1], scenarios=[]), s["labels"][0].update(near_miss=[]))), ("field 'labels'", "at least 2"))
bad_spec("slot_without_values", lambda d: spec_file(d, lambda s: s["scenarios"][2]["templates"]["typical"].append("locked since {weekday}")), ("slot {weekday} has no values",))
bad_spec("control_char_in_spec", lambda d: write(d, "spec/bad.yaml", "task:\n  name: ti\x07ny\n"), ("row 2", "invalid YAML"))


# --- synthkit query: read-only ------------------------------------------------------------------------------------------


def outside(d: Path) -> Path:
    """A folder next to the project (outside it), with one Parquet file in it."""
    out = d.parent / f"{d.name}_outside"
    out.mkdir(exist_ok=True)
    write_parquet(pl.DataFrame({"secret": [1]}), out / "other.parquet")
    return out


def nothing_written_outside(d: Path) -> None:
    assert sorted(p.name for p in outside(d).iterdir()) == ["other.parquet"]


def bad_query(name: str, sql: str | Callable[[Path], str], expect: tuple[str, ...], after=None) -> None:
    case("query", name, lambda d: Run([*CLI, "query", sql(d) if callable(sql) else sql], 2, expect, after=after))


bad_query("copy_to_train_artifact", "COPY (select 1 x) TO 'data/train.parquet' (FORMAT parquet)", ("read-only", "COPY"))
bad_query("copy_to_artifact_without_tmp_file", "COPY (select 1 x) TO 'data/train.parquet' (FORMAT parquet, USE_TMP_FILE false)", ("COPY",))
bad_query("copy_into_outside_folder", lambda d: f"COPY (select * from train) TO '{outside(d)}/out.parquet' (FORMAT parquet)", ("COPY",), after=nothing_written_outside)
bad_query("attach_and_create_table", lambda d: f"ATTACH '{outside(d)}/x.db' AS x; CREATE TABLE x.t AS SELECT 1", ("ATTACH",), after=nothing_written_outside)
bad_query("read_csv_auto_system_file", "select * from read_csv_auto('/etc/passwd')", ("file access is disabled",))
bad_query("read_parquet_outside_project", lambda d: f"select * from read_parquet('{outside(d)}/other.parquet')", ("file access is disabled",))
bad_query("read_text_system_file", "select * from read_text('/etc/hostname')", ("file access is disabled",))
bad_query("glob_system_folder", "select * from glob('/etc/*')", ("file access is disabled",))
bad_query("create_table", "CREATE TABLE t AS SELECT * FROM train", ("CREATE",))
bad_query("insert", "INSERT INTO train SELECT * FROM train", ("INSERT",))
bad_query("update", "UPDATE train SET label = 'x'", ("UPDATE",))
bad_query("delete", "DELETE FROM train", ("DELETE",))
bad_query("export_database", lambda d: f"EXPORT DATABASE '{outside(d)}/dump'", ("EXPORT",), after=nothing_written_outside)
bad_query("set_option", "SET enable_external_access = true", ("SET",))
bad_query("pragma", "PRAGMA enable_profiling", ("PRAGMA",))
bad_query("install_extension", "INSTALL httpfs", ("LOAD",))
bad_query("call_procedure", "CALL pragma_version()", ("CALL",))
bad_query("drop_view", "DROP VIEW train", ("DROP",))
bad_query("select_then_copy", "select 1; COPY train TO 'data/prepared/seeds.parquet' (FORMAT parquet)", ("COPY",))
bad_query("syntax_error", "selec label from train", ("cannot parse",))
bad_query("unknown_view", "select * from trian", ("CatalogException", "views: seeds"))
case("query", "unknown_output_format", lambda d: Run([*CLI, "query", "select 1", "--format", "xlsx"], 2, ("--format", "'xlsx'")))
case("query", "corrupt_artifact", lambda d: Run([*CLI, "query", "select 1"], 2, ("data/train.parquet", "cannot read the artifact"))
     if write(d, "data/train.parquet", b"not parquet") else None)


# --- synthkit export ---------------------------------------------------------------------------------------------------


def export_argv(out: str = "export", train: str = "data/train.parquet", fmt: str = "csv") -> list[str]:
    return [*CLI, "export", "--format", fmt, "--out", out, "--train", train]


def _export_into_non_empty(d: Path) -> Run:
    write(d, "export/train.csv", "text,label\nmy own file,keep\n")
    return Run(export_argv(), 2, ("export", "not empty", "--force"))


def _export_read_only(d: Path) -> Run:
    (d / "ro").mkdir()
    (d / "ro").chmod(0o555)
    return Run(export_argv(out="ro"), 2, ("ro", "cannot write the export (permission denied)"), permissions=True)


case("export", "non_empty_target_without_force", _export_into_non_empty)
case("export", "target_is_a_file", lambda d: Run(export_argv(out=write(d, "notes.txt", "mine")), 2, ("notes.txt", "is a file")))
case("export", "target_inside_a_file", lambda d: Run(export_argv(out=write(d, "notes.txt", "mine") + "/sub"), 2, ("notes.txt/sub", "cannot write the export")))
case("export", "read_only_target", _export_read_only)
case("export", "rejects_file_as_train", lambda d: Run(export_argv(train="data/rejects/mix.parquet"), 2, ("data/rejects/mix.parquet", "not a training set", "field 'gate'")))
case("export", "candidates_as_train", lambda d: Run(export_argv(train="data/candidates.parquet"), 2, ("data/candidates.parquet", "row 1", "field 'split'", "'candidate'")))
case("export", "eval_set_as_train", lambda d: Run(export_argv(train="data/prepared/eval.parquet"), 2, ("data/prepared/eval.parquet", "field 'split'", "'eval'")))
case("export", "seeds_as_train", lambda d: Run(export_argv(train="data/prepared/seeds.parquet"), 2, ("data/prepared/seeds.parquet", "field 'split'", "'seed'")))
case("export", "train_missing", lambda d: Run(export_argv(train="data/nope.parquet"), 2, ("data/nope.parquet", "cannot read")))
case("export", "train_is_a_directory", lambda d: Run(export_argv(train="data/prepared"), 2, ("data/prepared", "is a directory")))
case("export", "train_is_a_csv", lambda d: Run(export_argv(train="data/raw/seeds.csv"), 2, ("data/raw/seeds.csv", "cannot read Parquet")))
case("export", "unknown_format", lambda d: Run(export_argv(fmt="xlsx"), 2, ("--format", "unknown format 'xlsx'")))


# --- synthkit diff -----------------------------------------------------------------------------------------------------

DIFF = [*CLI, "diff"]
case("diff", "unknown_revision", lambda d: Run([*DIFF, "v9"], 2, ("revision 'v9' not found",)))
case("diff", "unknown_artifact", lambda d: Run([*DIFF, "HEAD", "-a", "trian"], 2, ("unknown artifact 'trian'",)))
case("diff", "not_a_git_repository", lambda d: Run([*DIFF, "HEAD", "--root", str(outside(d))], 2, ("_outside", "not a git repository")))
case("diff", "missing_project_folder", lambda d: Run([*DIFF, "HEAD", "--root", "nowhere"], 2, ("nowhere", "no such project folder")))
case("diff", "artifact_absent_from_workspace", lambda d: Run([*DIFF, "workspace", "-a", "deduped"], 2, ("data/deduped.parquet", "absent from the workspace")))
case("diff", "artifact_absent_at_revision", lambda d: Run([*DIFF, "HEAD", "-a", "deduped"], 2, ("data/deduped.parquet",)))
case("diff", "corrupt_workspace_artifact", lambda d: write(d, "data/train.parquet", b"PAR1 broken") and Run([*DIFF, "workspace"], 2, ("data/train.parquet", "cannot read")))
case("diff", "broken_params_in_workspace", lambda d: write(d, "params.yaml", "seed: [\n") and Run([*DIFF, "workspace"], 2, ("params.yaml", "row 2", "invalid YAML")))


# --- interrupts: Ctrl-C and SIGTERM ----------------------------------------------------------------------------------


def fifo_input(d: Path, rel: str) -> str:
    (d / rel).unlink(missing_ok=True)
    os.mkfifo(d / rel)
    return rel


NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
    tag = NAMES[sig].lower().replace("-", "")
    case("interrupt", f"prepare_stage_{tag}_while_reading",
         lambda d, sig=sig, code=code: Run(prepare_argv(seeds=fifo_input(d, "data/raw/seeds.csv")), code, ("stage prepare interrupted", NAMES[sig]),
                                           send=sig, fifo="data/raw/seeds.csv"))
    case("interrupt", f"prepare_stage_{tag}_from_start",
         lambda d, sig=sig, code=code: Run(prepare_argv(), code, ("stage prepare interrupted", NAMES[sig]), send=sig))
    case("interrupt", f"cli_init_{tag}_while_reading",
         lambda d, sig=sig, code=code: Run([*CLI, "init", fifo_input(d, "data/raw/mine.csv"), "--spec", "spec/mine.yaml", "--params", "mine.yaml"],
                                           code, ("synthkit init interrupted", NAMES[sig]), send=sig, fifo="data/raw/mine.csv"))
    case("interrupt", f"cli_query_{tag}_while_running",
         lambda d, sig=sig, code=code: Run([*CLI, "query", "select count(*) from range(1000000000000) t(x) where x % 7 = 3"],
                                           code, ("synthkit query interrupted", NAMES[sig]), send=sig))


PERMISSION_CASES = {"unreadable_file", "read_only_target"}
# run as their own process, as a user would, beside every interrupt and permission case; the rest run in this process
SUBPROCESS_CASES = {
    "latin1_byte_in_utf8_file", "directory_named_x_csv", "value_of_100000_chars", "duplicate_label_name",
    "copy_to_train_artifact", "read_csv_auto_system_file", "non_empty_target_without_force", "unknown_revision",
}

# ---------------------------------------------------------------------------------------------------- running


@dataclass
class Result:
    run: Run
    code: int
    stderr: str
    before: dict[str, str]
    after: dict[str, str]
    project: Path


def snapshot(d: Path) -> dict[str, str]:
    """md5 of every regular file under d (git's own bookkeeping aside)."""
    out = {}
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d).as_posix()
        if p.is_file() and not rel.startswith(".git/"):
            out[rel] = hashlib.md5(p.read_bytes()).hexdigest()
    return out


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has its own SIGTERM handler (Python installs none: synthkit's interrupt handling is on)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            caught = next(int(line.split()[1], 16) for line in fh if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def _interrupt(proc: subprocess.Popen, project: Path, run: Run) -> None:
    """Send run.send once the process is ready: it opened run.fifo, or it handles SIGTERM."""
    deadline = time.monotonic() + 60
    if run.fifo:
        fd = None
        while fd is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                fd = os.open(project / run.fifo, os.O_WRONLY | os.O_NONBLOCK)  # succeeds once the reader has it open
            except OSError:
                time.sleep(0.02)
        if fd is None:
            return
        proc.send_signal(run.send)
        time.sleep(0.2)
        os.close(fd)  # end of file: the read returns and the pending signal is handled
        return
    while not _catches_sigterm(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(run.send)


def case_env() -> dict[str, str]:
    """The stage environment; bytecode is cached (under .cache/) even where the machine turns caching off, since the
    suite starts a hundred interpreters that import the same modules."""
    env = repo_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(REPO / ".cache" / "pycache")
    return env


def _as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job starts with Ctrl-C ignored; a terminal's does not


def in_subprocess(c: Case, run: Run) -> bool:
    """Interrupts and permission cases need their own process; so do the cases that prove the whole path once per kind."""
    return run.send is not None or run.permissions or c.name in SUBPROCESS_CASES


def _run_subprocess(run: Run, project: Path) -> tuple[int, str]:
    argv = [*WITHOUT_OVERRIDE, *run.argv] if run.permissions else run.argv
    proc = subprocess.Popen(argv, cwd=project, env=case_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_as_in_a_terminal)
    try:
        if run.send is not None:
            _interrupt(proc, project, run)
        _, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


def _run_in_process(run: Run, project: Path) -> tuple[int, str]:
    """The same command in this interpreter: the stage script through runpy or the CLI's app, with the project as the
    working directory; the exit code comes from SystemExit and anything else escaping counts as a traceback."""
    assert run.argv[0] == PY
    module = run.argv[2] if run.argv[1] == "-m" else None
    args = run.argv[3:] if module else run.argv[2:]
    err, out = io.StringIO(), io.StringIO()
    cwd, argv, path = os.getcwd(), sys.argv, list(sys.path)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        os.chdir(project)
        sys.argv = [module or run.argv[1], *args]
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                if module == "synthkit.cli":
                    from synthkit.cli import app

                    app()
                else:
                    sys.path.insert(0, str(Path(run.argv[1]).parent))  # as `python stages/x.py` puts stages/ first
                    runpy.run_path(run.argv[1], run_name="__main__")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:
        err.write(traceback.format_exc())
        code = 1
    finally:
        os.chdir(cwd)
        sys.argv = argv
        sys.path[:] = path
        for s, h in handlers.items():  # a stage's start-up handlers (stages/_env.py) must not outlive it in this process
            signal.signal(s, h)
    return code, err.getvalue()


def build_case(c: Case, template: Path, base: Path) -> tuple[Run, Path]:
    """A fresh copy of the template with the case's bad input in place, and what to run."""
    project = base / c.name
    shutil.copytree(template, project, symlinks=True)
    return c.build(project), project


def execute(c: Case, run: Run, project: Path) -> Result:
    before = snapshot(project)
    code, err = _run_subprocess(run, project) if in_subprocess(c, run) else _run_in_process(run, project)
    return Result(run, code, err, before, snapshot(project), project)


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """A tiny project: the bundled params, the tiny spec, real inputs prepared by the stage, a training set, candidates,
    two reject files, all committed to git."""
    d = tmp_path_factory.mktemp("bad_input_template")
    shutil.copy(REPO / "params.yaml", d / "params.yaml")
    write(d, "spec/spec.yaml", yaml.safe_dump(TINY_SPEC))
    write(d, "data/raw/seeds.csv", csv_bytes(SEEDS))
    write(d, "data/raw/eval.csv", csv_bytes(EVAL))
    write(d, "data/raw/production.csv", csv_bytes(PRODUCTION, header=("text", "channel")))
    res = subprocess.run(prepare_argv(), cwd=d, env=case_env(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    seeds = pl.read_parquet(d / "data/prepared/seeds.parquet")
    write_parquet(seeds.with_columns(split=pl.lit("train")), d / "data/train.parquet")
    write_parquet(seeds.with_columns(split=pl.lit("candidate"), source=pl.lit("synthetic")), d / "data/candidates.parquet")
    for gate, reason in (("mix", "mix_ratio"), ("filter", "pii_email_address")):
        rejects = seeds.with_columns(split=pl.lit("candidate"), gate=pl.lit(gate), reason=pl.lit(reason), detail=pl.lit(""))
        write_parquet(conform(rejects, Reject), d / f"data/rejects/{gate}.parquet")
    git = ["git", "-c", "user.email=test@synthkit.invalid", "-c", "user.name=synthkit test"]
    subprocess.run(["git", "init", "-q"], cwd=d, check=True)
    subprocess.run([*git, "add", "-A"], cwd=d, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tiny project"], cwd=d, check=True)
    return d


@pytest.fixture(scope="session")
def results(request, template, tmp_path_factory) -> dict[str, Result | BaseException]:
    """Every selected case, run once, WORKERS at a time."""
    wanted = {item.callspec.params["case"].name for item in request.session.items
              if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)}
    base = tmp_path_factory.mktemp("bad_input_cases")
    out: dict[str, Result | BaseException] = {}
    built: dict[str, tuple[Run, Path]] = {}
    for c in CASES:
        if c.name in wanted:
            try:
                built[c.name] = build_case(c, template, base)
            except BaseException as exc:  # reported by the case's own test
                out[c.name] = exc

    def safe(c: Case) -> Result | BaseException:
        try:
            return execute(c, *built[c.name])
        except BaseException as exc:
            return exc

    separate = [c for c in CASES if c.name in built and in_subprocess(c, built[c.name][0])]
    here = [c for c in CASES if c.name in built and c not in separate]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {c.name: pool.submit(safe, c) for c in separate}
        out.update({c.name: safe(c) for c in here})  # in this process, one at a time, while the subprocesses run
        out.update({name: f.result() for name, f in futures.items()})
    return out


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, results) -> None:
    res = results[case.name]
    if case.name in PERMISSION_CASES and AS_ROOT and not SETPRIV:
        pytest.skip("running as root without setpriv: permission bits do not stop root")
    if isinstance(res, BaseException):
        raise res
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert res.code == res.run.code, f"exit {res.code}, expected {res.run.code}; stderr: {res.stderr[-2000:]}"
    if res.run.code != 0:
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr[-2000:]
        assert len(lines[0]) < 600, f"{len(lines[0])} characters"
        for part in res.run.expect:
            assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    if not res.run.changes:
        assert res.after == res.before, {k: (res.before.get(k), res.after.get(k)) for k in set(res.before) | set(res.after) if res.before.get(k) != res.after.get(k)}
    if res.run.after is not None:
        res.run.after(res.project)


def test_the_suite_covers_every_kind():
    kinds = Counter(c.kind for c in CASES)
    assert len(CASES) >= 60 and set(kinds) == {"input", "params", "spec", "query", "export", "diff", "interrupt"}, kinds


def test_interrupted_write_leaves_the_artifact_whole(tmp_path):
    """A Ctrl-C in the middle of writing an artifact leaves the previous file and no temporary file."""
    from synthkit.io import _atomic

    target = tmp_path / "train.parquet"
    write_parquet(pl.DataFrame({"a": [1, 2]}), target)
    before = target.read_bytes()

    def half_then_interrupt(tmp: str) -> None:
        Path(tmp).write_bytes(before[:10])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _atomic(target, half_then_interrupt)
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["train.parquet"]
