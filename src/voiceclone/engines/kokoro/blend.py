"""Cloning v1: find the blend of stock voices whose embedding is closest to a reference.

Embeddings of blended styles are close to blends of embeddings, so the search runs in
embedding space (instant) and the engine applies the same weights to the style tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRADIENT_STEPS = 200
STEP_SIZE = 0.5


@dataclass(frozen=True)
class Blend:
    names: list[str]
    weights: np.ndarray
    predicted_similarity: float


def _unit(vector: np.ndarray) -> np.ndarray:
    result: np.ndarray = vector / (np.linalg.norm(vector) + 1e-12)
    return result


def project_to_simplex(vector: np.ndarray) -> np.ndarray:
    """Euclidean projection onto {w >= 0, sum(w) = 1} (Duchi et al., 2008)."""
    ordered = np.sort(vector)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    ranks = np.arange(1, len(vector) + 1)
    rho = np.nonzero(ordered - cumulative / ranks > 0)[0][-1]
    theta = cumulative[rho] / (rho + 1)
    result: np.ndarray = np.maximum(vector - theta, 0.0)
    return result


def _cosine_and_gradient(
    weights: np.ndarray, embeddings: np.ndarray, target: np.ndarray
) -> tuple[float, np.ndarray]:
    mixed = weights @ embeddings
    norm = np.linalg.norm(mixed) + 1e-12
    cosine = float(mixed @ target / norm)
    grad_mixed = target / norm - cosine * mixed / norm**2
    return cosine, embeddings @ grad_mixed


def best_blend(
    reference: np.ndarray, names: list[str], embeddings: np.ndarray, top_k: int
) -> Blend:
    """Weights over the ``top_k`` nearest voices maximising cosine(blend, reference).

    Deterministic: projected gradient ascent from the similarity-ranked start.
    """
    target = _unit(reference.astype(np.float64))
    unit_embeddings = embeddings.astype(np.float64)
    unit_embeddings /= np.linalg.norm(unit_embeddings, axis=1, keepdims=True) + 1e-12
    similarities = unit_embeddings @ target
    nearest = np.argsort(-similarities, kind="stable")[: max(1, top_k)]
    candidates = unit_embeddings[nearest]

    weights = np.zeros(len(nearest))
    weights[0] = 1.0
    best_weights, best_cosine = weights.copy(), float(similarities[nearest[0]])
    for _ in range(GRADIENT_STEPS):
        cosine, gradient = _cosine_and_gradient(weights, candidates, target)
        if cosine > best_cosine:
            best_weights, best_cosine = weights.copy(), cosine
        weights = project_to_simplex(weights + STEP_SIZE * gradient)

    keep = best_weights > 1e-3
    kept = best_weights[keep] / best_weights[keep].sum()
    return Blend(
        names=[names[i] for i in nearest[keep]],
        weights=kept.astype(np.float32),
        predicted_similarity=best_cosine,
    )
