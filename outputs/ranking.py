"""Rank themes as pain points, with NPS impact, bootstrap intervals and quotes.

Pain-point rank (the rule the reports state):

1. Themes with at least ``min_scored`` NPS-scored items come first, ordered by
   ``impact_ci_high`` ascending: the upper bound of the 95 % bootstrap interval of the
   leave-one-out NPS impact, i.e. the least-bad plausible impact. A theme whose whole
   interval lies below 0 therefore outranks one whose point estimate is worse but whose
   interval straddles 0. Ties are broken by negative volume (volume x negative_share)
   descending, then by theme_id.
2. Themes with too few NPS scores follow, ordered by negative volume descending, then
   volume descending, then theme_id.
3. Outliers (theme_id -1) are never ranked; they still count in every total.

``pain_score`` = -impact_ci_high for themes ranked under rule 1 (higher = more certainly
harmful) and None for the others, which have no interval. Strengths are ranked themes whose
``impact_ci_low`` > 0 (the whole interval above 0), strongest lower bound first.

Input columns of ``items``: item_key, text, source, channel, language, created_at, url,
score (NaN = none), score_type ("nps"|"csat"|"ces"|"stars"|None), sentiment
("negative"|"neutral"|"positive") and theme_id (-1 = outlier).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from outputs import metrics
from outputs.report import (
    Quote,
    ThemeInfo,
    ThemeStats,
    fmt_impact,
    optional_float,
    sentiment_mix,
    value_counts,
)

RANKING_RULE = (
    "themes with enough NPS scores are ordered by the upper bound of the 95 % interval of "
    "their NPS impact, ascending (the least-bad plausible impact, so a theme whose whole "
    "interval is below 0 outranks a noisier one with a worse point estimate); ties go to "
    "the larger negative volume. Themes with too few scores follow, by negative volume."
)

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


def _rank_reason(stats: ThemeStats, min_scored: int) -> str:
    negative = f"{stats.negative_share:.0%} negative; {stats.volume} items"
    if stats.has_interval:
        return f"NPS impact {fmt_impact(stats)}; {negative}"
    if stats.n_scored == 0:
        return f"no NPS scores; ranked by negative volume: {negative}"
    return (
        f"too few NPS scores for an interval ({stats.n_scored} < {min_scored}); "
        f"ranked by negative volume: {negative}"
    )


def _quotes(
    theme_items: pd.DataFrame, by_key: pd.DataFrame, wanted: list[str], limit: int
) -> list[Quote]:
    # A pick that is outside the window or was reassigned to another theme would show
    # evidence for the wrong theme, so only the theme's own items qualify.
    own = set(theme_items["item_key"])
    keys = [k for k in dict.fromkeys(wanted) if k in own][:limit]
    if len(keys) < limit:
        # Fill with the theme's own items, negative first, so every card still shows
        # evidence. The order is deterministic.
        rest = theme_items[~theme_items["item_key"].isin(keys)]
        order = rest.assign(_neg=rest["sentiment"] != "negative").sort_values(["_neg", "item_key"])
        keys += order["item_key"].head(limit - len(keys)).tolist()
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


def rank_themes(
    items: pd.DataFrame,
    themes: list[ThemeInfo],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    min_scored: int = 10,
    quotes_per_theme: int = 3,
) -> list[ThemeStats]:
    """Compute per-theme statistics and rank themes as pain points (see module docstring).

    Themes listed in ``themes`` without items in the window are left out; items whose
    theme_id has no ``ThemeInfo`` are ranked under the label "Theme <id>".

    Args:
        items: One row per feedback item in the window (columns in the module docstring).
        themes: Labels, keywords and representative item keys per theme.
        n_boot: Bootstrap resamples per impact interval.
        seed: Bootstrap seed; the same seed gives the same intervals.
        min_scored: Minimum NPS-scored items for an interval and a rule-1 rank.
        quotes_per_theme: Quotes kept per theme.

    Returns:
        ThemeStats for every ranked theme, rank 1 first.
    """
    total = len(items)
    info = {t.theme_id: t for t in themes}
    theme_ids = sorted(int(t) for t in items["theme_id"].unique() if int(t) >= 0)
    scores = items["score"].to_numpy(dtype=np.float64)
    is_nps = (items["score_type"] == "nps").to_numpy() & np.isfinite(scores)
    tid = items["theme_id"].to_numpy(dtype=np.int64)
    dominant = _dominant_score_type(items)
    by_key = items.set_index("item_key", drop=False)

    # One set of resamples serves every theme: fast, and identical to calling
    # metrics.bootstrap_loo_impact per theme with the same seed on the NPS items.
    code_of = {t: i for i, t in enumerate(theme_ids)}
    codes = np.array([code_of.get(int(t), -1) for t in tid[is_nps]], dtype=np.int64)
    intervals = np.full((len(theme_ids), 2), np.nan)
    if codes.size and len(theme_ids):
        # Pad with one unscored item per code so every theme gets a row in the result.
        pad = np.arange(len(theme_ids))
        intervals = metrics.bootstrap_loo_impacts(
            np.concatenate([scores[is_nps], np.full(pad.size, np.nan)]),
            np.concatenate([codes, pad]),
            n_boot=n_boot,
            seed=seed,
        )

    stats: list[ThemeStats] = []
    for i, theme_id in enumerate(theme_ids):
        mask = tid == theme_id
        theme_items = items[mask]
        theme = info.get(theme_id, ThemeInfo(theme_id=theme_id, label=f"Theme {theme_id}"))
        n_scored = int((mask & is_nps).sum())
        mix = sentiment_mix(theme_items["sentiment"])
        impact = metrics.loo_impact(scores[is_nps], mask[is_nps]) if n_scored else math.nan
        enough = n_scored >= max(min_scored, 1)
        low, high = intervals[i] if enough else (math.nan, math.nan)
        if not (math.isfinite(low) and math.isfinite(high)):
            low = high = math.nan
        typed = theme_items["score_type"] == dominant
        quotes = _quotes(theme_items, by_key, theme.quote_item_keys, quotes_per_theme)
        stats.append(
            ThemeStats(
                rank=0,
                theme_id=theme_id,
                label=theme.label,
                keywords=list(theme.keywords),
                volume=len(theme_items),
                share=len(theme_items) / total,
                negative_share=mix["negative"],
                sentiment_mix=mix,
                n_scored=n_scored,
                mean_score=optional_float(metrics.mean_score(theme_items.loc[typed, "score"])),
                mean_score_type=dominant,
                theme_nps=optional_float(metrics.nps(scores[mask & is_nps])),
                nps_impact=optional_float(impact),
                impact_ci_low=optional_float(low),
                impact_ci_high=optional_float(high),
                pain_score=optional_float(-high),
                quotes=quotes,
                example_quote=quotes[0].text if quotes else "",
                languages=value_counts(theme_items["language"]),
            )
        )

    scored = sorted(
        (s for s in stats if s.has_interval),
        key=lambda s: (s.impact_ci_high, -s.negative_volume, s.theme_id),
    )
    unscored = sorted(
        (s for s in stats if not s.has_interval),
        key=lambda s: (-s.negative_volume, -s.volume, s.theme_id),
    )
    return [
        s.model_copy(update={"rank": rank, "rank_reason": _rank_reason(s, min_scored)})
        for rank, s in enumerate(scored + unscored, start=1)
    ]


def method_notes(min_scored: int, n_boot: int) -> list[str]:
    """The conventions every report states, so readers can check the numbers.

    The score note is not repeated here: renderers show ``Kpis.score_note`` themselves.

    Args:
        min_scored: Minimum NPS scores for a theme to get an impact interval.
        n_boot: Bootstrap resamples behind each interval.

    Returns:
        One sentence per convention.
    """
    notes = [
        "NPS: promoters 9-10, detractors 0-6 on the 0-10 scale; NPS = %promoters - "
        "%detractors (-100..100). Headline interval: NPS +/- 1.96 x SE, "
        "SE = 100 x sqrt((p + d - (p - d)^2) / n).",
        "NPS impact (leave-one-out, as Thematic and Kapiche): NPS(all) - NPS(all except the "
        "theme), in NPS points; equals theme share x (theme NPS - NPS without the theme).",
        f"Impact intervals: 95 % percentile bootstrap over items ({n_boot} resamples); "
        f"themes with fewer than {min_scored} NPS scores get no interval.",
        f"Ranking: {RANKING_RULE}",
        "CSAT is reported both as top-2-box (% of 4-5 on 1-5) and as the mean; "
        "CES 2.0 as the mean on its 1-7 agreement scale.",
        "Items outside every theme (outliers) count in the totals but are never ranked.",
    ]
    return notes


def strengths(stats: list[ThemeStats]) -> list[ThemeStats]:
    """Themes whose whole impact interval lies above 0, strongest lower bound first.

    Args:
        stats: Ranked themes from :func:`rank_themes`.

    Returns:
        The strengths (their ``rank`` is still the pain-point rank).
    """
    found = [s for s in stats if s.impact_ci_low is not None and s.impact_ci_low > 0]
    return sorted(found, key=lambda s: (-(s.impact_ci_low or 0.0), s.theme_id))


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
