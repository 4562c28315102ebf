# The API image for one architecture: the static binaries (the API, and
# cmd/lb for docker-compose.fdpass.yml) and the prebuilt artifact, nothing
# else. `make image` (scripts/image.sh) fills one build context per
# architecture, build/image/linux-amd64 and build/image/linux-arm64, with
# the binaries cross-compiled for it and the same artifact file (its data
# is little-endian, as both machines are), and runs
# `docker build --platform linux/ARCH` on each; `make push` publishes the
# two under one name. The build takes no arguments: Docker 20.10's
# classic builder gives the steps before a COPY the engine's own
# platform, and the COPY then refuses to build on them.
FROM scratch
COPY api /api
COPY lb /lb
COPY index.fknn /index.fknn
# The socket folder, owned by the shared uid of the APIs and cmd/lb: a
# fresh named volume mounted here starts with this owner and mode.
COPY --chown=65534:65534 sockets /sockets
LABEL org.opencontainers.image.title="fraudknn-api"
USER 65534:65534
ENTRYPOINT ["/api"]
CMD ["-artifact", "/index.fknn", "-listen", "unix:/sockets/api.sock"]
