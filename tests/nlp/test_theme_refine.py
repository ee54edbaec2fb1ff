"""Duplicate folding (canonical order) and the LDA outlier strategy."""

import numpy as np

from nlp.theme_refine import fold_duplicates, fold_key, refine_with_lda


def test_duplicates_fold_to_one_representative_in_canonical_order() -> None:
    texts = ["Seat was broken!", "food cold", "seat   was BROKEN", "Food cold."]
    unique, inverse = fold_duplicates(texts)
    assert fold_key(texts[0]) == fold_key(texts[2]) == "seat was broken"
    assert unique.tolist() == [1, 0]  # "food cold" < "seat was broken"
    assert inverse.tolist() == [1, 0, 1, 0]
    # Any order of the same texts gives the same representatives' texts in the same order.
    shuffled = [texts[i] for i in (3, 2, 1, 0)]
    u2, _ = fold_duplicates(shuffled)
    assert [fold_key(shuffled[i]) for i in u2] == [fold_key(texts[i]) for i in unique]


def _blobs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = np.eye(8, dtype=np.float32)[:3] * 3 + 1  # compressed cosines, like e5
    x = np.vstack([c + 0.3 * rng.normal(size=(40, 8)) for c in centres]).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.repeat([0, 1, 2], 40)


def test_lda_assigns_border_outliers_but_keeps_far_off_noise() -> None:
    rng = np.random.default_rng(0)
    emb, truth = _blobs(rng)
    clustered = truth.copy()
    clustered[::5] = -1  # HDBSCAN left every fifth document out
    noise = -np.ones((2, 8), dtype=np.float32) / np.sqrt(8)  # opposite of everything
    emb = np.vstack([emb, noise])
    clustered = np.concatenate([clustered, [-1, -1]])
    final, best = refine_with_lda(clustered, emb, noise_similarity=0.5)
    assert (final[:-2] == truth).mean() >= 0.95
    assert final[-2:].tolist() == [-1, -1]
    assert np.isnan(best[1]) and best[-1] < 0.5
