"""One "did you mean" for every unknown name the cockpit reports (config keys, provider types,
contexts, themes, binding ids, key names, ``:`` commands): the same closeness rule and the same
words everywhere."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "suggest"]


def _osa_distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit (typos like 'lgos')."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def suggest(word: str, candidates: list[str]) -> str | None:
    """The most likely intended candidate (for "did you mean"): fewest edits, a swap of
    neighbours counting as one, within a third of the length; else difflib's closest match;
    None when nothing is close."""
    if not candidates:
        return None
    lowered = word.lower()
    best = min(candidates, key=lambda c: (_osa_distance(lowered, c.lower()), c))
    if _osa_distance(lowered, best.lower()) <= max(1, len(word) // 3):
        return best
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    guess = suggest(word, list(candidates))
    return f" (did you mean {guess!r}?)" if guess else ""
