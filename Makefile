# Supolka — the two commands of the README, and the few around them.
#   make run     install missing Debian packages, build, start the app
#   make check   the same set-up, then the whole test suite (plain and ASan+UBSan)
# Others: make build, make bench, make format, make format-check, make clean.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15
MESON      ?= meson
SHELL      := /bin/bash

# Debian 12 packages the build, the tests and the app need.
DEB_PACKAGES := build-essential meson ninja-build pkg-config gettext clang-format \
	libglib2.0-dev libgtk-4-dev libadwaita-1-dev libsqlcipher-dev libsodium-dev \
	libcurl4-openssl-dev libmicrohttpd-dev libjson-glib-dev libqrencode-dev libcsv-dev \
	libsqlite3-dev libssl-dev xvfb xauth dbus dbus-x11 desktop-file-utils appstream \
	libglib2.0-bin clang libclang-rt-14-dev python3 microsocks groff-base

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run check check-plain check-sanitize check-fuzz fuzz bench format format-check clean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -x $(BUILD)/app/supolka ]; then \
	  exec $(BUILD)/app/supolka; \
	else \
	  if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then echo "No display found: running the headless demo instead."; \
	  else echo "The desktop app is not built yet: running the headless demo instead."; fi; \
	  SUPOLKA_CLI=$(BUILD)/app/supolka-cli bash app/demo.sh; \
	fi

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "Formatting: clean."

check-plain: build
	rm -f $(BUILD)/meson-logs/testlog.json
	-xvfb-run -a dbus-run-session -- $(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

check-sanitize: deps $(ASAN_BUILD)/build.ninja
	rm -f $(ASAN_BUILD)/meson-logs/testlog.json
	ninja -C $(ASAN_BUILD)
	-ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  xvfb-run -a dbus-run-session -- $(MESON) test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 \
	  --timeout-multiplier 3

$(FUZZ_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ_BUILD) -Dfuzzing=true -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dbuildtype=debug -Dfuzz_seconds=$(FUZZ_SECONDS) -Dgui=disabled \
	  -Dc_args=-fsanitize=fuzzer-no-link

# Every parser that takes hostile input, under libFuzzer + ASan + UBSan, for
# FUZZ_SECONDS each (make fuzz FUZZ_SECONDS=600 for a longer run).
check-fuzz: deps $(FUZZ_BUILD)/build.ninja
	rm -f $(FUZZ_BUILD)/meson-logs/testlog.json
	$(MESON) configure $(FUZZ_BUILD) -Dfuzz_seconds=$(FUZZ_SECONDS)
	ninja -C $(FUZZ_BUILD)
	-$(MESON) test -C $(FUZZ_BUILD) --suite fuzz --print-errorlogs --num-processes 2

fuzz: check-fuzz

# The whole suite: format, plain build, sanitizer build, fuzzing; one summary line last.
check: deps
	@fmt=0; $(MAKE) --no-print-directory format-check || fmt=1; \
	$(MAKE) --no-print-directory check-plain; \
	$(MAKE) --no-print-directory check-sanitize; \
	$(MAKE) --no-print-directory check-fuzz; \
	python3 tests/summary.py $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) --format-failed=$$fmt

# Benchmarks against same-run baselines (docs/PERFORMANCE.md); BENCH_ARGS=--quick for a short run.
bench: build
	$(BUILD)/tests/bench/supolka-bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
