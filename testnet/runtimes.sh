#!/usr/bin/env bash
# Container runtimes inside testnet hosts (source after lib.sh). Each host gets its own podman
# storage, run and tmp directories, containers.conf and CNI config directory, so hosts share
# nothing but the machine; podman and the plugin it runs live in the host's network namespace
# (nsenter --net: `ip netns exec` would remount /sys and hide the cgroup mounts).
#
#   tn_busybox_root           a busybox root tree (built once per run), printed
#   tn_podman_host I          podman config and the weft network for host I (weft setup-cni)
#   tn_podman I ARGS...       podman on host I
#   tn_podman_run I NAME ARGS...   a detached busybox container on the weft network
#   tn_podman_ip I NAME       its address on the weft network
#   tn_runtimes_teardown      every container and pod removed (tn_teardown runs it)

TN_CNI_BIN="$TN_RUN/cni-bin"
TN_PODMAN_HOSTS=()
# Podman (cgroupfs) makes libpod_parent in every cgroup hierarchy: removed at the end when this
# run made it and it is empty.
TN_LIBPOD_CGROUP_NEW=$(ls -d /sys/fs/cgroup/*/libpod_parent >/dev/null 2>&1 && echo no || echo yes)

tn_podman_dir() { echo "$TN_RUN/h$1/podman"; }

# A busybox tree, and the tar podman/docker import.
tn_busybox_root() {
    local root="$TN_RUN/bbroot"
    if [ ! -x "$root/bin/busybox" ]; then
        mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
        cp /bin/busybox "$root/bin/busybox"
        chroot "$root" /bin/busybox --install -s /bin
        echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
        echo 'root:x:0:' > "$root/etc/group"
        tar -C "$root" -cf "$TN_RUN/bb.tar" .
    fi
    echo "$root"
}

tn_podman() {
    local i=$1 d; shift
    d=$(tn_podman_dir "$i")
    CONTAINERS_CONF="$d/containers.conf" nsenter --net="/run/netns/$(tn_ns "$i")" \
        env PATH="$TN_BIN:$PATH" WEFT_STATE_DIR="$(tn_state "$i")" \
        podman --root "$d/root" --runroot "$d/run" --tmpdir "$d/tmp" --cni-config-dir "$d/cni" "$@"
}

# Podman's configuration for host I, the busybox image imported, and the weft network
# installed by weft setup-cni (the router must run already).
tn_podman_host() {
    local i=$1 d
    d=$(tn_podman_dir "$i")
    mkdir -p "$d/root" "$d/run" "$d/tmp" "$d/cni" "$TN_CNI_BIN"
    cat > "$d/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:20000", "nproc=32768:32768"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$TN_CNI_BIN", "/usr/lib/cni"]
network_config_dir = "$d/cni"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
CONF
    TN_PODMAN_HOSTS+=("$i")
    tn_busybox_root >/dev/null
    tn_podman "$i" import --change 'CMD ["/bin/sh"]' "$TN_RUN/bb.tar" localhost/bb:latest >/dev/null
    # The plugin beside the CNI's own (portmap for -p), the network's conflist in this host's
    # config directory only.
    tn_weft "$i" setup-cni --bin-dir "$TN_CNI_BIN" --conf-dir "$d/cni" >/dev/null
    ln -sf /usr/lib/cni/portmap "$TN_CNI_BIN/portmap"
}

# A detached busybox container NAME on host I on the weft network; more podman run flags
# before the image with ARGS.
tn_podman_run() {
    local i=$1 name=$2; shift 2
    tn_podman "$i" run -d --pull never --name "$name" --network weft --cap-add NET_RAW "$@" localhost/bb:latest sleep 3600 >/dev/null
}

# The address of container NAME on host I on the weft network (podman inspect).
tn_podman_ip() {
    tn_podman "$1" inspect -f '{{(index .NetworkSettings.Networks "weft").IPAddress}}' "$2"
}

# Run CMD in container NAME on host I.
tn_pexec() { local i=$1 name=$2; shift 2; tn_podman "$i" exec "$name" "$@"; }

tn_runtimes_teardown() {
    local i
    for i in "${TN_PODMAN_HOSTS[@]}"; do
        tn_podman "$i" rm -af -t 0 >/dev/null 2>&1 || true
        tn_podman "$i" pod rm -af -t 0 >/dev/null 2>&1 || true
    done
    TN_PODMAN_HOSTS=()
    if [ "$TN_LIBPOD_CGROUP_NEW" = yes ]; then
        find /sys/fs/cgroup/*/libpod_parent -depth -type d -exec rmdir {} \; 2>/dev/null || true
    fi
}

# cnitool (testnet/tools/cnitool: libcni from Debian's golang-github-appc-cni-dev, driving a
# plugin as runtimes do), built once per run; prints its path.
tn_cnitool() {
    local bin="$TN_RUN/cnitool"
    [ -x "$bin" ] || env GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$TN_RUN/gocache" GOFLAGS= \
        go build -o "$bin" "$TN_ROOT/testnet/tools/cnitool/main.go" >&2
    echo "$bin"
}
