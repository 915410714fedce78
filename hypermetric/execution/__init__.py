"""Execution (L5): the job protocol, the scheduler, backends, events and the run report."""
