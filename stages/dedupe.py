"""DVC stage dedupe: exact and near duplicates within the synthetic set, against the seeds and the protected eval set."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

from synthkit import stage
from synthkit.config import load_params
from synthkit.dedupe import dedupe, engine_keys, verbatim_overlap
from synthkit.embeddings import stage_embedder
from synthkit.engine import open_engine
from synthkit.io import read_parquet, write_json, write_parquet
from synthkit.pipeline import stage_counts


def main(args) -> None:
    params = load_params(args.params)
    filtered = read_parquet(args.filtered)
    seeds = read_parquet(args.seeds)
    eval_ = read_parquet(args.eval)
    with open_engine(params) as engine:
        kept, rejects, leakage = dedupe(filtered, seeds, eval_, params.dedupe, engine_keys(engine), stage_embedder(args.embeddings_cache, memory=False))
    write_parquet(kept.sort("id"), args.out)
    write_parquet(rejects.sort("gate", "id"), args.rejects)
    # eval texts that are also real training seeds, up to case and whitespace (reported; seeds are never dropped)
    leakage["verbatim_overlap"] = verbatim_overlap(eval_.select("id", "text", "label").to_dicts(), seeds.select("id", "text", "label").to_dicts())
    write_json(leakage, args.leakage)
    write_json(stage_counts("dedupe", filtered.height, kept, rejects, leaked_eval_items=leakage["n_leaked_eval_items"]), args.counts)


if __name__ == "__main__":
    p = stage.parser(__doc__, "filtered", "seeds", "eval", "out", "rejects", "leakage", "counts")
    p.add_argument("--embeddings-cache", default=None, help="sentence-embedding cache folder (a persisted DVC output; default: memory only)")
    stage.run(main, p)
