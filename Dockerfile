# podmeta: the regional pod table as a read-only HTTP API.
#
# Build: docker build -t podmeta .   (or podman build --format docker -t podmeta .)
# Run:   docker run --rm -p 8080:8080 -p 9090:9090 podmeta
#
# The image is one static binary and the table, nothing else: no shell, no package
# manager, no libc files; nothing for a scanner to list but podmeta itself, whose
# dependency list is embedded in the binary (cargo auditable), so that `cargo audit bin`
# or a scanner can read it from an image with nothing else in it.

FROM docker.io/library/rust:1.95-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# cargo-auditable, in a layer of its own: built once, kept across podmeta's changes.
RUN cargo install --locked cargo-auditable@0.7.7
# Static glibc (static-pie): the build image's glibc is enough, no musl target is needed.
# The target is named so that the flag reaches podmeta, not build scripts and proc
# macros. Stripped: symbols are no use in an image nobody can open a shell in.
ENV RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_PROFILE_RELEASE_STRIP=symbols
# Dependencies first, in a layer of their own: a change to podmeta's code does not
# rebuild them. The stubs stand in for the sources until the real ones are copied.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src bench \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > bench/micro.rs \
    && cargo auditable build --release --locked --target "$(rustc -vV | sed -n 's/^host: //p')" \
    && rm -rf src bench
COPY src src
COPY bench bench
COPY config config
COPY assets assets
COPY openapi.yaml ./
# The stubs' build left newer timestamps; touch so cargo rebuilds podmeta itself.
RUN touch src/main.rs src/lib.rs \
    && target="$(rustc -vV | sed -n 's/^host: //p')" \
    && cargo auditable build --release --locked --target "$target" \
    && cp "target/$target/release/podmeta" /podmeta \
    && /podmeta check config/pods.toml

FROM scratch
COPY --from=build /podmeta /usr/local/bin/podmeta
COPY config/pods.toml /etc/podmeta/pods.toml
# Listen on every interface inside the container; serve (and watch) the table file, so
# that a mounted ConfigMap replaces it and is reloaded without a restart. The admin port
# serves the probes and metrics outside the main port's connection cap; the HEALTHCHECK
# asks it.
ENV PODMETA_BIND=0.0.0.0:8080 \
    PODMETA_ADMIN_BIND=0.0.0.0:9090 \
    PODMETA_CONFIG=/etc/podmeta/pods.toml
# An unprivileged user with no entry in /etc/passwd (there is none): podmeta needs no
# home and no name.
USER 10001:10001
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/usr/local/bin/podmeta", "healthcheck"]
# podmeta is PID 1 and handles SIGTERM itself: it drains and exits 0.
ENTRYPOINT ["/usr/local/bin/podmeta"]
