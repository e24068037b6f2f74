# sharetrail container image.
#
#   docker build -t sharetrail .
#   docker run -p 8080:8080 -v sharetrail-data:/data \
#       -e SHARETRAIL_BASE_URL=https://go.example.com sharetrail
#
# cargo-chef splits the build so that compiling the dependencies is a cached
# layer, redone only when Cargo.toml or Cargo.lock change.

FROM rust:1-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /build

# The recipe lists the manifests and targets only, so its layer (and the
# cook below) changes only when the dependencies do.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --locked --bin sharetrail --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin sharetrail

# Same Debian release as the builder, so the binary's glibc matches.
FROM debian:bookworm-slim AS runtime
# curl serves the HEALTHCHECK only; ca-certificates lets outbound TLS verify.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, so a host directory mounted on /data can be chowned to match.
# /data is made and chowned before VOLUME so a new volume starts writable.
RUN groupadd --system --gid 10001 sharetrail \
    && useradd --system --uid 10001 --gid sharetrail --home-dir /data \
        --shell /usr/sbin/nologin sharetrail \
    && mkdir -p /data \
    && chown sharetrail:sharetrail /data
COPY --from=builder /build/target/release/sharetrail /usr/local/bin/sharetrail

# Listen on all interfaces inside the container; keep the SQLite database on
# the volume. Set SHARETRAIL_BASE_URL to the public origin of your short links
# (the default is derived from the listen address, which is wrong behind a
# proxy), or SHARETRAIL_DATABASE_URL=postgres://... for PostgreSQL.
ENV SHARETRAIL_LISTEN=0.0.0.0:8080 \
    SHARETRAIL_DATABASE_URL=sqlite:///data/sharetrail.db
WORKDIR /data
VOLUME /data
EXPOSE 8080

USER sharetrail
# Checks port 8080: change it too if SHARETRAIL_LISTEN moves to another port.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["sharetrail"]
CMD ["serve"]
