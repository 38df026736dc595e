"""Whether the synthetic data hurt: the evaluate stage's verdict on its own metrics, shared by the stage (stderr,
evaluate.on_negative_uplift) and the run report (the page's opening line). No imports, so the report stage depends on
nothing else for it."""

from __future__ import annotations


def negative_uplift(metrics: dict) -> str | None:
    """One line naming each headline metric on which the mix scores below real-only on the protected eval set (the
    synthetic data hurt the student), or None when none does. `metrics` is the evaluate stage's metrics.json."""
    lowered = [(k, v) for k, v in (metrics.get("uplift") or {}).items() if isinstance(v, (int, float)) and v < 0]
    if not lowered:
        return None
    real, mix = metrics.get("real_only") or {}, metrics.get("mix") or {}
    figures = ", ".join(f"{k} {real.get(k, float('nan')):.4f} -> {mix.get(k, float('nan')):.4f} ({v:+.4f})" for k, v in lowered)
    student = f" of student {metrics['student']}" if metrics.get("student") else ""
    return (f"the synthetic data lowered the scores{student} on the {metrics.get('eval_rows', '?')} protected eval rows: "
            f"real-only -> mix {figures}")
