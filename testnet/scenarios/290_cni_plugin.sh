#!/usr/bin/env bash
# The CNI plugin driven through libcni as runtimes drive it (ADD, CHECK, DEL with the cached
# prevResult, DEL twice), in both result formats (1.0.0 and 0.4.0), as an IPAM plugin under the
# standard bridge plugin, fed bad configurations and missing variables (a CNI error object
# each, nothing left behind), DEL while the router is down (freed when it comes back), and
# STATUS, GC and VERSION of spec 1.1.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../runtimes.sh"
command -v go >/dev/null || { echo "FAIL: go is not installed (testnet/install-deps.sh installs it)" >&2; exit 1; }
tn_setup 2
tn_launch_mesh 2 --ipalloc-init consensus=2
cnitool=$(tn_cnitool)
conf="$TN_RUN/h1/cni"
mkdir -p "$TN_CNI_BIN" "$TN_RUN/cni-cache"
tn_weft 1 setup-cni --bin-dir "$TN_CNI_BIN" --conf-dir "$conf" >/dev/null
ln -sf /usr/lib/cni/portmap "$TN_CNI_BIN/portmap"
ln -sf /usr/lib/cni/bridge "$TN_CNI_BIN/bridge"
export CNI_PATH="$TN_CNI_BIN" CNI_CACHE="$TN_RUN/cni-cache"
cni() { tn_exec 1 "$cnitool" "$@"; }
# The plugin run by hand: COMMAND, the config on stdin, more env as K=V arguments.
plugin() { local cmd=$1 config=$2; shift 2; printf '%s' "$config" | tn_exec 1 env -i CNI_COMMAND="$cmd" "$@" "$TN_CNI_BIN/weft"; }
allocated() { tn_weft "$1" report | jq '.ipam.allocated'; }
not() { ! "$@" >/dev/null 2>&1; }
attached() { tn_weft 1 ps | grep -q "$1"; }
attachments() { tn_weft "$1" ps | wc -l; }

peer=$(tn_attach 2 peer --name peer)
c1=$(tn_container 1 c1)
id1=0123456789abcdef0123456789abcdef
result=$(cni add "$conf" weft "$id1" "/run/netns/$c1" eth0 "K8S_POD_NAME=cni1")
tn_log "ADD result: $result"
addr=$(jq -r '.ips[0].address' <<<"$result")
tn_check "ADD gives an address on the interface in the sandbox" \
    jq -e '.interfaces[.ips[0].interface].sandbox == "/run/netns/'"$c1"'" and .interfaces[.ips[0].interface].name == "eth0"' <<<"$result"
tn_check "and the embedded DNS" jq -e '.dns.nameservers == ["169.254.53.53"] and .dns.search == ["weft.local"]' <<<"$result"
tn_check "the container pings a container of h2" tn_ping c1 "$peer"
tn_check_within 5 "its name resolves on h2" tn_weft 2 dns-lookup cni1
tn_check "CHECK passes" cni check "$conf" weft "$id1" "/run/netns/$c1" eth0
ip -n "$c1" addr del "$addr" dev eth0
out=$(cni check "$conf" weft "$id1" "/run/netns/$c1" eth0); rc=$?
tn_check "CHECK fails once the address is gone from the interface: $out" test $rc -ne 0 -a -n "$out"
base=$(allocated 1)
tn_check "DEL with prevResult succeeds" cni del "$conf" weft "$id1" "/run/netns/$c1" eth0
tn_check "and frees the address" test "$(allocated 1)" = "$((base - 1))"
tn_check_within 5 "and the name, on h2 too" not tn_weft 2 dns-lookup cni1
tn_check "DEL twice succeeds" cni del "$conf" weft "$id1" "/run/netns/$c1" eth0

# The 0.4.0 result format: ips carry "version": "4".
old="$TN_RUN/h1/cni-old"
mkdir -p "$old"
jq '.cniVersion = "0.4.0" | .name = "weft-old"' "$conf/10-weft.conflist" > "$old/weft-old.conflist"
result=$(cni add "$old" weft-old "$id1" "/run/netns/$c1" eth0)
tn_check "a 0.4.0 network gets a 0.4.0 result" jq -e '.cniVersion == "0.4.0" and .ips[0].version == "4"' <<<"$result"
tn_check "CHECK of 0.4.0 passes" cni check "$old" weft-old "$id1" "/run/netns/$c1" eth0
tn_check "DEL of 0.4.0" cni del "$old" weft-old "$id1" "/run/netns/$c1" eth0

# IPAM type weft under the standard bridge plugin.
ipamdir="$TN_RUN/h1/cni-ipam"
mkdir -p "$ipamdir"
cat > "$ipamdir/other.conflist" <<CONF
{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge", "bridge": "cnibr0", "ipam": {"type": "weft"}}]}
CONF
c2=$(tn_container 1 c2)
result=$(cni add "$ipamdir" other "$id1" "/run/netns/$c2" eth0)
baddr=$(jq -r '.ips[0].address' <<<"$result")
tn_check "the bridge plugin with IPAM type weft gets an address from the ring ($baddr)" \
    test "$(tn_exec 1 curl -sf "http://127.0.0.1:6784/ip/$id1:eth0")" = "$baddr"
tn_check "the bridge plugin put it on the container" bash -c "ip -n $c2 -4 -o addr show eth0 | grep -q ' ${baddr} '"
tn_check "DEL frees it" cni del "$ipamdir" other "$id1" "/run/netns/$c2" eth0
tn_check "nothing held for it any more" not tn_exec 1 curl -sf "http://127.0.0.1:6784/ip/$id1:eth0"
ip netns exec "$(tn_ns 1)" ip link del cnibr0 2>/dev/null || true

# Bad input: a CNI error object with the spec's code, exit status 1, nothing left behind.
base=$(allocated 1); before=$(attachments 1)
good='{"cniVersion":"1.0.0","name":"weft","type":"weft","ipam":{"type":"weft"}}'
env_ok=(CNI_CONTAINERID=bad0 "CNI_NETNS=/run/netns/$c1" CNI_IFNAME=eth0)
expect_error() {
    local want=$1 what=$2 out rc; shift 2
    out=$("$@"); rc=$?
    if [ $rc -eq 1 ] && [ "$(jq -r '.code' <<<"$out" 2>/dev/null)" = "$want" ] && [ -n "$(jq -r '.msg' <<<"$out")" ]; then
        tn_log "ok: $what: code $want, $(jq -r .msg <<<"$out")"
    else
        echo "FAIL: $what: wanted code $want and exit 1, got exit $rc: $out" >&2; tn_dump; exit 1
    fi
}
expect_error 4 "no CNI_COMMAND" plugin "" "$good" "${env_ok[@]}"
expect_error 4 "an unknown command" plugin FLY "$good" "${env_ok[@]}"
expect_error 6 "a configuration that is not JSON" plugin ADD '{"cniVersion":' "${env_ok[@]}"
expect_error 1 "an unsupported version" plugin ADD '{"cniVersion":"2.0.0","name":"weft","type":"weft"}' "${env_ok[@]}"
expect_error 7 "another IPAM type" plugin ADD '{"cniVersion":"1.0.0","name":"weft","type":"weft","ipam":{"type":"host-local"}}' "${env_ok[@]}"
expect_error 7 "a bad subnet" plugin ADD '{"cniVersion":"1.0.0","name":"weft","type":"weft","ipam":{"type":"weft","subnet":"banana"}}' "${env_ok[@]}"
expect_error 4 "no CNI_NETNS on ADD" plugin ADD "$good" CNI_CONTAINERID=bad0 CNI_IFNAME=eth0
expect_error 4 "no CNI_CONTAINERID" plugin ADD "$good" "CNI_NETNS=/run/netns/$c1" CNI_IFNAME=eth0
expect_error 4 "a bad CNI_IFNAME" plugin ADD "$good" CNI_CONTAINERID=bad0 "CNI_NETNS=/run/netns/$c1" CNI_IFNAME=a/b
expect_error 4 "a malformed CNI_ARGS" plugin ADD "$good" "${env_ok[@]}" CNI_ARGS="IgnoreUnknown=1;junk"
expect_error 100 "a namespace that does not exist" plugin ADD "$good" CNI_CONTAINERID=bad0 CNI_NETNS=/run/netns/nope CNI_IFNAME=eth0
expect_error 100 "an IP= outside the range without a prefix" plugin ADD "$good" "${env_ok[@]}" CNI_ARGS="IP=10.255.255.254"
expect_error 100 "an IP= another host's container holds" plugin ADD "$good" "${env_ok[@]}" CNI_ARGS="IP=$peer"
expect_error 7 "CHECK without prevResult" plugin CHECK "$good" "${env_ok[@]}"
tn_check "after the bad calls no address is held" test "$(allocated 1)" = "$base"
tn_check "and no attachment made" test "$(attachments 1)" = "$before"
tn_check "nor a link in the namespace" not ip -n "$c1" link show eth0

# STATUS, VERSION, GC.
tn_check "STATUS with the router up succeeds" plugin STATUS "$good"
tn_check "VERSION lists 1.0.0 and 1.1.0" bash -c "printf '{\"cniVersion\":\"1.0.0\"}' | CNI_COMMAND=VERSION $TN_CNI_BIN/weft | jq -e '.supportedVersions | index(\"1.0.0\") and index(\"1.1.0\")'"
cni add "$conf" weft "$id1" "/run/netns/$c1" eth0 >/dev/null
c3=$(tn_container 1 c3)
id3=fedcba9876543210fedcba9876543210
cni add "$conf" weft "$id3" "/run/netns/$c3" eth0 >/dev/null
gc='{"cniVersion":"1.1.0","name":"weft","type":"weft","ipam":{"type":"weft"},"cni.dev/valid-attachments":[{"containerID":"'"$id1"'","ifname":"eth0"}]}'
tn_check "GC succeeds" plugin GC "$gc"
tn_check "GC removed the attachment the runtime no longer lists" not attached "$id3"
tn_check "and kept the one it lists" attached "$id1"

# DEL with the router down succeeds; the router frees the attachment when it comes back.
base=$(allocated 1)
tn_weft 1 stop
tn_check "DEL with the router down succeeds" cni del "$conf" weft "$id1" "/run/netns/$c1" eth0
expect_error 11 "ADD with the router down says what to do" plugin ADD "$good" "${env_ok[@]}"
expect_error 50 "STATUS with the router down" plugin STATUS "$good"
ip netns del "$c1"
tn_launch 1 "$(tn_ip 2)" >/dev/null
tn_check "relaunched, the router freed the attachment whose namespace went" not attached "$id1"
tn_check "and its address" test "$(allocated 1)" = "$((base - 1))"

# setup-cni --remove takes the conflist and the plugin away (the other weft conflist kept it
# until the last one went).
tn_weft 1 setup-cni --network weft2 --bin-dir "$TN_CNI_BIN" --conf-dir "$conf" >/dev/null
tn_weft 1 setup-cni --remove --bin-dir "$TN_CNI_BIN" --conf-dir "$conf"
tn_check "--remove of one network keeps the plugin for the other" test ! -e "$conf/10-weft.conflist" -a -x "$TN_CNI_BIN/weft"
tn_weft 1 setup-cni --remove --network weft2 --bin-dir "$TN_CNI_BIN" --conf-dir "$conf"
tn_check "--remove of the last one takes the plugin too" test ! -e "$conf/10-weft2.conflist" -a ! -e "$TN_CNI_BIN/weft"
