# `make demo` and `make test` do all set-up themselves on a fresh machine:
# create .venv when missing, install the pinned dependencies and the package, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dosewise-installed

.PHONY: install demo test test-slow bench clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@# the browser of the page's test (Debian's chromium + chromedriver); without them that test skips
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(command -v apt-get >/dev/null && (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1))) || \
		echo "note: could not install Debian's chromium; the browser test of dosewise serve will skip"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/dosewise demo --out demo-output

test: $(STAMP)
	$(PY) -m pytest -m "not slow and not gpu" -q

test-slow: $(STAMP)
	$(PY) -m pytest -m "slow" -q || [ $$? -eq 5 ]  # exit 5: no slow tests selected

bench: $(STAMP)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-bench.txt
	$(PY) benchmarks/bench_simulate.py
	$(PY) benchmarks/bench_denoise_speed.py
	$(PY) benchmarks/bench_denoise_quality.py

clean:
	rm -rf demo-output .pytest_cache
