"""The suggestion pool (建议池): feedback classified as a suggestion is grouped with similar ones
(Chinese-aware, grouping.py), counted by distinct users and staff votes, and decided by product
staff (planned with a timeline, adopted, declined with a reason); every user of a group is told
the outcome through their own channel (SPEC.md §5)."""
