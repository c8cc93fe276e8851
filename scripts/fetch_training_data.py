"""Copy the public training data that is not in shared/data/ out of local git snapshots.

The starter models (scripts/train_starter_models.py) train on BANKING77 and the Chinese
online-shopping reviews, which live in ../shared/data/, and on three more public sets that do
not: GoEmotions (Ekman taxonomy), CLUEmotionAnalysis2020 and CrossWOZ. This script takes each
file from a git snapshot of its public repository at a pinned commit, checks its SHA-256 and
writes it under --dest (default var/training-data/, which git ignores). See docs/triage-data.md.

The product never needs any of this at run time: only the trained model files ship.

Usage:
    python scripts/fetch_training_data.py [--mirrors /work/.mirror] [--dest var/training-data]

A snapshot is looked for at MIRRORS/<owner>+<name>/repo (bare, or with a .git inside). Without
one, the script says which repository and commit to get and exits with status 2; copying the
listed files by hand into DEST/<source>/<path> works as well (the checksums are still checked).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Source:
    name: str
    repo: str
    commit: str
    files: tuple[tuple[str, str], ...]  # (path in the repository, SHA-256)


SOURCES = (
    Source(
        "goemotions",
        "monologg/GoEmotions-pytorch",
        "b75f9d3a8b76bc1060687925b04ca98a1b8ea66b",
        (
            (
                "data/ekman/train.tsv",
                "bb74d10aec0975674c665205741ba9fe644cd70f682214624997f3770fd9e53f",
            ),
            (
                "data/ekman/dev.tsv",
                "011e6579adc4d9bb2ffd908879b99e1594e7647b262cbb2e1c5c9c1c4d7d8bcc",
            ),
            (
                "data/ekman/test.tsv",
                "f9f9b91827fe134259469368b93abddc2a52e2e2a87beab661023b06cf490baa",
            ),
            (
                "data/ekman/labels.txt",
                "5ecd91c315ebf550ac798f06549e35a6ee1fb90866608fd640c24d520dc6aa0c",
            ),
            (
                "LICENSE",
                "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4",
            ),
        ),
    ),
    Source(
        "cluemotion",
        "CLUEbenchmark/CLUEmotionAnalysis2020",
        "ff1bc945fc3a5854e0013de5a2f222dd1da61516",
        (
            (
                "CLUEdataset/emotion/valid.txt",
                "a644591424f4c9798c9f61f3bfde18faa7da0f91ac02ce3f4406c9b6ecde85c2",
            ),
            (
                "CLUEdataset/emotion/test.txt",
                "651457927a6130006380d9596bae398f372b749b3820af017231b7ead0dd9324",
            ),
            (
                "README.md",
                "50da00119c00445606ab59cac84a324da35d4c613361f908c1cda1c68e886d38",
            ),
        ),
    ),
    Source(
        "crosswoz",
        "thu-coai/CrossWOZ",
        "df82c9fdff91b9b130f2d6b89110d3870ba6260e",
        (
            (
                "data/crosswoz/val.json.zip",
                "b2b717990f6f0a1c98daaf5dc465e61d42f7de69c0d31e88e674275b1f34c94c",
            ),
            (
                "data/crosswoz/test.json.zip",
                "e57703894995211bba8638f130dc7df81e8992b71f3c05c10022ad23d6ca5310",
            ),
            (
                "LICENSE",
                "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4",
            ),
        ),
    ),
)


class MissingData(Exception):
    """A source that is neither in --dest nor in a local snapshot."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_dir(mirrors: Path, repo: str) -> Path | None:
    base = mirrors / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def fetch_source(source: Source, mirrors: Path, dest: Path) -> list[str]:
    """Write every file of `source` under dest/<name>/, checked; return lines for the log."""
    log: list[str] = []
    target = dest / source.name
    pending = {
        path: digest
        for path, digest in source.files
        if not ((target / path).is_file() and sha256((target / path).read_bytes()) == digest)
    }
    if not pending:
        return [f"{source.name}: already present in {target}"]
    repository = git_dir(mirrors, source.repo)
    if repository is None:
        raise MissingData(
            f"{source.name}: no snapshot of github.com/{source.repo} under {mirrors}.\n"
            f"  Get that repository at commit {source.commit} (a session's fetch tool puts it in"
            f" {mirrors}/{source.repo.replace('/', '+')}/repo), or copy these files into"
            f" {target}/ by hand: {', '.join(sorted(pending))}"
        )
    for path, digest in sorted(pending.items()):
        try:
            # A fixed argument list (no shell); git from PATH is what the snapshots are read with.
            command = ["git", f"--git-dir={repository}", "show", f"{source.commit}:{path}"]
            data = subprocess.run(
                command,
                check=True,
                capture_output=True,
            ).stdout
        except subprocess.CalledProcessError as exc:
            raise MissingData(
                f"{source.name}: {path} at commit {source.commit} is not in {repository}:"
                f" {exc.stderr.decode(errors='replace').strip()}"
            ) from exc
        if sha256(data) != digest:
            raise MissingData(f"{source.name}: {path} has SHA-256 {sha256(data)}, expected {digest}")
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        log.append(f"{source.name}: {path} ({len(data):,} bytes)")
    return log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--dest", type=Path, default=ROOT / "var" / "training-data")
    args = parser.parse_args(argv)
    missing: list[str] = []
    for source in SOURCES:
        try:
            for line in fetch_source(source, args.mirrors, args.dest):
                print(line)
        except MissingData as exc:
            missing.append(str(exc))
    if missing:
        print("\n".join(["Missing training data:", *missing]), file=sys.stderr)
        return 2
    print(f"all training data in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
