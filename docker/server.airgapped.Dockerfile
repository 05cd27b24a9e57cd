# The central without a registry or dl.deno.land: FROM scratch, with the
# host's Deno (from the npm registry), the shared libraries it links, the
# application and its cached npm dependencies, staged by
# scripts/docker_images.sh. Same tag, user, paths and arguments as
# server/Dockerfile; Deno itself is PID 1 and runs the same code.
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 writable/ /app/.storage/
COPY --chown=65532:65532 deno-dir/ /deno-dir/
COPY --chown=65532:65532 writable/ /tmp/
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1 LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
# Storage on the volume compose mounts, whatever config.ini says or omits.
ENV STORAGE_DIR=/app/.storage
WORKDIR /app
USER 65532:65532
# `central health`, as server/Dockerfile's, run by the same Deno.
HEALTHCHECK --interval=2s --timeout=5s --retries=30 \
  CMD ["/usr/bin/deno", "run", "--cached-only", "--quiet", "--no-prompt", "--config=/app/deno.json", "--allow-net", "--allow-read", "--allow-env", "/app/server/main.ts", "--config", "/app/config.ini", "health"]
ENTRYPOINT ["/usr/bin/deno", "run", "--cached-only", "--quiet", "--no-prompt", "--config=/app/deno.json", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-run", "/app/server/main.ts"]
CMD ["--config", "/app/config.ini"]
