# syntax=docker/dockerfile:1
#
# audioproc: build with Debian 12's -dev packages, run on debian:12-slim with only the
# runtime shared libraries. The image holds audioproc-server (the entrypoint) and
# audioproc-client (used by the Helm chart's `helm test` hook and for debugging).
#
#   docker build -t audioproc .
#   docker run --rm -p 50051:50051 -p 9090:9090 audioproc
#
# Every server flag is also an AUDIOPROC_<FLAG> environment variable (docker run -e ...).

ARG DEBIAN_IMAGE=debian:12
ARG DEBIAN_SLIM_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
# Tests are not built here (BUILD_TESTING=OFF), so GoogleTest is not needed.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates g++ cmake ninja-build pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev grpc-proto \
      libssl-dev libsndfile1-dev libfftw3-dev libsoxr-dev libebur128-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
      -DAUDIOPROC_GO_CLIENT=OFF \
 && cmake --build /build --target audioproc-server audioproc-client \
 && install -D -m 0755 -s /build/service/audioproc-server /out/usr/local/bin/audioproc-server \
 && install -D -m 0755 -s /build/clients/audioproc-client /out/usr/local/bin/audioproc-client

FROM ${DEBIAN_SLIM_IMAGE} AS runtime
# Runtime libraries only: gRPC C++ (with reflection and health), Protobuf, Abseil, OpenSSL
# (libcrypto checks the TLS files), prometheus-cpp (core + pull, which brings civetweb),
# libsndfile, FFTW (single precision), libsoxr and libebur128. No compiler, no headers, no
# package lists.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libssl3 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libsndfile1 libfftw3-single3 libsoxr0 libebur128-1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 audioproc \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin audioproc
COPY --from=build /out/ /
# A numeric user, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
# gRPC, Prometheus /metrics, and the plaintext health port (--health_port, used when TLS is
# on: kubelet's gRPC probes carry no client certificate).
EXPOSE 50051 9090 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/audioproc-server"]
