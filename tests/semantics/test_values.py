"""Values, axes and references: defaults, alignment, broadcasting, selection and reduction."""

from __future__ import annotations

from hypermetric.errors import AxisError, CycleError, ResolutionError
from semantics.helpers import error, failure, link, load, plan, targets, var

A3 = "a = {A: x y z}\n"


def test_default_key_is_the_first(tmp_path):
    graph = plan(tmp_path, A3 + "task t(a=$) -> o:\n  touch $o\n", "t")
    (job,) = targets(graph)
    assert job.id == "t" and job.relpath == "t/default" and var(job, "a") == "x"
    assert job.workdir == f"{tmp_path}/out/t/default"
    assert job.full_case == (("A", "x"),) and job.case == ()


def test_misaligned_axes_are_an_error(tmp_path):
    exc = failure(tmp_path, "p = {A: x y z}\nq = {A: y x z}\n")
    assert isinstance(exc, AxisError)
    line, col, message = error(tmp_path, "p = {A: x y z}\nq = {A: y x z}\n")
    assert (line, col) == (2, 6)
    assert message == "axis `A` is declared as { y x z } here but as { x y z } elsewhere"
    assert exc.diagnostic.labels[0].span.line == 1


def test_misaligned_axes_across_files_are_an_error(tmp_path):  # HyperMake intersects the keys silently, dropping cases
    exc = failure(tmp_path, 'import "other.hm"\np = {A: x y}\n', {"other.hm": "q = {A: x y z}\n"})
    assert isinstance(exc, AxisError)
    assert exc.diagnostic.span.file.path.endswith("main.hm")
    assert exc.diagnostic.labels[0].span.file.path.endswith("other.hm")


def test_same_axis_values_vary_jointly(tmp_path):
    src = "a = {D: m n}\nb = {D: m=1 n=2}\ntask t(a=$a, b=$b) -> o:\n  touch $o\n"
    jobs = targets(plan(tmp_path, src, "t[D: *]"))
    assert [(var(j, "a"), var(j, "b")) for j in jobs] == [("m", "1"), ("n", "2")]


def test_nested_dicts_broadcast(tmp_path):
    src = "v = {S: s={O: u=1 w=2} l=9}\ntask t(v=$) -> o:\n  touch $o\n"
    pipeline = load(tmp_path, src)
    assert pipeline.tasks["t"].axes == ("O", "S")
    graph = plan(tmp_path, src, "t[S: *, O: *]")
    values = {j.case: var(j, "v") for j in targets(graph)}
    assert values[(("O", "w"), ("S", "l"))] == "9"
    assert values[(("O", "w"),)] == "2"
    assert values[()] == "1"


def test_forward_references_resolve(tmp_path):
    job = targets(plan(tmp_path, "task t(y=$y) -> o:\n  touch $o\ny = 1\n", "t"))[0]
    assert var(job, "y") == "1"


def test_reference_cycle_names_every_member(tmp_path):
    exc = failure(tmp_path, "a = $b\nb = $c\nc = $a\n")
    assert isinstance(exc, CycleError)
    assert exc.diagnostic.message == "reference cycle: a -> b -> c -> a"
    assert (exc.diagnostic.span.line, exc.diagnostic.span.column) == (1, 5)
    assert [label.message for label in exc.diagnostic.labels] == [
        "`b` refers to `c` here", "`c` refers to `a` here"]


def test_task_cycle_is_an_error(tmp_path):
    src = "task a(x=$b.o) -> o:\n  touch $o\ntask b(x=$a.o) -> o:\n  touch $o\n"
    assert error(tmp_path, src) == (1, 10, "reference cycle: a -> b -> a")


def test_redefinition_points_at_both(tmp_path):
    exc = failure(tmp_path, "y = 1\ny = 2\n")
    assert isinstance(exc, ResolutionError)
    assert where_label(exc) == ((2, 1, "value `y` is defined more than once"), (1, "first defined here"))


def where_label(exc):
    from semantics.helpers import where

    return where(exc), (exc.diagnostic.labels[0].span.line, exc.diagnostic.labels[0].message)


def test_value_task_and_function_may_share_a_name(tmp_path):
    load(tmp_path, "t = 1\ndef t() -> o:\n  touch $o\ntask t(v=$t) -> o:\n  touch $o\n")


def test_shorthand_means_same_name(tmp_path):
    a = targets(plan(tmp_path, "n = 5\ntask t(n=$) -> o:\n  touch $o\n", "t"))[0]
    b = targets(plan(tmp_path, "n = 5\ntask t(n=$n) -> o:\n  touch $o\n", "t"))[0]
    assert a == b and var(a, "n") == "5"


def test_value_shadows_task_output(tmp_path):
    src = "t.out = shadow\ntask t -> out:\n  touch $out\ntask u(i=$t.out) -> o:\n  touch $o\n"
    job = targets(plan(tmp_path, src, "u"))[0]
    assert var(job, "i") == "shadow" and job.deps == ()


TASK_T = A3 + "task t(a=$) -> out:\n  touch $out\n"


def test_axes_propagate_through_outputs(tmp_path):
    src = TASK_T + "task u(i=$t.out) -> o:\n  touch $o\n"
    graph = plan(tmp_path, src, "u[A: *]")
    assert [j.id for j in targets(graph)] == ["u", "u?A=y", "u?A=z"]
    assert targets(graph)[1].deps == ("t?A=y",)
    assert load(tmp_path, src).tasks["u"].upstream == ("t",)


def test_selection_drops_the_axis(tmp_path):
    src = TASK_T + "task u(i=$t[A: y].out) -> o:\n  touch $o\n"
    pipeline = load(tmp_path, src)
    assert pipeline.tasks["u"].axes == ()
    (job,) = targets(plan(tmp_path, src, "u"))
    assert job.relpath == "u/default"
    assert var(job, "i") == f"{tmp_path}/out/t/A=y/out"
    assert link(job, "i").target == f"{tmp_path}/out/t/A=y/out" and not link(job, "i").is_reduction


def test_reduction_is_a_directory_of_entries(tmp_path):
    src = TASK_T + "task r(d=$t[A: *].out) -> o:\n  touch $o\n"
    (job,) = targets(plan(tmp_path, src, "r"))
    d = link(job, "d")
    assert d.is_reduction and var(job, "d") == f"{tmp_path}/out/r/default/d"
    assert [(e.name, e.target, e.case) for e in d.entries] == [
        ("default", f"{tmp_path}/out/t/default/out", (("A", "x"),)),
        ("A=y", f"{tmp_path}/out/t/A=y/out", (("A", "y"),)),
        ("A=z", f"{tmp_path}/out/t/A=z/out", (("A", "z"),)),
    ]
    assert job.deps == ("t", "t?A=y", "t?A=z")


AB = A3 + "b = {B: 1 2}\ntask t(a=$, b=$) -> out:\n  touch $out\n"


def test_key_lists_reduce_exactly_those_keys(tmp_path):  # HyperMake reduces over every key of a mentioned axis
    (job,) = targets(plan(tmp_path, AB + "task r(d=$t[A: z y].out) -> o:\n  touch $o\n", "r"))
    assert [e.name for e in link(job, "d").entries] == ["A=y", "A=z"]


def test_mixed_index_fixes_one_axis_and_reduces_another(tmp_path):
    src = AB + "task r(d=$t[A: z, B: *].out) -> o:\n  touch $o\n"
    assert load(tmp_path, src).tasks["r"].axes == ()
    (job,) = targets(plan(tmp_path, src, "r"))
    entries = link(job, "d").entries
    assert [(e.name, e.case) for e in entries] == [("default", (("B", "1"),)), ("B=2", (("B", "2"),))]
    assert entries[1].target == f"{tmp_path}/out/t/A=z&B=2/out"


def test_star_on_a_one_key_axis_still_reduces(tmp_path):  # so a consumer's script need not special-case one key
    src = "s = {S: only}\ntask t(s=$) -> out:\n  touch $out\ntask r(d=$t[S: *].out) -> o:\n  touch $o\n"
    (job,) = targets(plan(tmp_path, src, "r"))
    assert link(job, "d").is_reduction and [e.name for e in link(job, "d").entries] == ["default"]


def test_unknown_key_or_axis_in_an_index(tmp_path):  # HyperMake plans nothing for it, which hides typos
    assert error(tmp_path, TASK_T + "task r(d=$t[A: q].out) -> o:\n  touch $o\n") == (
        4, 13, "axis `A` has no key `q`")
    exc = failure(tmp_path, TASK_T + "task r(d=$t[Q: q].out) -> o:\n  touch $o\n")
    assert isinstance(exc, AxisError) and exc.diagnostic.message == "undefined axis `Q`"
    src = TASK_T + "b = {B: 1 2}\ntask r(d=$t[B: 1].out) -> o:\n  touch $o\n"
    assert error(tmp_path, src)[2] == "task `t` does not vary over axis `B`"


def test_reduction_ignores_the_consumers_own_key(tmp_path):  # HyperMake collapses the folder to one entry here
    src = TASK_T + "task r(d=$t[A: *].out, a=$) -> o:\n  touch $o\n"
    jobs = targets(plan(tmp_path, src, "r[A: *]"))
    assert len(jobs) == 3
    for job in jobs:
        assert [e.name for e in link(job, "d").entries] == ["default", "A=y", "A=z"]


def test_an_axis_only_in_an_output_name_does_not_make_the_task_vary(tmp_path):
    src = A3 + "task t -> (o={A: x=a.txt y=b.txt z=c.txt}):\n  touch $o\n"
    assert load(tmp_path, src).tasks["t"].axes == ()
    jobs = targets(plan(tmp_path, src, "t[A: *]"))
    assert [j.outputs for j in jobs] == [(("o", "a.txt"),)]
    assert var(jobs[0], "o") == f"{tmp_path}/out/t/default/a.txt"


def test_parameterized_output_names_follow_the_inputs_axes(tmp_path):
    src = A3 + "task t(a=$a) -> (o={A: x=a.txt y=b.txt z=c.txt}):\n  touch $o\n"
    jobs = targets(plan(tmp_path, src, "t[A: *]"))
    assert [j.outputs for j in jobs] == [(("o", "a.txt"),), (("o", "b.txt"),), (("o", "c.txt"),)]
    assert var(jobs[1], "o") == f"{tmp_path}/out/t/A=y/b.txt"


def test_dict_values_may_be_refs(tmp_path):
    src = TASK_T + 'x0 = plain\nsrc = {Src: a=$x0 b=$t.out}\ntask u(s=$src) -> o:\n  touch $o\n'
    pipeline = load(tmp_path, src)
    assert pipeline.tasks["u"].axes == ("A", "Src") and pipeline.tasks["u"].upstream == ("t",)
    jobs = {j.id: j for j in targets(plan(tmp_path, src, "u[Src: *]"))}
    assert var(jobs["u"], "s") == "plain" and jobs["u"].deps == ()
    assert var(jobs["u?Src=b"], "s") == f"{tmp_path}/out/t/default/out" and jobs["u?Src=b"].deps == ("t",)


def test_input_files_are_relative_to_the_output_root(tmp_path):
    src = 'task t(f="data/in.txt"@local, g="/abs/x"@local) -> o:\n  touch $o\n'
    (job,) = targets(plan(tmp_path, src, "t"))
    assert var(job, "f") == f"{tmp_path}/out/data/in.txt" and var(job, "g") == "/abs/x"
    assert link(job, "f").target == f"{tmp_path}/out/data/in.txt"


def test_undefined_name_suggests_a_close_one(tmp_path):
    exc = failure(tmp_path, "dataset = 1\ntask t(d=$datset) -> o:\n  touch $o\n")
    assert exc.diagnostic.message == "undefined name `datset`"
    assert exc.diagnostic.help == "did you mean `dataset`?"
    assert (exc.diagnostic.span.line, exc.diagnostic.span.column) == (2, 10)


def test_task_is_not_a_value(tmp_path):
    exc = failure(tmp_path, "task t -> out:\n  touch $out\ntask u(i=$t) -> o:\n  touch $o\n")
    assert exc.diagnostic.message == "`t` is a task, not a value"
    assert exc.diagnostic.help == "refer to one of its outputs: `$t.out`"


def test_missing_output_is_named(tmp_path):
    exc = failure(tmp_path, "task t -> out:\n  touch $out\ntask u(i=$t.outt) -> o:\n  touch $o\n")
    assert exc.diagnostic.message == "task `t` has no output `outt`"
    assert exc.diagnostic.help == "did you mean `out`?"
