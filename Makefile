# lanying.im: common entry points. Every target creates .venv from requirements.txt first.
.PHONY: help venv demo demo-down test test-quick lint unit sanity molecule images build docs clean

help:
	@echo "make demo       deploy the platform on local containers (inventories/local)"
	@echo "make demo-down  remove the local containers"
	@echo "make test       the whole suite: lint, argument specs, unit, sanity, build, Molecule"
	@echo "make test-quick lint, argument specs, unit, sanity and the one-host quick scenario"
	@echo "make lint | unit | sanity | build | images | molecule   one part of it"
	@echo "make docs       render docs/reference from the collection's own documentation"
	@echo "make venv       create the virtual environment (.venv) only"

venv:
	@scripts/venv.sh

demo:
	@INVENTORY="$(INVENTORY)" scripts/demo.sh

demo-down:
	@INVENTORY="$(INVENTORY)" scripts/demo.sh down

test:
	@scripts/test.sh

test-quick:
	@scripts/test.sh --quick

lint:
	@scripts/test.sh lint specs

unit:
	@scripts/test.sh unit

sanity:
	@scripts/test.sh sanity

build:
	@scripts/test.sh build

images:
	@scripts/test.sh engine images

molecule:
	@scripts/test.sh engine images molecule

docs: venv
	@.venv/bin/python scripts/docs.py

clean:
	rm -rf .venv collections/ansible_collections/lanying/im/tests/output .ansible
