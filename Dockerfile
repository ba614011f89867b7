# podmeta: the regional pod table as a read-only HTTP API.
#
# Build: docker build -t podmeta .   (or podman build --format docker -t podmeta .)
# Run:   docker run --rm -p 8080:8080 podmeta

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, in a layer of their own: a change to podmeta's code does not
# rebuild them. The stubs stand in for the sources until the real ones are copied.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src bench \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > bench/micro.rs \
    && cargo build --release --locked \
    && rm -rf src bench
COPY src src
COPY bench bench
COPY config config
COPY openapi.yaml ./
# The stubs' build left newer timestamps; touch so cargo rebuilds podmeta itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/podmeta /usr/local/bin/podmeta

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/podmeta /usr/local/bin/podmeta
COPY config /etc/podmeta
# Listen on every interface inside the container; serve (and watch) the table file, so
# that a mounted ConfigMap replaces it and is reloaded without a restart. The admin port
# serves the probes and metrics outside the main port's connection cap; the HEALTHCHECK
# asks it.
ENV PODMETA_BIND=0.0.0.0:8080 \
    PODMETA_ADMIN_BIND=0.0.0.0:9090 \
    PODMETA_CONFIG=/etc/podmeta/pods.toml
# An unprivileged user with no entry in /etc/passwd: podmeta needs no home and no name.
USER 10001:10001
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 \
    CMD ["podmeta", "healthcheck"]
# podmeta is PID 1 and handles SIGTERM itself: it drains and exits 0.
ENTRYPOINT ["podmeta"]
