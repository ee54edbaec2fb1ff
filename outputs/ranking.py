"""Rank themes as pain points: impacts with bootstrap intervals, the pain score and quotes.

Pain-point rank (the rule the reports state): themes are ordered by ``pain_score`` descending
(``outputs.scoring``: the upper bound of the impact interval, the theme's negative volume,
its supported growth and churn lift), ties by negative volume, then theme id. Outliers
(theme_id -1) are never ranked; they still count in every total. Strengths are ranked themes
whose primary impact interval lies entirely above 0, strongest lower bound first.

Impacts: for every score type present (NPS, CSAT, CES, stars) each theme gets the
leave-one-out impact on that type's metric (CSAT/CES by the configured convention) with a
95 % percentile bootstrap interval, once it has ``min_scored`` items of that type. The NPS
fields (``nps_impact``, ``impact_ci_low``, ``impact_ci_high``) are kept for exports.

Input columns of ``items``: item_key, text, source, channel, language, created_at, url,
score (NaN = none), score_type ("nps"|"csat"|"ces"|"stars"|None), sentiment (a label;
"negative", "neutral", "positive", or any other such as "mixed") and theme_id (-1 = outlier);
optional: customer_key, product and ``segment.<key>`` columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nlp.theme_labels import has_redaction
from outputs import metrics
from outputs.churn import ChurnLift
from outputs.followup import is_detractor
from outputs.report import (
    ImpactEstimate,
    Quote,
    ThemeInfo,
    ThemeStats,
    optional_float,
    sentiment_mix,
    value_counts,
)
from outputs.scoring import PainWeights, pain_components, primary_impact, reason_line
from outputs.segments import SegmentLift
from outputs.trends import ThemeTrend
from outputs.uncertainty import (
    CesConvention,
    CsatConvention,
    display_name,
    metric_key,
    metric_name,
)

RANKING_RULE = (
    "pain score = (H + V) x (1 + T) x (1 + C), descending. H = minus the upper bound of the "
    "95 % impact interval (NPS points; CSAT/CES/stars when there is no NPS; mean impacts as % "
    "of the scale), so only harm the data support counts; V = % of all feedback that is "
    "negative about the theme; T = supported growth (lower 95 % bound of recent / expected "
    "volume - 1, capped at 2; a new theme gets 2); C = lower 95 % bound of the churn lift - 1 "
    "(capped at 2). T and C only amplify a positive H + V. Ties go to negative volume."
)
SCORE_TYPES: tuple[str, ...] = ("nps", "csat", "ces", "stars")


@dataclass(frozen=True)
class ThemeContext:
    """Per-theme inputs computed outside the ranking (all optional)."""

    trends: dict[int, ThemeTrend] = field(default_factory=dict)
    weekly: dict[int, list[int]] = field(default_factory=dict)
    churn: dict[int, ChurnLift] = field(default_factory=dict)
    segment_lifts: dict[int, SegmentLift] = field(default_factory=dict)
    recent_days: int = 7
    weights: PainWeights = PainWeights()
    csat: CsatConvention = "top2box"
    ces: CesConvention = "mean"


QUOTE_MAX_CHARS = 300


def truncate_quote(text: str, max_chars: int = QUOTE_MAX_CHARS) -> str:
    """Shorten text to about ``max_chars`` characters on a word boundary.

    Args:
        text: The quote.
        max_chars: Length above which the text is cut.

    Returns:
        The text unchanged when short enough, else cut at the last space before the limit
        (or at the limit when no space is near, e.g. long CJK runs) with "…" appended.
    """
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    # Cutting at a space far back would lose most of the quote; a hard cut reads better.
    if space >= max_chars * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _quotes(
    theme_items: pd.DataFrame, by_key: pd.DataFrame, wanted: list[str], limit: int
) -> list[Quote]:
    # A pick that is outside the window or was reassigned to another theme would show
    # evidence for the wrong theme, so only the theme's own items qualify.
    own = set(theme_items["item_key"])
    keys = [k for k in dict.fromkeys(wanted) if k in own][:limit]
    if len(keys) < limit:
        # Fill with the theme's own items, so every card still shows evidence: texts without
        # a PII placeholder first (the same rule as nlp.theme_labels.select_representatives),
        # then negative first. The order is deterministic.
        rest = theme_items[~theme_items["item_key"].isin(keys)]
        redacted = [has_redaction(str(by_key.loc[k, "text"])) for k in rest["item_key"]]
        order = rest.assign(_red=redacted, _neg=rest["sentiment"] != "negative").sort_values(
            ["_red", "_neg", "item_key"]
        )
        keys += order["item_key"].head(limit - len(keys)).tolist()
    # The first quote is the theme's example (the Markdown table, pain_points.csv): a clean
    # one leads whenever there is one; sorted() is stable, so the picks keep their order.
    keys = sorted(keys, key=lambda k: has_redaction(str(by_key.loc[k, "text"])))
    quotes = []
    for key in keys:
        row = by_key.loc[key]
        url = row["url"]
        quotes.append(
            Quote(
                text=truncate_quote(str(row["text"])),
                item_key=str(key),
                language=str(row["language"]),
                sentiment=str(row["sentiment"]),
                url=str(url) if isinstance(url, str) and url else None,
            )
        )
    return quotes


def _dominant_score_type(items: pd.DataFrame) -> str | None:
    scored = items.loc[np.isfinite(items["score"].to_numpy(dtype=np.float64)), "score_type"]
    counts = value_counts(scored.dropna())
    return next(iter(counts), None)


def _impacts(
    items: pd.DataFrame,
    theme_ids: list[int],
    context: ThemeContext,
    n_boot: int,
    seed: int,
    min_scored: int,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    # score type -> (points, intervals, n scored) per theme, one bootstrap pass per type.
    scores = items["score"].to_numpy(dtype=np.float64)
    tid = items["theme_id"].to_numpy(dtype=np.int64)
    code_of = {t: i for i, t in enumerate(theme_ids)}
    out = {}
    for score_type in SCORE_TYPES:
        typed = (items["score_type"] == score_type).to_numpy() & np.isfinite(scores)
        if not typed.any() or not theme_ids:
            continue
        name = metric_name(metric_key(score_type, context.csat, context.ces))
        codes = np.array([code_of.get(int(t), -1) for t in tid[typed]], dtype=np.int64)
        # Pad with one unscored item per code so every theme gets a row in the result: the
        # NPS intervals are then identical to metrics.bootstrap_loo_impact per theme.
        pad = np.arange(len(theme_ids))
        intervals = metrics.bootstrap_loo_impacts(
            np.concatenate([scores[typed], np.full(pad.size, np.nan)]),
            np.concatenate([codes, pad]),
            n_boot=n_boot,
            seed=seed,
            metric=name,
        )
        fn = metrics.METRIC_FUNCTIONS[name]
        n_scored = np.bincount(codes[codes >= 0], minlength=len(theme_ids))
        points = np.array(
            [
                metrics.loo_impact(scores[typed], tid[typed] == t, fn) if n_scored[i] else np.nan
                for i, t in enumerate(theme_ids)
            ]
        )
        intervals[n_scored < max(min_scored, 1)] = np.nan
        out[score_type] = (points, intervals, n_scored)
    return out


def _impact_list(
    impacts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], i: int, context: ThemeContext
) -> list[ImpactEstimate]:
    found = []
    for score_type, (points, intervals, n_scored) in impacts.items():
        key = metric_key(score_type, context.csat, context.ces)
        low, high = intervals[i]
        ok = bool(np.isfinite(low) and np.isfinite(high))
        found.append(
            ImpactEstimate(
                key=key,
                name=display_name(key),
                n=int(n_scored[i]),
                value=optional_float(float(points[i])),
                ci_low=float(low) if ok else None,
                ci_high=float(high) if ok else None,
            )
        )
    return found


def rank_themes(
    items: pd.DataFrame,
    themes: list[ThemeInfo],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    min_scored: int = 10,
    quotes_per_theme: int = 3,
    context: ThemeContext | None = None,
) -> list[ThemeStats]:
    """Compute per-theme statistics and rank themes as pain points (see module docstring).

    Themes listed in ``themes`` without items in the window are left out; items whose
    theme_id has no ``ThemeInfo`` are ranked under the label "Theme <id>".

    Args:
        items: One row per feedback item in the window (columns in the module docstring).
        themes: Labels, keywords and representative item keys per theme.
        n_boot: Bootstrap resamples per impact interval.
        seed: Bootstrap seed; the same seed gives the same intervals.
        min_scored: Minimum scored items of a type for that type's impact interval.
        quotes_per_theme: Quotes kept per theme.
        context: Trends, churn lifts, segment lifts, score weights and conventions.

    Returns:
        ThemeStats for every ranked theme, rank 1 first.
    """
    context = context or ThemeContext()
    total = len(items)
    info = {t.theme_id: t for t in themes}
    theme_ids = sorted(int(t) for t in items["theme_id"].unique() if int(t) >= 0)
    scores = items["score"].to_numpy(dtype=np.float64)
    is_nps = (items["score_type"] == "nps").to_numpy() & np.isfinite(scores)
    tid = items["theme_id"].to_numpy(dtype=np.int64)
    dominant = _dominant_score_type(items)
    by_key = items.set_index("item_key", drop=False)
    impacts = _impacts(items, theme_ids, context, n_boot, seed, min_scored)
    detractor = is_detractor(items)
    negative = (items["sentiment"] == "negative").to_numpy()
    n_detractors, n_negative = int(detractor.sum()), int(negative.sum())

    stats: list[ThemeStats] = []
    for i, theme_id in enumerate(theme_ids):
        mask = tid == theme_id
        theme_items = items[mask]
        theme = info.get(theme_id, ThemeInfo(theme_id=theme_id, label=f"Theme {theme_id}"))
        mix = sentiment_mix(theme_items["sentiment"])
        typed = theme_items["score_type"] == dominant
        quotes = _quotes(theme_items, by_key, theme.quote_item_keys, quotes_per_theme)
        if "nps" in impacts:
            nps_point, (low, high) = float(impacts["nps"][0][i]), impacts["nps"][1][i]
        else:
            nps_point, low, high = math.nan, math.nan, math.nan
        theme_stats = ThemeStats(
            rank=0,
            theme_id=theme_id,
            label=theme.label,
            keywords=list(theme.keywords),
            area=theme.area,
            lineage=theme.lineage,
            volume=len(theme_items),
            share=len(theme_items) / total,
            negative_share=mix["negative"],
            sentiment_mix=mix,
            n_scored=int((mask & is_nps).sum()),
            mean_score=optional_float(metrics.mean_score(theme_items.loc[typed, "score"])),
            mean_score_type=dominant,
            theme_nps=optional_float(metrics.nps(scores[mask & is_nps])),
            nps_impact=optional_float(nps_point),
            impact_ci_low=optional_float(float(low)),
            impact_ci_high=optional_float(float(high)),
            quotes=quotes,
            example_quote=quotes[0].text if quotes else "",
            languages=value_counts(theme_items["language"]),
            impacts=_impact_list(impacts, i, context),
            detractor_share=(
                float((detractor & mask).sum()) / n_detractors if n_detractors else None
            ),
            negative_mention_share=(
                float((negative & mask).sum()) / n_negative if n_negative else 0.0
            ),
            trend=context.trends.get(theme_id),
            weekly_volume=context.weekly.get(theme_id, []),
            churn=context.churn.get(theme_id),
            top_segment=context.segment_lifts.get(theme_id),
        )
        parts = pain_components(theme_stats, total, context.weights)
        stats.append(
            theme_stats.model_copy(update={"pain_score": parts["score"], "score_components": parts})
        )

    ordered = sorted(stats, key=lambda s: (-(s.pain_score or 0.0), -s.negative_volume, s.theme_id))
    return [
        s.model_copy(
            update={
                "rank": rank,
                "rank_reason": reason_line(
                    s, rank, recent_days=context.recent_days, min_scored=min_scored
                ),
            }
        )
        for rank, s in enumerate(ordered, start=1)
    ]


def method_notes(min_scored: int, n_boot: int) -> list[str]:
    """The conventions every report states, so readers can check the numbers.

    The score note is not repeated here: renderers show ``Kpis.score_note`` themselves.

    Args:
        min_scored: Minimum scored items for a theme to get an impact interval.
        n_boot: Bootstrap resamples behind each interval.

    Returns:
        One sentence per convention.
    """
    return [
        "NPS: promoters 9-10, detractors 0-6 on the 0-10 scale; NPS = %promoters - "
        "%detractors (-100..100). Headline interval: NPS +/- 1.96 x SE, "
        "SE = 100 x sqrt((p + d - (p - d)^2) / n).",
        "CSAT as top-2-box (% of 4-5 on 1-5) or mean, CES 2.0 as mean or % >= 5 on its 1-7 "
        "scale, stars as the mean: each headline figure names its convention. SE of a share "
        "= 100 x sqrt(p(1-p)/n), of a mean = s/sqrt(n); below the minimum sample a figure is "
        "shown as 'too few'.",
        "Impact (leave-one-out, as Thematic and Kapiche): metric(all) - metric(all except the "
        "theme), in the metric's units; equals theme share x (theme metric - metric without "
        "the theme). Computed for every score type present.",
        f"Impact intervals: 95 % percentile bootstrap over items ({n_boot} resamples); "
        f"themes with fewer than {min_scored} scores of a type get no interval for it.",
        f"Ranking: {RANKING_RULE}",
        "Detractor comments: NPS 0-6, CSAT 1-2, CES 1-3, stars 1-2, or negative sentiment "
        "when unscored. Sentiment labels are categories: 'negative share' counts only "
        "'negative'; other labels such as 'mixed' are shown separately.",
        "Items outside every theme (outliers) count in the totals but are never ranked.",
    ]


def strengths(stats: list[ThemeStats]) -> list[ThemeStats]:
    """Themes whose whole primary impact interval lies above 0, strongest lower bound first.

    Args:
        stats: Ranked themes from :func:`rank_themes`.

    Returns:
        The strengths (their ``rank`` is still the pain-point rank).
    """
    found = []
    for s in stats:
        primary = primary_impact(s)
        if primary is not None and primary.ci_low is not None and primary.ci_low > 0:
            found.append((primary.ci_low, s))
    return [s for _, s in sorted(found, key=lambda p: (-p[0], p[1].theme_id))]


def split_pain_points_and_strengths(
    stats: list[ThemeStats],
) -> tuple[list[ThemeStats], list[ThemeStats]]:
    """Separate ranked themes into pain points and strengths.

    Args:
        stats: Ranked themes from :func:`rank_themes`.

    Returns:
        (pain points in rank order without the strengths, strengths as in :func:`strengths`).
    """
    found = strengths(stats)
    ids = {s.theme_id for s in found}
    return [s for s in stats if s.theme_id not in ids], found
