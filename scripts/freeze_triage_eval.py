"""Freeze the triage evaluation set (once) and assemble the written training set (docs/triage-data.md).

`eval`: reads the evaluation writers' files (data/triage/eval-raw/E*.jsonl), checks every row,
drops exact repeats, splits the rows once into dev (40 %) and test (60 %) stratified by label
and by urgent-or-not with a fixed seed, and writes data/triage/eval/{dev,test}.jsonl. The split
is made once: when MANIFEST.json already names them, it refuses (tests check the hashes), so
nobody re-splits until the test set looks good. The raw files can go afterwards: every row
keeps its writer in its id.

`train`: adds the training writers' new files (data/triage/train-raw/*.jsonl) to
data/triage/train/written.jsonl, dropping repeats and every row that repeats an evaluation row.
Run it whenever more training rows are written; the raw files can go afterwards.

Both record sizes, counts and SHA-256 in data/triage/MANIFEST.json.

Usage: python scripts/freeze_triage_eval.py eval|train
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from huiying.kit.text import normalise
from huiying.triage.evaluation import stratified_split_indices

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "triage"
SEED = 20261202
TEST_FRACTION = 0.6
FIELDS = ("id", "text", "lang", "app", "label", "priority", "sentiment")
PRIORITIES = {"urgent", "high", "medium", "low"}
SENTIMENTS = {"angry", "negative", "neutral", "positive"}


def labels() -> set[str]:
    from huiying.categories.defaults import DEFAULT_CATEGORIES

    out = {"other"}
    for parent, children in DEFAULT_CATEGORIES:
        out.update(f"{parent.slug}/{child.slug}" for child in children)
    return out


def key(text: str) -> str:
    """Repeats are compared in one normal form: NFKC, lower case, no white space."""
    return "".join(normalise(text).split())


def read(paths: list[Path], known: set[str]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            problems = [f for f in FIELDS if not isinstance(row.get(f), str) or not row[f].strip()]
            if row.get("label") not in known:
                problems.append("label")
            if row.get("priority") not in PRIORITIES or row.get("sentiment") not in SENTIMENTS:
                problems.append("priority/sentiment")
            if problems:
                raise SystemExit(f"{path}:{n}: bad {', '.join(problems)}")
            kept = {f: row[f] for f in FIELDS}
            if row.get("hard_negative"):
                kept["hard_negative"] = str(row["hard_negative"])
            rows.append(kept)
    return rows


def unique(rows: list[dict[str, str]], taken: set[str]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        k = key(row["text"])
        if k not in taken:
            taken.add(k)
            out.append(row)
    return out


def write(path: Path, rows: list[dict[str, str]]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(body, encoding="utf-8")
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def counts(rows: list[dict[str, str]]) -> dict[str, object]:
    return {
        "rows": len(rows),
        "lang": dict(Counter(r["lang"] for r in rows)),
        "priority": dict(Counter(r["priority"] for r in rows)),
        "hard_negatives": sum(1 for r in rows if "hard_negative" in r),
    }


def load_manifest() -> dict[str, Any]:
    path = DATA / "MANIFEST.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    return {"seed": SEED, "test_fraction": TEST_FRACTION, "files": {}}


def save_manifest(manifest: dict[str, Any], files: dict[str, list[dict[str, str]]]) -> None:
    for name, rows in files.items():
        manifest["files"][name] = {"sha256": write(DATA / name, rows), **counts(rows)}
        print(name, len(rows), manifest["files"][name]["priority"])
    manifest["files"] = dict(sorted(manifest["files"].items()))
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    (DATA / "MANIFEST.json").write_text(text, encoding="utf-8")


def freeze_eval(manifest: dict[str, Any]) -> int:
    if "eval/test.jsonl" in manifest["files"]:
        print("the evaluation split is frozen (MANIFEST.json names it): it is never made again", file=sys.stderr)
        return 2
    evaluation = unique(read(sorted((DATA / "eval-raw").glob("E*.jsonl")), labels()), set())
    strata = [f"{r['label']}|{r['priority'] == 'urgent'}" for r in evaluation]
    dev_idx, test_idx = stratified_split_indices(strata, test_fraction=TEST_FRACTION, seed=SEED)
    save_manifest(
        manifest,
        {"eval/dev.jsonl": [evaluation[i] for i in dev_idx], "eval/test.jsonl": [evaluation[i] for i in test_idx]},
    )
    return 0


def assemble_train(manifest: dict[str, Any]) -> int:
    taken = {key(r["text"]) for name in ("eval/dev.jsonl", "eval/test.jsonl") for r in rows_of(DATA / name)}
    existing = [DATA / "train" / "written.jsonl"] if (DATA / "train" / "written.jsonl").exists() else []
    training = unique(read([*existing, *sorted((DATA / "train-raw").glob("*.jsonl"))], labels()), taken)
    save_manifest(manifest, {"train/written.jsonl": training})
    return 0


def rows_of(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str]) -> int:
    if argv not in (["eval"], ["train"]):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    manifest = load_manifest()
    return freeze_eval(manifest) if argv == ["eval"] else assemble_train(manifest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
