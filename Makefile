.PHONY: run test setup lint bench soak clean

run:     ## set up everything and start the whole system with demo data
	bash scripts/run.sh

test:    ## set up what the tests need and run every test
	bash scripts/test.sh

setup:   ## only the idempotent setup
	bash scripts/setup.sh

lint:    ## ruff + mypy
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy core store conversations service knowledge handoff connectors actions tickets supervision bench tests

bench:   ## every benchmark (each also runs alone: python -m bench.NAME)
	.venv/bin/python -m bench.answer_quality
	.venv/bin/python -m bench.handoff

soak:    ## 200 conversations for 5 minutes against a full stack
	.venv/bin/python -m bench.soak

clean:   ## remove local state (database, Redis data, indexes, logs); keeps the environments
	rm -rf var/kefu.db* var/redis var/knowledge var/log var/secret_key var/demo_credentials.txt
