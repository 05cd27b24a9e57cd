# netcat without a registry: Debian's static BusyBox (package
# busybox-static) FROM scratch, staged by scripts/docker_images.sh.
FROM scratch
COPY busybox /bin/busybox
ENTRYPOINT ["/bin/busybox"]
