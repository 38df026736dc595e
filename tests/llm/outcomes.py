"""Where each generate request of the classification LLM backend ended: rows, the next request, or a reject."""

from __future__ import annotations

import polars as pl


def request_outcomes(calls: list, rows: pl.DataFrame, reject_details: list[str]) -> list[tuple[str, bool, bool, object]]:
    """(custom_id, made, rejected, result) for each (request, result) in calls: made when the request's answer became
    rows (utterances), label requests (scenarios, hard negatives) or utterance requests (labels); rejected when a
    reject's detail names it."""
    asked = {req.custom_id for req, _ in calls}
    out = []
    for req, res in calls:
        cid = req.custom_id
        rejected = any(d.startswith(cid + ":") for d in reject_details)
        if cid.startswith("r1:utterances:"):
            _, _, sid, family, channel = cid.split(":")
            made = rows.filter((pl.col("scenario_id") == sid) & (pl.col("family") == family) & (pl.col("channel") == channel)).height > 0
        elif cid.startswith("r1:label:"):
            made = any(c.startswith(f"r1:utterances:{cid.split(':')[2]}:") for c in asked)
        else:  # scenarios or hard negatives of one label: their label requests carry the tag s or hn
            tag = "s" if cid.split(":")[1] == "scenarios" else "hn"
            made = any(c.startswith(f"r1:label:llm1_{cid.split(':')[2]}_{tag}") for c in asked)
        out.append((cid, made, rejected, res))
    return out
