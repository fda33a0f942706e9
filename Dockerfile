# The proofmesh image the compose file and the Kubernetes manifests run: every service binary
# and the CLI on Debian 12, built from this repository with its own setup script (Debian packages
# only). CUDA_IMAGE is a Debian 12 image with the CUDA 13 toolkit at /usr/local/cuda, the
# machine we build on (from your registry, or made with NVIDIA's runfile installer); GPU workers
# also need the NVIDIA container runtime on the host.
#   docker build --build-arg CUDA_IMAGE=<debian12-cuda13 image> -t proofmesh:latest .
ARG CUDA_IMAGE
FROM ${CUDA_IMAGE} AS build
WORKDIR /src
COPY . .
RUN deploy/setup.sh && make build BUILD_DIR=/build

FROM ${CUDA_IMAGE}
COPY --from=build /src/deploy/setup.sh /tmp/setup.sh
RUN /tmp/setup.sh && rm /tmp/setup.sh && useradd --system proofmesh
COPY --from=build /build/proofmesh /build/proofmesh-gateway /build/proofmesh-coordinator \
                  /build/proofmesh-worker /usr/local/bin/
COPY --from=build /build/ui /usr/local/share/proofmesh/ui
USER proofmesh
EXPOSE 8080 5601 5602 5603
CMD ["proofmesh", "--help"]
