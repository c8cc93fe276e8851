"""The status machine, pure: the table, and a property-based walk through it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from huiying.errors import IllegalTransition
from huiying.tickets import lifecycle
from huiying.tickets.enums import Status

N, OP, P, R, C, M = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING,
    Status.RESOLVED,
    Status.CLOSED,
    Status.MERGED,
)

# The contract written out by hand, independent of lifecycle.ALLOWED: (from, to, allowed).
EXPECTED = {
    (N, OP): True, (N, P): True, (N, R): True, (N, C): True,
    (OP, N): False, (OP, P): True, (OP, R): True, (OP, C): True,
    (P, N): False, (P, OP): True, (P, R): True, (P, C): True,
    (R, N): False, (R, OP): True, (R, P): False, (R, C): True,
    (C, N): False, (C, OP): True, (C, P): False, (C, R): False,
    (M, N): False, (M, OP): False, (M, P): False, (M, R): False, (M, C): False,
}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), list(EXPECTED))
def test_transition_table(current: Status, target: Status) -> None:
    assert lifecycle.can_transition(current, target) is EXPECTED[(current, target)]
    if EXPECTED[(current, target)]:
        lifecycle.check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as refused:
            lifecycle.check_transition(current, target)
        assert current.value in refused.value.message and target.value in refused.value.message


@pytest.mark.parametrize("current", list(Status))
def test_merged_is_never_a_plain_status_change(current: Status) -> None:
    with pytest.raises(IllegalTransition, match="merg"):
        lifecycle.check_transition(current, Status.MERGED)


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        (N, OP, True),
        (OP, N, True),
        (P, R, True),
        (R, OP, True),
        (C, OP, False),
        (M, OP, False),
        (OP, C, False),
        (OP, M, False),
    ],
)
def test_merge_rules(source: Status, target: Status, ok: bool) -> None:
    if ok:
        lifecycle.check_merge(source, target)
    else:
        with pytest.raises(IllegalTransition):
            lifecycle.check_merge(source, target)


@given(st.sampled_from(list(Status)), st.sampled_from(list(Status)))
def test_refusals_name_the_allowed_targets(current: Status, target: Status) -> None:
    try:
        lifecycle.check_transition(current, target)
    except IllegalTransition as refused:
        if target != Status.MERGED:
            allowed = set(refused.details["allowed"])
            assert allowed == {s.value for s in lifecycle.ALLOWED[current]}
            assert target.value not in allowed


class TicketWalk(RuleBasedStateMachine):
    """Random sequences of requested moves: the machine accepts exactly the table's moves,
    a refusal changes nothing, a closed ticket can always be reopened, merged is final."""

    def __init__(self) -> None:
        super().__init__()
        self.status = Status.NEW
        self.history = [Status.NEW]

    @rule(wanted=st.sampled_from([s for s in Status if s != Status.MERGED]))
    def request(self, wanted: Status) -> None:
        before = self.status
        if wanted == before:
            return  # the service treats this as a no-op before asking the machine
        try:
            lifecycle.check_transition(before, wanted)
        except IllegalTransition:
            assert not EXPECTED.get((before, wanted), False)
            assert self.status == before
            return
        assert EXPECTED[(before, wanted)]
        self.status = wanted
        self.history.append(wanted)

    @rule()
    def merge_away(self) -> None:
        try:
            lifecycle.check_merge(self.status, Status.OPEN)
        except IllegalTransition:
            assert self.status in (Status.CLOSED, Status.MERGED)
            return
        self.status = Status.MERGED
        self.history.append(Status.MERGED)

    @invariant()
    def merged_is_final(self) -> None:
        if Status.MERGED in self.history:
            assert self.history[-1] == Status.MERGED
            assert self.history.count(Status.MERGED) == 1

    @invariant()
    def never_back_to_new(self) -> None:
        assert Status.NEW not in self.history[1:]

    @invariant()
    def finished_tickets_can_be_reopened(self) -> None:
        if self.status in (Status.RESOLVED, Status.CLOSED):
            assert lifecycle.can_transition(self.status, Status.OPEN)
            assert lifecycle.is_reopen(self.status, Status.OPEN)


TicketWalk.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
test_ticket_walk = TicketWalk.TestCase
