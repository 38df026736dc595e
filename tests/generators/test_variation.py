import polars as pl

from synthkit.config import GenerateParams
from synthkit.generators.variation import generate_variations
from tests.conftest import make_rows


def test_variations_link_to_their_seed(spec):
    seeds = make_rows([("i was charged twice, want a refund", "refund_request"), ("cant log in at all", "login_problem")], source="real", split="seed")
    seeds = pl.concat([seeds, make_rows([("dev row only", "login_problem")], source="real", split="dev")])
    out = generate_variations(seeds, spec, GenerateParams(variation_per_seed=3), seed=1)
    assert out.height > 0
    seed_ids = set(seeds.filter(pl.col("split") == "seed")["id"])
    parents = {p for ps in out["parent_ids"].to_list() for p in ps}
    assert parents <= seed_ids  # never from the dev split
    assert (out["generator"].struct.field("backend") == "variation").all()
    by_parent = dict(zip(seeds["id"], seeds["label"]))
    assert all(by_parent[ps[0]] == lab for ps, lab in out.select("parent_ids", "label").iter_rows())
    assert set(out["family"]) <= {"typical", "messy", "long"}
    assert generate_variations(seeds, spec, GenerateParams(variation_per_seed=3), seed=1).equals(out)


def test_zero_variations(spec):
    seeds = make_rows([("cant log in", "login_problem")], source="real", split="seed")
    assert generate_variations(seeds, spec, GenerateParams(variation_per_seed=0), seed=1).height == 0
