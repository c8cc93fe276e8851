"""The whole triage decision measured on labelled feedback: what bench/triage.py reports and the
aims test checks. Pure: it takes the rows and a function that decides one text.

A row is our written-set format (docs/triage-data.md): text, label ("category/subcategory" or
"other"), priority, sentiment. Figures:

* category: the parent ("technical" of "technical/crash"), sub-category: the full label;
* needs_refinement: the share a person is asked to look at;
* urgent: recall of the truly urgent rows and the share of the others called urgent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from huiying.triage.engine import URGENT, Triage
from huiying.triage.evaluation import EvaluationReport, evaluate_predictions

Row = Mapping[str, str]


@dataclass(frozen=True)
class Scorecard:
    n: int
    category: EvaluationReport
    subcategory: EvaluationReport
    priority: EvaluationReport
    sentiment: EvaluationReport
    needs_refinement: float
    urgent_recall: float
    false_urgent: float
    urgent_n: int

    def summary(self) -> str:
        return (
            f"category={self.category.accuracy:.3f} subcategory={self.subcategory.accuracy:.3f} "
            f"priority={self.priority.accuracy:.3f} sentiment={self.sentiment.accuracy:.3f} "
            f"needs_refinement={self.needs_refinement:.3f} urgent_recall={self.urgent_recall:.3f} "
            f"false_urgent={self.false_urgent:.3f} (urgent n={self.urgent_n}, n={self.n})"
        )


def parent(label: str) -> str:
    return label.partition("/")[0]


def score(rows: Sequence[Row], decide: Callable[[str], Triage]) -> Scorecard:
    """Decide every row's text and compare with its labels."""
    if not rows:
        raise ValueError("nothing to score")
    results = [decide(row["text"]) for row in rows]
    labels = [row["label"] for row in rows]
    said = [r.category.value or "(none)" for r in results]
    priorities = [r.priority.value or "(none)" for r in results]
    truly_urgent = [row["priority"] == URGENT for row in rows]
    called_urgent = [p == URGENT for p in priorities]
    urgent_n = sum(truly_urgent)
    others = len(rows) - urgent_n
    return Scorecard(
        n=len(rows),
        category=evaluate_predictions([parent(x) for x in labels], [parent(x) for x in said]),
        subcategory=evaluate_predictions(labels, said),
        priority=evaluate_predictions([row["priority"] for row in rows], priorities),
        sentiment=evaluate_predictions([row["sentiment"] for row in rows], [r.sentiment.value or "" for r in results]),
        needs_refinement=sum(r.needs_refinement for r in results) / len(rows),
        urgent_recall=sum(t and c for t, c in zip(truly_urgent, called_urgent, strict=True)) / urgent_n
        if urgent_n
        else 0.0,
        false_urgent=sum(c and not t for t, c in zip(truly_urgent, called_urgent, strict=True)) / others
        if others
        else 0.0,
        urgent_n=urgent_n,
    )
