"""Service-level targets: when the clock runs, which tickets are overdue or due soon.

Above tickets: this package reads ticket rows, tickets never import it (tests/test_layers.py).
Its list filter reaches `tickets.repository` by registration at wiring time (`install`)."""
