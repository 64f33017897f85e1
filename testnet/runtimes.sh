#!/usr/bin/env bash
# Container runtimes inside testnet hosts (source after lib.sh). Each host gets its own podman
# storage, run and tmp directories, containers.conf and CNI config directory, so hosts share
# nothing but the machine; podman and the plugin it runs live in the host's network namespace
# (nsenter --net: `ip netns exec` would remount /sys and hide the cgroup mounts).
#
#   tn_busybox_root           a busybox root tree (built once per run), printed
#   tn_runtime_exec I CMD...  CMD in host I with its podman and docker environment (the weft CLI too)
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

# Host I's environment for podman (its storage and configuration) and the weft CLI, in its
# network namespace: CMD... runs there.
tn_runtime_exec() {
    local i=$1 d; shift
    d=$(tn_podman_dir "$i")
    nsenter --net="/run/netns/$(tn_ns "$i")" env PATH="$TN_BIN:$PATH" WEFT_STATE_DIR="$(tn_state "$i")" \
        CONTAINERS_CONF="$d/containers.conf" CONTAINERS_STORAGE_CONF="$d/storage.conf" \
        DOCKER_HOST="unix://$(tn_docker_socket "$i")" "$@"
}

tn_podman() { local i=$1; shift; tn_runtime_exec "$i" podman "$@"; }

# Podman's configuration for host I, the busybox image imported, and the weft network
# installed by weft setup-cni (the router must run already).
tn_podman_host() {
    local i=$1 d
    d=$(tn_podman_dir "$i")
    mkdir -p "$d/root" "$d/run" "$d/tmp" "$d/cni" "$TN_CNI_BIN"
    cat > "$d/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$d/root"
runroot = "$d/run"
CONF
    cat > "$d/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:20000", "nproc=32768:32768"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$TN_CNI_BIN", "/usr/lib/cni"]
network_config_dir = "$d/cni"
[engine]
runtime = "runc"
tmp_dir = "$d/tmp"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
CONF
    TN_PODMAN_HOSTS+=("$i")
    tn_busybox_root >/dev/null
    tn_podman "$i" import --change 'CMD ["/bin/sh"]' "$TN_RUN/bb.tar" localhost/bb:latest >/dev/null 2>&1
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
    tn_docker_teardown
    for i in "${TN_PODMAN_HOSTS[@]}"; do
        tn_podman "$i" rm -af -t 0 >/dev/null 2>&1 || true
        tn_podman "$i" pod rm -af -t 0 >/dev/null 2>&1 || true
    done
    TN_PODMAN_HOSTS=()
    if [ "$TN_LIBPOD_CGROUP_NEW" = yes ]; then
        find /sys/fs/cgroup/*/libpod_parent -depth -type d -exec rmdir {} \; 2>/dev/null || true
    fi
    for d in "${TN_RUNTIME_DIRS_NEW[@]}"; do
        # Only once nothing runs there any more (another engine's run dir is not ours).
        [ -z "$(find "$d" -type s 2>/dev/null | head -1)" ] && rm -rf "$d"
    done
}

# cnitool (testnet/tools/cnitool: libcni from Debian's golang-github-appc-cni-dev, driving a
# plugin as runtimes do), built once per run; prints its path.
tn_cnitool() {
    local bin="$TN_RUN/cnitool"
    [ -x "$bin" ] || env GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$TN_RUN/gocache" GOFLAGS= \
        go build -o "$bin" "$TN_ROOT/testnet/tools/cnitool/main.go" >&2
    echo "$bin"
}

# Docker: one engine per host, in a private mount namespace that only enters the host's
# network namespace (ip netns exec would remount /sys and hide the cgroups), with its own
# data, exec root, socket, cgroup parent and plugins directory (bind-mounted on
# /run/docker/plugins for it alone), so each engine finds its host's plugin as `weft`.
#
#   tn_docker_host I      the engine of host I started, the busybox image imported
#   tn_docker I ARGS...   the docker CLI of host I's engine
#   tn_docker_stop I      the engine stopped (by its pid), its containers with it
#   tn_docker_start I     started again

TN_DOCKER_HOSTS=()
# The machine-wide run directories the runtimes make: removed at the end when this run made them.
TN_RUNTIME_DIRS_NEW=()
for d in /run/docker /run/containerd /run/runc /run/mount /run/libpod /run/cni; do
    [ -e "$d" ] || TN_RUNTIME_DIRS_NEW+=("$d")
done
tn_docker_dir() { echo "$TN_RUN/h$1/docker"; }
tn_docker_socket() { echo "/run/$(tn_ns "$1")-docker.sock"; }
tn_docker_plugin_socket() { echo "$(tn_docker_dir "$1")/plugins/weft.sock"; }
tn_docker() { local i=$1; shift; /usr/bin/docker -H "unix://$(tn_docker_socket "$i")" "$@"; }

tn_docker_start() {
    local i=$1 d ns
    d=$(tn_docker_dir "$i"); ns=$(tn_ns "$i")
    mkdir -p /run/docker/plugins
    unshare --mount --propagation slave sh -c "mount --bind '$d/plugins' /run/docker/plugins && exec nsenter --net=/run/netns/$ns \
        dockerd --config-file '$d/daemon.json' --data-root '$d/data' --exec-root '/run/$ns-docker' \
        --pidfile '/run/$ns-docker.pid' -H 'unix://$(tn_docker_socket "$i")' --bridge=none --iptables=false \
        --ip6tables=false --ip-masq=false --ip-forward=false" >>"$d/dockerd.log" 2>&1 &
    echo $! > "$d/dockerd.pid"
    tn_wait 30 curl -sf --unix-socket "$(tn_docker_socket "$i")" http://docker/_ping || {
        echo "FAIL: dockerd of h$i did not answer" >&2; tail -20 "$d/dockerd.log" >&2; return 1; }
}

tn_docker_host() {
    local i=$1 d
    d=$(tn_docker_dir "$i")
    mkdir -p "$d/plugins" "$d/data"
    cat > "$d/daemon.json" <<JSON
{"storage-driver": "overlay2", "cgroup-parent": "/$(tn_ns "$i")", "deprecated-key-path": "$d/key.json",
 "init": true, "shutdown-timeout": 5, "dns": ["169.254.53.53"], "dns-search": ["weft.local"]}
JSON
    TN_DOCKER_HOSTS+=("$i")
    tn_docker_start "$i" || return 1
    tn_busybox_root >/dev/null
    tn_docker "$i" import "$TN_RUN/bb.tar" localhost/bb:latest >/dev/null
}

tn_docker_stop() {
    local i=$1 pid
    pid=$(cat "$(tn_docker_dir "$i")/dockerd.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$(tn_docker_dir "$i")/dockerd.pid"
}

# The engines' containers, networks and the engines themselves, in that order (with the
# plugin still there: without it every call retries for 15 s), then what they leave behind.
tn_docker_teardown() {
    local i ns
    for i in "${TN_DOCKER_HOSTS[@]}"; do
        tn_docker "$i" rm -f $(tn_docker "$i" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
        tn_docker "$i" network rm $(tn_docker "$i" network ls -q --filter driver=weft 2>/dev/null) >/dev/null 2>&1 || true
    done
    for i in "${TN_DOCKER_HOSTS[@]}"; do tn_docker_stop "$i"; done
    for i in "${TN_DOCKER_HOSTS[@]}"; do
        ns=$(tn_ns "$i")
        rm -rf "/run/$ns-docker" "/run/$ns-docker.pid" "$(tn_docker_socket "$i")"
        find /sys/fs/cgroup/*/"$ns" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    TN_DOCKER_HOSTS=()
    return 0
}
