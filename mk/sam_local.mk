# sam local: the real Lambda runtime and API Gateway emulation, on this machine's architecture.
# Included from the main Makefile (PY, STAMP come from it). The Docker engine is the project's own,
# inside a network namespace without uplink (scripts/local_engine.py); needs root (CI runs as root).
LOCAL_API_PORT ?= 3000

.PHONY: local-api lambda-base-image test-sam-local

local-api: $(STAMP) ## sam local start-api on 127.0.0.1:$(LOCAL_API_PORT) (embedded PostgreSQL unless DATABASE_URL)
	$(PY) scripts/local_api.py --port $(LOCAL_API_PORT)

lambda-base-image: $(STAMP) ## the Lambda base image for sam local: official if it can be had, else the stand-in (once)
	$(PY) scripts/local_engine.py base-image

# -n 0: one sam local (one engine, one port) serves the whole scenario, not one per xdist worker.
test-sam-local: $(STAMP) ## the task contract through sam local, compared with the in-process handler
	SAM_LOCAL_TESTS=1 $(PY) -m pytest tests/sam_local -n 0 -p no:cacheprovider $(PYTEST_ARGS)
