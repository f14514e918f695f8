# Performance benchmark. Included from the main Makefile (PY, STAMP, VENV, PYTHONPATH come from it).
# BENCH_DATABASE_URL=postgresql://... uses (creates, migrates, empties) that database and seeds
# <name>_scale_1k / <name>_scale_1m beside it once; unset, an embedded PostgreSQL is started.
# BENCH_QUICK=1 for a short run; BENCH_SKIP_BUILD=1 reuses bench/out/build.
BENCH_STAMP := $(VENV)/.bench-installed
export BENCH_DATABASE_URL BENCH_QUICK BENCH_SKIP_BUILD

$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## cold start, round trips, warm cost, scale, memory -> bench/results.{md,json}
	$(PY) -m bench.run
