# syntax=docker/dockerfile:1
#
# audioproc: build with Debian 12's -dev packages, run on debian:12-slim with only the
# runtime shared libraries. The image holds audioproc-server (the entrypoint) and
# audioproc-client (the HEALTHCHECK, the Helm chart's `helm test` hook, debugging).
#
# Here (no Docker engine): `make image` builds it with podman as audioproc:dev, and
# `make test-image` checks it (tests/image/image_test.sh). With Docker elsewhere:
#   docker build --build-arg REVISION=$(git rev-parse --short=12 HEAD) -t audioproc .
#   docker run --rm -p 50051:50051 -p 9090:9090 audioproc
#
# Every server flag is also an AUDIOPROC_<FLAG> environment variable (docker run -e ...).

ARG DEBIAN_IMAGE=debian:12
ARG DEBIAN_SLIM_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
# Tests are not built here (BUILD_TESTING=OFF), so GoogleTest is not needed. ccache only
# serves the cache mount below.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates g++ cmake ninja-build pkg-config ccache \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev grpc-proto \
      libssl-dev libsndfile1-dev libfftw3-dev libsoxr-dev libebur128-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the two binaries compile from, so that an edit elsewhere (README, tests, Helm,
# the other clients) leaves the build layers cached. With BUILD_TESTING=OFF the top
# CMakeLists.txt adds neither tests/ nor bench/, fuzz/ only with AUDIOPROC_FUZZ, clients/go
# only with AUDIOPROC_GO_CLIENT; .dockerignore keeps the rest out of the context.
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY common/ common/
COPY procfs/ procfs/
COPY dsp/ dsp/
COPY audio_io/ audio_io/
COPY chain/ chain/
COPY processors/ processors/
COPY protos/ protos/
COPY service/ service/
COPY clients/ clients/
# The optimisation of the tested builds (RelWithDebInfo's -O2) without its -g: the binaries
# are stripped anyway, and no debug info makes the compile faster. The ccache cache mount
# keeps compiled objects between builds on one machine (a source edit recompiles only what
# changed); it is not part of any layer.
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DBUILD_TESTING=OFF -DAUDIOPROC_GO_CLIENT=OFF \
 && cmake --build /build --target audioproc-server audioproc-client
# The commit --version and audioproc_build_info report: the context has no .git, so it comes
# as a build argument (`make image` passes git's HEAD). A step of its own after the build, so
# that a new commit that changes nothing compiled (a README edit) recompiles only the few
# files that print the version and relinks, instead of invalidating the build above.
ARG REVISION=unknown
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -B /build -DAUDIOPROC_COMMIT="${REVISION}" \
 && cmake --build /build --target audioproc-server audioproc-client \
 && install -D -m 0755 -s /build/service/audioproc-server /out/usr/local/bin/audioproc-server \
 && install -D -m 0755 -s /build/clients/audioproc-client /out/usr/local/bin/audioproc-client

FROM ${DEBIAN_SLIM_IMAGE} AS runtime
# Runtime libraries only: gRPC C++ (with reflection and health), Protobuf, Abseil, OpenSSL
# (libcrypto checks the TLS files), prometheus-cpp (core + pull, which brings civetweb),
# libsndfile, FFTW (single precision) and libsoxr. No compiler, no headers, no
# package lists. `make test-image` checks with ldd that every library both binaries link
# resolves here, and that no compiler is present.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libssl3 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libsndfile1 libfftw3-single3 libsoxr0 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 audioproc \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin audioproc
COPY --from=build /out/ /
# A numeric user, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
# The ports that are on by default: gRPC (--port) and Prometheus /metrics (--metrics_port).
# The plaintext health port (--health_port, for probes when TLS is on) is off by default;
# with AUDIOPROC_HEALTH_PORT=8081 publish it too (-p 8081:8081).
EXPOSE 50051 9090
# The default health service over the gRPC port. With TLS on, probe the plaintext health port
# instead (--health --addr=localhost:8081) or add --tls_ca; Kubernetes ignores HEALTHCHECK
# and uses the chart's gRPC probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/audioproc-client", "--health", "--addr=localhost:50051", "--timeout_s=2"]
STOPSIGNAL SIGTERM
# OCI annotations, from build arguments (`make image` fills them from git and CMakeLists.txt).
# package.json says UNLICENSED (no licence granted); SPDX has no such identifier (its
# "Unlicense" is the opposite), hence a LicenseRef.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="audioproc" \
      org.opencontainers.image.description="Real-time audio processing over gRPC: audioproc-server and audioproc-client" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="LicenseRef-UNLICENSED"
ENTRYPOINT ["/usr/local/bin/audioproc-server"]
