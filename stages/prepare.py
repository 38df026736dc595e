"""DVC stage prepare: validate the real inputs and write them as Parquet with content-hash ids."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

from synthkit import stage
from synthkit.config import load_params
from synthkit.io import write_json, write_parquet
from synthkit.prepare import (
    check_disjoint_groups,
    load_labeled,
    load_unlabeled,
    split_by_group,
)
from synthkit.spec import load_spec
from synthkit.tasks.registry import load_step


def main(args) -> None:
    params = load_params(args.params)
    spec = load_spec(args.spec)
    target_check = load_step(spec, params, "prepare").target_check(spec)
    cols = params.prepare  # column mapping, encoding and conflicts policy of the input files
    seeds, seed_dups, seed_conflicts = load_labeled(args.seeds, "seed", cols, spec.label_names, target_check=target_check)
    eval_, eval_dups, eval_conflicts = load_labeled(args.eval, "eval", cols, spec.label_names, target_check=target_check)
    production = load_unlabeled(args.production, cols)
    unlabeled = load_unlabeled(args.unlabeled, cols, split="unlabeled")
    check_disjoint_groups(seeds, eval_, args.eval)
    seeds = split_by_group(seeds, params.prepare.dev_fraction, params.seed, "dev")
    write_parquet(seeds, f"{args.out_dir}/seeds.parquet")
    write_parquet(eval_, f"{args.out_dir}/eval.parquet")
    write_parquet(production, f"{args.out_dir}/production.parquet")
    write_parquet(unlabeled, f"{args.out_dir}/unlabeled.parquet")
    write_json(
        {
            "seeds": seeds.group_by("split").len().sort("split").to_dicts(),
            "seed_labels": seeds["label"].n_unique(),
            "eval": eval_.height,
            "production": production.height,
            "unlabeled": unlabeled.height,
            "duplicate_rows_collapsed": {"seeds": seed_dups, "eval": eval_dups},
            "label_conflict_rows_removed": {"policy": params.prepare.conflicts, "seeds": seed_conflicts, "eval": eval_conflicts},
        },
        args.counts,
    )


if __name__ == "__main__":
    stage.run(main, stage.parser(__doc__, "spec", "seeds", "eval", "production", "unlabeled", "out-dir", "counts"))
