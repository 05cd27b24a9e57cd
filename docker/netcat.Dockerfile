# netcat for validar-echo-server.sh: BusyBox's nc (and sh) as the entrypoint.
ARG BUSYBOX_IMAGE=busybox:1.36.1
FROM ${BUSYBOX_IMAGE}
ENTRYPOINT ["/bin/busybox"]
