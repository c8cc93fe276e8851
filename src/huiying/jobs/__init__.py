"""Background jobs, at the bottom of the import graph: the job table, `enqueue`, the registry.

This package imports only `db`, `kit`, `config` and `errors`, never a domain package: domain
packages import it, register their job functions at wiring time (`wiring.install`) and enqueue
by name. `worker/` runs what is registered (embedded thread, Celery, the scheduler loop).

The contract of a job function: it takes the Database and a payload of ids (never objects),
opens its own transaction, reloads what it needs, re-checks state, and is safe to run twice —
a job may run again after a crash, a lost acknowledgement or an admin's retry.
"""

from huiying.jobs.outbox import enqueue
from huiying.jobs.registry import JobFunction, PeriodicFunction, register, register_periodic

__all__ = ["JobFunction", "PeriodicFunction", "enqueue", "register", "register_periodic"]
