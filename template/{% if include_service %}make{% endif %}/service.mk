# The service's targets, included by the Makefile. Template-owned: refreshed by `copier update`.
.PHONY: serve contract contract-check

serve: ## Run the service locally under uvicorn
	$(RUN) squad serve

contract: ## Regenerate contracts/openapi.json from the app (refuses breaking changes)
	$(RUN) python -m squadkit.service.contract write

# CI (contract.yml) runs this one.
contract-check: ## The service's OpenAPI schema matches contracts/openapi.json
	$(RUN) python -m squadkit.service.contract check
