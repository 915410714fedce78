"""The BEIR tutorial pipeline (seed 002): conda/trec_eval packages, decorators, reductions, a plan."""

from __future__ import annotations

import pytest
from semantics.helpers import load, var

from hypermetric import api

BEIR = """
import conda
import std

beir_dataset = {BeirDataset:
  msmarco scifact trec-covid webis-touche2020
  fiqa dbpedia-entity fever nfcorpus hotpotqa
  climate-fever scidocs nq quora arguana
}
test_partition = {BeirDataset:
  msmarco=dev scifact=test trec-covid=test webis-touche2020=test
  fiqa=test dbpedia-entity=test fever=test nfcorpus=test hotpotqa=test
  climate-fever=test scidocs=test nq=test quora=test arguana=test
}
beir_url_prefix = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets"

package pyserini = conda.create(
  packages="python=3.10 openjdk=21",
  extra_args="-c conda-forge",
  extra_pip_packages="torch faiss-cpu pyserini"
)

package trec_eval -> out:
  git clone https://github.com/usnistgov/trec_eval.git $out
  cd $out
  make

task raw_beir_data(beir_dataset=$, beir_url_prefix=$) -> out:
  wget -O dataset.zip $beir_url_prefix/$beir_dataset.zip
  unzip dataset.zip
  rm dataset.zip
  mv $beir_dataset out

@conda.activate(environment=$pyserini)
task beir_to_trec(data=$raw_beir_data.out) -> out:
  python beir_to_trec.py $data out

@conda.activate(environment=$pyserini)
task index(data=$beir_to_trec.out) -> out:
  python -m pyserini.index.lucene --input corpus --index $out

@conda.activate(environment=$pyserini)
task retrieve(
  data=$beir_to_trec.out,
  test_partition=$,
  index=$index.out
) -> (out="result.qres"):
  ln -s $data/$test_partition.queries test.tsv

task evaluate(
  data=$beir_to_trec.out,
  result=$retrieve.out,
  test_partition=$,
  trec_eval=$
) -> (out="eval.txt"):
  $trec_eval/trec_eval -m all_trec $data/$test_partition.qrels $result > $out

metric = {Metric: ndcg_cut_10 recall_100 map mrr}

task aggregate_metric(
  eval_results=$evaluate[BeirDataset: *].out,
  metric=$
) -> (out="aggregate.txt"):
  grep -E "^$metric " $eval_results/* > $out

plan RunBEIR = {
  aggregate_metric[Metric: *]
}
"""


@pytest.fixture
def beir(tmp_path):
    return load(tmp_path, BEIR)


def test_beir_loads(beir):
    assert [name for name, _ in beir.axes_in_order()] == ["BeirDataset", "Metric"]
    assert beir.tasks["pyserini"].is_package and beir.tasks["pyserini"].axes == ()
    assert beir.tasks["evaluate"].axes == ("BeirDataset",)
    assert beir.tasks["evaluate"].upstream == ("beir_to_trec", "retrieve", "trec_eval")
    assert beir.tasks["retrieve"].upstream == ("beir_to_trec", "index", "pyserini")
    assert beir.tasks["aggregate_metric"].axes == ("Metric",)
    assert list(beir.plans) == ["RunBEIR"]


def test_beir_plans(beir, tmp_path):
    graph = api.plan(beir, ["RunBEIR"])
    assert graph.targets == ["aggregate_metric", "aggregate_metric?Metric=recall_100",
                             "aggregate_metric?Metric=map", "aggregate_metric?Metric=mrr"]
    assert len(graph) == 2 + 14 * 5 + 4
    agg = graph.jobs["aggregate_metric?Metric=map"]
    entries = agg.inputs[0].entries
    assert [e.name for e in entries][:3] == ["default", "BeirDataset=scifact", "BeirDataset=trec-covid"]
    assert entries[1].target == f"{tmp_path}/out/evaluate/BeirDataset=scifact/eval.txt"
    retrieve = graph.jobs["retrieve?BeirDataset=nq"]
    assert var(retrieve, "test_partition") == "test"
    assert var(graph.jobs["retrieve"], "test_partition") == "dev"
    (layer,) = retrieve.decorators
    assert layer.name == "conda.activate"
    assert layer.variables == (("environment", f"{tmp_path}/out/pyserini/default/out"),)
    assert "pyserini" in retrieve.deps
    pyserini = graph.jobs["pyserini"]
    assert pyserini.is_package and var(pyserini, "extra_args") == "-c conda-forge"
    assert "conda" in pyserini.script
    assert graph.order()[0] == "pyserini"
