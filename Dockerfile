# stampede in a container, for shards on Kubernetes, AWS Batch or ECS (docs/distributed.md).
#   docker build -t stampede .
#   docker run --rm stampede run --url https://… --rate 100 --duration 30s
# Build stage: the release binary (TLS and the AWS SDKs on rustls; no OpenSSL).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY crates ./crates
RUN cargo build --release --locked --bin stampede

# Runtime: glibc, CA roots and a non-root user (65532), nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/stampede /usr/local/bin/stampede
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/stampede"]
CMD ["--help"]
