# The API image: the static binaries (the API, and cmd/lb for
# docker-compose.fdpass.yml) and the prebuilt artifact, nothing else.
# `make image` prepares build/image/ (binary, artifact, an empty socket
# folder owned by the API's user) and runs `docker build`.
FROM scratch
COPY build/image/api /api
COPY build/image/lb /lb
COPY build/image/index.fknn /index.fknn
COPY --chown=65534:65534 build/image/sockets /sockets
USER 65534:65534
ENTRYPOINT ["/api"]
CMD ["-artifact", "/index.fknn", "-listen", "unix:/sockets/api.sock"]
