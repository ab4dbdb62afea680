# syntax=docker/dockerfile:1
# One image for every Marquee role (docker-compose.yml runs it four times).
# Stage 1 builds the dashboard (trunk → WebAssembly) and the server with
# the engines (Kafka, SNS, MongoDB); stage 2 is a slim runtime.

FROM rust:1.95-bookworm AS build
# cmake and headers for librdkafka (built from source by rdkafka), and npm
# for wasm-opt (binaryen from npm: Debian's is too old for Leptos 0.8).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake libcurl4-openssl-dev libssl-dev libsasl2-dev zlib1g-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && cargo install trunk --version 0.21.14 --locked
WORKDIR /src
COPY . .
# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
RUN version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)" \
 && cargo install wasm-bindgen-cli --version "$version"
RUN npm ci --prefix frontend --no-audit --no-fund \
 && PATH="/src/frontend/node_modules/.bin:$PATH" trunk build --release --offline
RUN cargo build --release --locked -p marquee --features kafka,sns,mongo

FROM debian:bookworm-slim
# The server links only zlib besides libc (librdkafka is built in); curl is
# for the health check, ca-certificates for https to AWS and Alpha Vantage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /srv/marquee marquee
COPY --from=build /src/target/release/marquee /usr/local/bin/marquee
COPY --from=build /src/dist /srv/marquee/dist
WORKDIR /srv/marquee
USER marquee
ENV MARQUEE_LISTEN=0.0.0.0:8080 \
    MARQUEE_STATIC_DIR=/srv/marquee/dist \
    MARQUEE_DATA_DIR=/srv/marquee/data
EXPOSE 8080
ENTRYPOINT ["marquee"]
CMD ["serve"]
