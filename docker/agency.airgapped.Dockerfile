# The agency without a registry or dl.deno.land: see
# server.airgapped.Dockerfile. Same tag, user, paths and arguments as
# client/Dockerfile.
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 deno-dir/ /deno-dir/
COPY --chown=65532:65532 writable/ /tmp/
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1 LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
# The bets file where compose mounts it, whatever config.yaml says or omits.
ENV CLI_DATA_PATH=/data/agency.csv
WORKDIR /app
USER 65532:65532
ENTRYPOINT ["/usr/bin/deno", "run", "--cached-only", "--quiet", "--no-prompt", "--config=/app/deno.json", "--allow-net", "--allow-read", "--allow-env", "--v8-flags=--no-concurrent-recompilation", "/app/agency/main.ts"]
CMD ["--config", "/app/config.yaml"]
