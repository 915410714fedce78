"""The progress view's counts and latest lines, fed events in the orders threads can deliver them."""

from __future__ import annotations

from hypermetric.cli.progress_state import RunState


def test_a_line_that_arrives_before_its_job_started_shows_once_it_has():
    # The script's first `\r` line can reach the view from the output thread before the run loop's
    # "started" event: it must not be lost.
    state = RunState(total=1)
    state.queue("t")
    state.output("t", "step 1/2\r")
    assert "t" not in state.running
    state.start("t", "t[default]")
    assert state.running["t"].latest == "step 1/2"


def test_a_line_after_the_start_replaces_the_early_one_and_nothing_is_kept_once_done():
    state = RunState(total=1)
    state.queue("t")
    state.output("t", "step 1/2\r")
    state.start("t", "t[default]")
    state.output("t", "step 2/2\r")
    assert state.running["t"].latest == "step 2/2"
    state.queue("u")
    state.output("u", "early")
    state.finish("u", duration=0.1)
    assert state.early == {} and state.done == 1


def test_output_of_a_job_the_view_never_queued_is_ignored():
    state = RunState(total=1)
    state.output("x", "stray")
    assert state.early == {} and state.running == {}
