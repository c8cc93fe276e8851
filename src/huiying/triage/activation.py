"""Whether a newly trained triage model may replace the active one. Pure.

A probe once trained on 24 labels in 3 classes, held 6 back, and the result replaced the
starter for the whole taxonomy at confidence 1.00 — it only had to beat a starter that scored
0 on those three classes. So a candidate becomes active only when all of these hold:

* its held-out set has at least MIN_HELD_OUT rows (fewer measure nothing);
* every class it learned had at least MIN_PER_CLASS labels (rarer ones are left out of
  training and named);
* it answers every class the active model answers, unless the admin accepts the loss
  (`allow_fewer_classes`); the missing classes are named either way;
* it is not worse than the active model on the same held-out rows (accuracy and macro-F1
  within `tolerance`).

`force` activates anyway; the reasons it overrode are kept in the version's note.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from huiying.triage.evaluation import EvaluationReport, is_not_worse

MIN_PER_CLASS = 10
MIN_HELD_OUT = 60


@dataclass(frozen=True)
class Verdict:
    activate: bool
    blockers: tuple[str, ...]  # what kept it from activating (kept even when forced)
    remarks: tuple[str, ...] = ()  # worth knowing, not blocking

    def note(self) -> str:
        parts = list(self.remarks)
        if self.blockers:
            joined = "; ".join(self.blockers)
            parts.insert(0, f"activated by force despite: {joined}" if self.activate else f"not activated: {joined}")
        return "; ".join(parts)


def trainable(labels: Iterable[str]) -> tuple[set[str], dict[str, int]]:
    """The classes with enough labels to learn, and the ones left out with their counts."""
    counts = Counter(labels)
    keep = {label for label, n in counts.items() if n >= MIN_PER_CLASS}
    return keep, {label: n for label, n in sorted(counts.items()) if label not in keep}


def judge(
    *,
    new: EvaluationReport,
    current: EvaluationReport,
    new_classes: Collection[str],
    current_classes: Collection[str],
    left_out: dict[str, int],
    tolerance: float,
    force: bool = False,
    allow_fewer_classes: bool = False,
) -> Verdict:
    blockers: list[str] = []
    remarks: list[str] = []
    if new.n < MIN_HELD_OUT:
        blockers.append(f"held-out set of {new.n} rows (needs {MIN_HELD_OUT})")
    if left_out:
        listed = ", ".join(f"{label} ({n})" for label, n in left_out.items())
        remarks.append(f"classes with fewer than {MIN_PER_CLASS} labels left out: {listed}")
    missing = sorted(set(current_classes) - set(new_classes))
    if missing:
        what = f"answers {len(new_classes)} of the active model's {len(current_classes)} classes"
        what += f", missing {', '.join(missing)}"
        (remarks if allow_fewer_classes else blockers).append(what + (" (accepted)" if allow_fewer_classes else ""))
    if not is_not_worse(new, current, tolerance=tolerance):
        blockers.append(
            f"worse than the active model on the held-out rows (accuracy {new.accuracy:.3f} vs "
            f"{current.accuracy:.3f}, macro-F1 {new.macro_f1:.3f} vs {current.macro_f1:.3f})"
        )
    return Verdict(activate=force or not blockers, blockers=tuple(blockers), remarks=tuple(remarks))
