"""The scales numbers are printed on, and the one place that converts between them.

A metric declares its scale once, in its registry entry (audiorepro.metrics); an expected table's
cell declares the scale the paper prints (expected/<table>.yaml). Compare converts the first into
the second, and the report and plots put proportions on one 0-100 axis, all through this module.
A metric's `unit` ("%WER", "CIDEr-D") is a display label only and is never parsed.
"""

from __future__ import annotations

from enum import StrEnum


class Scale(StrEnum):
    PERCENT = "percent"  # a proportion printed 0-100 (WER, accuracy in %)
    X100 = "x100"  # a 0-1 score printed times 100 (BLEU, METEOR, CIDEr-D, SPIDEr, ROUGE-L)
    FRACTION = "fraction"  # a proportion printed 0-1
    COUNT = "count"  # a count or mean count, printed as is (distinct words per answer)
    PLAIN = "plain"  # any other number printed as is (Table 4 perplexities)

    @property
    def is_proportion(self) -> bool:
        """A 0-1 quantity, possibly printed times 100: the scales convert into each other."""
        return self in (Scale.PERCENT, Scale.X100, Scale.FRACTION)

    @property
    def whole(self) -> float:
        """What 1.0 of a proportion is printed as on this scale (1 for the other scales)."""
        return 100.0 if self in (Scale.PERCENT, Scale.X100) else 1.0


def factor(source: Scale | str, target: Scale | str) -> float:
    """Multiplier from a value on `source` to the same quantity on `target`. Only proportions
    convert; a count or plain number is never rescaled (nor is anything into one)."""
    source, target = Scale(source), Scale(target)
    if not (source.is_proportion and target.is_proportion):
        return 1.0
    return target.whole / source.whole


def points(value: float, scale: Scale | str) -> float:
    """`value` on the 0-100 axis that agreement statistics and the scatter plot share, so a table
    mixing WER % and 0-1 accuracies is on one scale. Non-proportions are left as they are."""
    return value * factor(scale, Scale.PERCENT)
