# hypermetric: `make demo` runs the main example end to end, `make test` runs the whole test suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

PEERS  ?= /tmp/benchpeers

.PHONY: install demo docs-check test test-fast lint bench bench-peers bench-quick bench-parse clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# Byte-compile the checkout once: an editable install is otherwise compiled on every start where
	# PYTHONDONTWRITEBYTECODE is set (about 0.1 s of each command).
	$(PY) -m compileall -q hypermetric > /dev/null
	touch $(STAMP)

install: $(STAMP)

HM := $(abspath $(VENV))/bin/hypermetric

# From the repository root, as the README's tutorial: the outputs land in out/beir (the file's local.root).
demo: $(STAMP)
	$(HM) run examples/beir/beir.hm RunBEIR -j2
	$(HM) results examples/beir/beir.hm "evaluate[Dataset: *, K1: *]" --pivot K1 --columns ndcg_cut_10,recall_100 \
		--format table
	$(HM) results examples/beir/beir.hm "evaluate[Dataset: *, K1: *]" --columns ndcg_cut_10,map,recip_rank \
		--to out/beir/scores.csv

# Every command of README.md and examples/*/README.md, as written, from a fresh `make demo`.
docs-check: $(STAMP)
	rm -rf out evals
	$(MAKE) demo
	$(PY) tests/readme_commands.py

SERVERS := $(VENV)/.servers

# The file-system tests run against a real sshd, tmux and an S3 emulator (moto) driven by the aws CLI.
$(SERVERS): $(STAMP) tests/servers/install.sh
	bash tests/servers/install.sh
	touch $(SERVERS)

test: $(STAMP) $(SERVERS)
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow and not ray"

# Pinned, so that a newer release's rules or inference do not change what is checked; settings in pyproject.toml.
lint: $(STAMP)
	$(PY) -m pip install --quiet ruff==0.17.6 mypy==2.4.1
	$(VENV)/bin/ruff check hypermetric tests
	$(PY) -m mypy

bench-peers:
	BENCH_PEERS_VENV=$(PEERS) bash bench/setup_peers.sh

bench: $(STAMP)
	test -x $(PEERS)/bin/snakemake || BENCH_PEERS_VENV=$(PEERS) bash bench/setup_peers.sh
	$(PY) bench/run.py --reps 3 --peers-venv $(PEERS)

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick --reps 1 --peers-venv $(PEERS)

bench-parse: $(STAMP)
	$(PY) bench/parse_bench.py

clean:
	rm -rf $(VENV) out evals examples/*/out
