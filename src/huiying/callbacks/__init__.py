"""Phone calls and call-backs (回访): hotline calls logged against tickets, and every phone
ticket's call-back task, due within 48 hours of receipt (SPEC.md §5)."""
