SOAK_SECONDS ?= 30

soak: $(STAMP) ## bounded load test with reconciliation: make soak SOAK_SECONDS=30
	$(PY) -m scripts.soak --seconds $(SOAK_SECONDS)
