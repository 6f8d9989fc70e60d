# nightmarket: a release build in one stage, a small runtime image in the next.
# Used by docker-compose.yml, where PostgreSQL runs in its own container (DATABASE_URL).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# Queries are checked against the committed .sqlx/ cache; no database is needed to build.
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked --bin nightmarket

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/nightmarket --create-home nightmarket
COPY --from=build /src/target/release/nightmarket /usr/local/bin/nightmarket
USER nightmarket
WORKDIR /var/lib/nightmarket
ENV NIGHTMARKET_ADDR=0.0.0.0:8080 \
    NIGHTMARKET_DATA=/var/lib/nightmarket/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/usr/local/bin/nightmarket"]
CMD ["serve"]
