# The two commands: `make run` and `make test`. Each installs what is missing on a fresh
# Debian 12 machine (as root), builds, and then serves or tests.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
SERVER := $(BUILD_DIR)/service/audioproc-server
CLIENT := $(BUILD_DIR)/clients/audioproc-client
ADDR ?= localhost:50051

.PHONY: all deps build run test demo bench clean

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
# other languages and the Helm chart; all registered with CTest.
test:
	@.ci/install-deps --npm
	@$(MAKE) --no-print-directory build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

# Streams the bundled sample through a running server (`make run` in another terminal).
demo: build
	$(CLIENT) --addr=$(ADDR) --input=clients/demo/speech_16k.wav --output=demo-out.wav \
	  --chunk_ms=20 --realtime \
	  --chain='highpass:cutoff_hz=80,gain:gain_db=6,limiter:ceiling_db=-1'

# The DESIGN §8 report from one run: the in-process microbenchmarks of every processor and
# chain, then the gRPC path against fresh servers on free loopback ports (throughput of 1, 16
# and 256 unpaced streams, capacity in paced streams, latency, memory and CPU per stream at
# half of it) and a 10-minute soak of 200 paced voice streams, into
# $(BUILD_DIR)/bench/report.md and report.json. About 25 minutes; BENCH_SOAK=0 skips the soak,
# BENCH_QUICK=1 is a 2-minute smoke run (other knobs: bench/run_bench.py).
bench: build
	cmake --build $(BUILD_DIR) --target processors_bench audioproc-loadgen audioproc-server
	bench/run_bench.py --build-dir $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
