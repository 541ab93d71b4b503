# `make demo` and `make test` do all set-up themselves on a fresh machine:
# create .venv when missing, install the pinned dependencies and the package, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dosewise-installed
DEBIAN_PACKAGES := chromium chromium-driver xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-cursor0 \
	libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 \
	libdbus-1-3 libfontconfig1

.PHONY: install demo test test-slow bench clean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@# Debian packages of two tests: headless chromium for the serve page, an X server with Mesa
	@# OpenGL and Qt's xcb libraries for napari; without them those tests skip
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v Xvfb >/dev/null || \
		(command -v apt-get >/dev/null && (DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_PACKAGES) >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEBIAN_PACKAGES) >/dev/null 2>&1))) || \
		echo "note: could not install $(DEBIAN_PACKAGES); the browser and napari tests will skip"
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
