# Lotería Nacional: the course's targets, plus test and e2e.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# docker compose (v2) where present, docker-compose (1.29) otherwise.
COMPOSE := $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo docker-compose; fi)
COMPOSE_FILE ?= docker-compose-dev.yaml
CLIENTS ?= 5
# compiled | airgapped | auto: how `docker-image` builds (see scripts/docker_images.sh).
IMAGES ?= auto
# all | project | course: which end-to-end scenarios `make e2e` runs (see README).
E2E ?= all
export DOCKER_BUILDKIT ?= 0

.PHONY: help build test e2e course-branches docker-image docker-compose-up docker-compose-down docker-compose-logs demo

help:
	@echo "make docker-compose-up    build the images and start the central and $(CLIENTS) agencies"
	@echo "make docker-compose-logs  follow their logs"
	@echo "make docker-compose-down  stop them (grace period) and remove containers, network and storage"
	@echo "make docker-image         build server:latest, client:latest (the names the course harness builds) and tp0-netcat (IMAGES=compiled|airgapped|auto)"
	@echo "make build                bin/central and bin/agency for the host"
	@echo "make test                 the test suite (deno task test)"
	@echo "make course-branches      the course's delivery branches ej1 … ej8 from this commit (then git push origin ej1 … ej8)"
	@echo "make e2e                  the end-to-end scenarios in Docker: ours, then the course harness's way (E2E=project|course)"

build:
	bash scripts/build_host.sh

test:
	deno task test

e2e: docker-image
ifneq ($(E2E),course)
	bash tests/e2e/run.sh
endif
ifneq ($(E2E),project)
	deno run --allow-run --allow-read --allow-write --allow-env tests/e2e/course.ts
endif

course-branches:
	@bash scripts/course_branches.sh

docker-image:
	bash scripts/docker_images.sh $(IMAGES)

docker-compose-up: docker-image
	@[ -f $(COMPOSE_FILE) ] || ./generar-compose.sh $(COMPOSE_FILE) $(CLIENTS)
	$(COMPOSE) -f $(COMPOSE_FILE) up -d

docker-compose-down:
	$(COMPOSE) -f $(COMPOSE_FILE) stop -t 10
	$(COMPOSE) -f $(COMPOSE_FILE) down -v --remove-orphans

docker-compose-logs:
	$(COMPOSE) -f $(COMPOSE_FILE) logs -f

demo:
	deno task demo
