"""Choosing a phrasing: never the last one again, and no two forked workers in lockstep."""

from __future__ import annotations

import os
import random

from skill.speech.render import _rng, pick_variant


def test_the_last_phrasing_is_never_picked_again_when_there_is_another() -> None:
    rng = random.Random(7)
    for last in range(3):
        picks = {pick_variant(("a", "b", "c"), last, rng) for _ in range(50)}
        assert last not in picks and len(picks) == 2
    assert pick_variant(("only",), 0, rng) == 0


def test_forked_workers_do_not_choose_in_lockstep() -> None:
    """If gunicorn forks two workers, then each has its own random sequence (the generator is
    reseeded in the child), so the same request does not get the same phrasing everywhere."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next choices and leave at once
        os.write(write, repr([_rng.random() for _ in range(4)]).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 4096).decode()
    os.close(read)
    os.close(write)
    assert child != repr([_rng.random() for _ in range(4)])
