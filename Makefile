# The two commands: `make run` and `make test`. Each installs what is missing on a fresh
# Debian 12 machine (as root), builds, and then serves or tests.
BUILD_DIR ?= build
FUZZ_DIR ?= build-fuzz
ASAN_DIR ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
SERVER := $(BUILD_DIR)/service/audioproc-server
CLIENT := $(BUILD_DIR)/clients/audioproc-client
ADDR ?= localhost:50051

.PHONY: all deps build run test lint format fuzz test-sanitize image test-image demo bench bench-dsp clean

all: build

deps:
	@.ci/install-deps

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(SERVER)

# Every suite: unit, service integration, end-to-end against the real binaries, clients in
# other languages and the Helm chart; all registered with CTest. Then the fuzz targets.
test:
	@.ci/install-deps --npm
	@$(MAKE) --no-print-directory build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600
	@$(MAKE) --no-print-directory fuzz

# STYLE.md kept by tools, on every C++ file in git: clang-format (.clang-format) must leave each
# file unchanged, and clang-tidy (.clang-tidy: bugprone, performance and modernize checks) must
# find nothing, using the compile commands of the build; any finding fails. `make format`
# applies the formatting.
LINT_DIRS := common|procfs|dsp|audio_io|chain|processors|protos|service|clients|bench|tests|fuzz
CXX_SOURCES = $(shell git ls-files '*.cc' '*.h')

lint: build
	clang-format --dry-run -Werror $(CXX_SOURCES)
	run-clang-tidy -p $(BUILD_DIR) -j $(JOBS) -quiet \
	  -header-filter='^$(CURDIR)/($(LINT_DIRS))/' '^$(CURDIR)/($(LINT_DIRS))/'
	@# The fuzz targets build only in $(FUZZ_DIR) (clang, instrumented); clang-tidy takes their
	@# flags from their neighbours in the ordinary build's compile commands.
	git ls-files 'fuzz/*.cc' | xargs -P $(JOBS) -n 1 clang-tidy -p $(BUILD_DIR) --quiet \
	  --extra-arg=-I$(abspath $(BUILD_DIR))/protos/gen -header-filter='^$(CURDIR)/($(LINT_DIRS))/'

format:
	clang-format -i $(CXX_SOURCES)

# The libFuzzer targets of fuzz/, built with clang, ASan and UBSan in a directory of their own
# (only what they need), each run for 15 s from its corpus as a CTest test. Longer runs:
# cmake -B $(FUZZ_DIR) -DAUDIOPROC_FUZZ_SECONDS=600, or run build-fuzz/fuzz/fuzz_<name>.
$(FUZZ_DIR)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DAUDIOPROC_FUZZ=ON

fuzz: deps $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR) --target fuzz_targets -j $(JOBS)
	ctest --test-dir $(FUZZ_DIR) --output-on-failure -j $(JOBS)

# The C++ suites again, built with AddressSanitizer and UndefinedBehaviorSanitizer (gcc), the
# server and client binaries the tests start included; any report fails the test. Known
# third-party leaks are suppressed in tests/lsan_suppressions.txt. Not run here:
# - the Helm and manifest checks (label helm), which run no C++;
# - KilledClientTest.TwoHundredKilledOrCancelledStreamsLeaveResidentMemoryFlat: it asserts
#   that the server's resident memory stays flat, and ASan keeps freed memory in quarantine
#   (256 MiB), so resident memory grows by design;
# - cpp_client_find_package: it builds a consumer project without the sanitizer flags, which
#   cannot link the instrumented libraries; the library itself is covered by the C++ suites.
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan_suppressions.txt:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SANITIZE_EXCLUDE := KilledClientTest\.TwoHundredKilledOrCancelledStreamsLeaveResidentMemoryFlat|cpp_client_find_package

$(ASAN_DIR)/build.ninja:
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DAUDIOPROC_SANITIZE=ON -DAUDIOPROC_BENCH=OFF

test-sanitize:
	@.ci/install-deps --npm
	@$(MAKE) --no-print-directory $(ASAN_DIR)/build.ninja
	$(SANITIZER_ENV) cmake --build $(ASAN_DIR) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) --timeout 600 \
	  --label-exclude helm --exclude-regex '$(SANITIZE_EXCLUDE)'

# The container image, audioproc:dev, built with podman (no Docker engine here): the
# Dockerfile's two stages from a Debian 12 base that .ci/image-base makes once per machine
# (debootstrap from the host's mirror) when podman's store has none. chroot isolation and host
# networking because this machine runs no container runtime of its own; the docker format
# because the OCI one has no HEALTHCHECK. The commit (with -dirty for uncommitted changes),
# version and date go in as build arguments: --version and the OCI labels.
IMAGE ?= audioproc:dev
IMAGE_REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell \
  git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo -dirty)
IMAGE_VERSION := $(shell grep -m1 -oP '^project\S* VERSION \K[0-9.]+' CMakeLists.txt)
IMAGE_SOURCE := $(shell git remote get-url origin 2>/dev/null)
PODMAN := podman --cgroup-manager=cgroupfs

image:
	@.ci/install-deps --image
	@.ci/image-base
	$(PODMAN) build --pull=never --network=host --isolation=chroot --format=docker \
	  --build-arg REVISION=$(IMAGE_REVISION) --build-arg VERSION=$(IMAGE_VERSION) \
	  --build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) --build-arg SOURCE=$(IMAGE_SOURCE) \
	  -t $(IMAGE) .

# The image, then the server inside it on the loopback (run with buildah: podman run needs a
# runtime this machine lacks): health, a stream through a chain and ListProcessors answered;
# a non-root user, no compiler, every shared library of both binaries present, the commit in
# --version, the HEALTHCHECK and labels in the image's config. Not part of `make test`
# (ctest); `.ci/run` runs it after the suites.
test-image: image
	tests/image/image_test.sh $(IMAGE) $(IMAGE_REVISION)

# Streams the bundled sample through a running server (`make run` in another terminal).
demo: build
	$(CLIENT) --addr=$(ADDR) --input=clients/demo/speech_16k.wav --output=demo-out.wav \
	  --chunk_ms=20 --realtime \
	  --chain='highpass:cutoff_hz=80,gain:gain_db=6,limiter:ceiling_db=-1'

# The DESIGN §8 report from one run: the in-process microbenchmarks of every processor and
# chain (with the cost model of issue 8 against what each measured), then the gRPC path against fresh servers on free loopback ports (throughput of 1, 16
# and 256 unpaced streams, capacity in paced streams, latency, memory and CPU per stream at
# half of it) and a 10-minute soak of 200 paced voice streams, into
# $(BUILD_DIR)/bench/report.md and report.json. About 20 minutes; BENCH_SOAK=0 skips the soak,
# BENCH_QUICK=1 is a 4-minute smoke run (other knobs: bench/run_bench.py).
bench: build
	cmake --build $(BUILD_DIR) --target processors_bench audioproc-loadgen audioproc-server \
	  audioproc-echo-peer
	bench/run_bench.py --build-dir $(BUILD_DIR)

# The DSP comparison of issue 13 from one run: denoise and vad against speexdsp and WebRTC's APM
# (Debian's), and the WASM peers of bench/dsp/wasm_peers.mjs when it is there, on six espeak-ng
# voices in white, pink, brown, fan and babble noise at -5..15 dB made by the build: SNR and
# segmental SNR gains, speech damage, VAD accuracy, false alarms and misses, into
# $(BUILD_DIR)/bench-dsp/report.md and report.json. Then the echo cancellers of issue 15:
# audioproc's aec (and aec,denoise) against WebRTC's AEC and AECM and speexdsp's, on echo scenes
# made by the build (single talk, double talk, path change, 50 ms delay jump at 16 and 48 kHz):
# ERLE, the near end's SDR and level in double talk, recovery time and CPU, into
# $(BUILD_DIR)/bench-dsp/echo/report.md and report.json. Builds only its four tools (and what
# they link). A few minutes; run_dsp_bench.py --quick --no-wasm and run_aec_bench.py --quick are
# the smoke runs of ctest's bench_dsp.
bench-dsp: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target dsp-material dsp-peers dsp-echo-material \
	  dsp-echo-peers
	bench/dsp/run_dsp_bench.py --build-dir $(BUILD_DIR)
	bench/dsp/run_aec_bench.py --build-dir $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR) $(ASAN_DIR)
