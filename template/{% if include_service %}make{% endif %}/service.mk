# The service's targets, included by the Makefile. Template-owned: refreshed by `copier update`.
.PHONY: serve contract contract-check harvest experiments-decide

serve: ## Run the service locally under uvicorn
	$(RUN) squad serve

contract: ## Regenerate contracts/openapi.json from the app (refuses breaking changes)
	$(RUN) python -m squadkit.service.contract write

# CI (contract.yml) runs this one.
contract-check: ## The service's OpenAPI schema matches contracts/openapi.json
	$(RUN) python -m squadkit.service.contract check

# CI (harvest.yml, weekly) runs this one; SUITE and SAMPLE come from its inputs.
SUITE ?=# one suite (default: every suite under evals/)
SAMPLE ?= 0# random inferences added per prompt version
harvest: ## Harvest SUITE (default: all) from the inference log; describe its PR in reports/pr/
	$(RUN) python scripts/ci/harvest_pr.py $(or $(SUITE),$(SUITES)) --sample "$(SAMPLE)"

# CI (experiments.yml, daily) runs this one; SQUAD_INFERENCE_LOG_URL names the log.
experiments-decide: ## Report each running experiment; stop (and promote) decided ones, PR in reports/pr/
	$(RUN) python scripts/ci/experiments_pr.py
