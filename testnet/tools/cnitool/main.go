// cnitool drives a CNI plugin through libcni exactly as runtimes do (podman, containerd):
// the network's conflist from a directory, results cached so DEL and CHECK get prevResult.
//
//	cnitool add|check|del CONFDIR NETWORK CONTAINERID NETNS IFNAME [K=V;...]
//
// CNI_PATH lists the plugin directories and CNI_CACHE the cache directory. ADD prints the
// result; an error prints the plugin's message and exits 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) < 7 {
		fmt.Fprintln(os.Stderr, "usage: cnitool add|check|del CONFDIR NETWORK CONTAINERID NETNS IFNAME [K=V;...]")
		os.Exit(2)
	}
	cmd, dir, network, id, netns, ifname := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	list, err := libcni.LoadConfList(dir, network)
	if err != nil {
		fail(err)
	}
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifname,
		CapabilityArgs: map[string]interface{}{"aliases": map[string][]string{network: {id[:12]}}}}
	if len(os.Args) > 7 {
		for _, kv := range strings.Split(os.Args[7], ";") {
			if p := strings.SplitN(kv, "=", 2); len(p) == 2 {
				rt.Args = append(rt.Args, [2]string{p[0], p[1]})
			}
		}
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), os.Getenv("CNI_CACHE"), nil)
	ctx := context.Background()
	switch cmd {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		out, _ := json.Marshal(result)
		fmt.Println(string(out))
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown command %s", cmd))
	}
}

func fail(err error) {
	fmt.Println(err.Error())
	os.Exit(1)
}
