package composecheck

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Hardening is one container's confinement, read back twice: what the
// engine was told (docker inspect, docker network inspect) and what the
// kernel applies to each of the container's processes (/proc/PID/status
// and the routes of its network namespace).
type Hardening struct {
	Service    string
	User       string   // the container's user, as the engine runs it
	UIDs       []int    // every uid (real, effective, saved, file system) of its processes
	Procs      int      // its processes: the main one and its children
	ReadOnly   bool     // read-only root file system
	CapDrop    []string // as the engine was told
	CapAdd     []string
	CapEff     uint64 // effective capabilities, of all its processes together
	CapBnd     uint64 // bounding set: what any of them could ever gain
	NNPOption  bool   // security_opt no-new-privileges
	NoNewPrivs bool   // the kernel's no_new_privs flag, on every process
	PidsLimit  int64
	Privileged bool
	Networks   []Network
	Route      string   // the default route's gateway in its network namespace ("" when none)
	Published  []string // host ports bound to the container's ports
}

// Network is one network a container is on.
type Network struct {
	Name     string
	Internal bool // the engine's internal flag: no route out of it
}

// readHardening reads service name's container back. A container that
// is not running has no processes to read: strict makes that an error;
// otherwise only what the engine was told is read (Procs stays 0).
func (p Project) readHardening(name string, strict bool) (Hardening, error) {
	ct, err := p.Service(name)
	if err != nil {
		return Hardening{}, err
	}
	running := ct.State.Running && ct.State.Pid != 0
	if !running && strict {
		return Hardening{}, fmt.Errorf("%s is not running (%s), so its processes cannot be read; its log: %s", name, ct.State.Status, p.LastLog(name, 3))
	}
	h := Hardening{Service: name, User: ct.Config.User, ReadOnly: ct.HostConfig.ReadonlyRootfs,
		CapDrop: ct.HostConfig.CapDrop, CapAdd: ct.HostConfig.CapAdd, Privileged: ct.HostConfig.Privileged, NoNewPrivs: true}
	h.NNPOption = slices.ContainsFunc(ct.HostConfig.SecurityOpt, func(o string) bool {
		return o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true"
	})
	if ct.HostConfig.PidsLimit != nil {
		h.PidsLimit = *ct.HostConfig.PidsLimit
	}
	for port, binds := range ct.HostConfig.PortBindings {
		for _, b := range binds {
			h.Published = append(h.Published, b.HostPort+"->"+port)
		}
	}
	slices.Sort(h.Published)
	if !running {
		for netName := range ct.NetworkSettings.Networks {
			h.Networks = append(h.Networks, Network{Name: netName, Internal: internal(netName)})
		}
		return h, nil
	}
	for _, pid := range append([]int{ct.State.Pid}, children(ct.State.Pid)...) {
		st, err := procStatus(pid)
		if err != nil {
			return Hardening{}, fmt.Errorf("%s: %w", name, err)
		}
		h.Procs++
		for _, u := range st.uids {
			if !slices.Contains(h.UIDs, u) {
				h.UIDs = append(h.UIDs, u)
			}
		}
		h.CapEff |= st.capEff
		h.CapBnd |= st.capBnd
		h.NoNewPrivs = h.NoNewPrivs && st.noNewPrivs
	}
	if h.Route, err = defaultGateway(ct.State.Pid); err != nil {
		return Hardening{}, fmt.Errorf("%s: %w", name, err)
	}
	for netName := range ct.NetworkSettings.Networks {
		h.Networks = append(h.Networks, Network{Name: netName, Internal: internal(netName)})
	}
	slices.SortFunc(h.Networks, func(a, b Network) int { return strings.Compare(a.Name, b.Name) })
	return h, nil
}

// internal reports whether the engine keeps network name internal.
func internal(name string) bool {
	out, err := Docker("network", "inspect", "-f", "{{.Internal}}", name)
	return err == nil && strings.TrimSpace(out) == "true"
}

// Problems returns every way h falls short: all capabilities dropped
// and none left to any process, no-new-privileges set and in force, a
// user other than root for every process, a read-only root, a process
// limit; an API (publishes false) only on internal networks and
// publishing nothing; the balancer publishing port 9999.
func (h Hardening) Problems(balancer bool) []string {
	var bad []string
	if !slices.ContainsFunc(h.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) {
		bad = append(bad, fmt.Sprintf("%s does not drop all capabilities (cap_drop %v)", h.Service, h.CapDrop))
	}
	if len(h.CapAdd) > 0 || h.CapEff != 0 || h.CapBnd != 0 || h.Privileged {
		bad = append(bad, fmt.Sprintf("%s keeps capabilities: cap_add %v, effective %#x, bounding %#x, privileged %v", h.Service, h.CapAdd, h.CapEff, h.CapBnd, h.Privileged))
	}
	if !h.NNPOption || !h.NoNewPrivs {
		bad = append(bad, fmt.Sprintf("%s lacks no-new-privileges (security_opt %v, the kernel's flag on every process %v)", h.Service, h.NNPOption, h.NoNewPrivs))
	}
	if slices.Contains(h.UIDs, 0) || h.User == "" || h.User == "0" || h.User == "root" || strings.HasPrefix(h.User, "0:") || strings.HasPrefix(h.User, "root:") {
		bad = append(bad, fmt.Sprintf("%s runs as root (user %q, uids %v)", h.Service, h.User, h.UIDs))
	}
	if !h.ReadOnly {
		bad = append(bad, h.Service+" has a writable root file system")
	}
	if h.PidsLimit <= 0 {
		bad = append(bad, h.Service+" has no process limit (pids)")
	}
	if balancer {
		if !slices.ContainsFunc(h.Published, func(p string) bool { return strings.HasPrefix(p, "9999->9999/") }) {
			bad = append(bad, fmt.Sprintf("%s does not publish port 9999 (it publishes %v)", h.Service, h.Published))
		}
		return bad
	}
	if len(h.Networks) == 0 {
		bad = append(bad, h.Service+" is on no network the engine reports")
	}
	for _, n := range h.Networks {
		if !n.Internal {
			bad = append(bad, fmt.Sprintf("%s is on network %s, which is not internal: it has a route out", h.Service, n.Name))
		}
	}
	if len(h.Published) > 0 {
		bad = append(bad, fmt.Sprintf("%s publishes %v; only the balancer may", h.Service, h.Published))
	}
	return bad
}

// Line says what was read back, on one line.
func (h Hardening) Line(project string, enforced string) string {
	adds := "none"
	if len(h.CapAdd) > 0 {
		adds = strings.Join(h.CapAdd, ",")
	}
	nnp := "no-new-privileges"
	if !h.NNPOption || !h.NoNewPrivs {
		nnp = fmt.Sprintf("no-new-privileges MISSING (option %v, kernel %v)", h.NNPOption, h.NoNewPrivs)
	}
	root := "read-only root"
	if !h.ReadOnly {
		root = "WRITABLE root"
	}
	var nets []string
	anyInternal := false
	for _, n := range h.Networks {
		s := strings.TrimPrefix(n.Name, project+"_") + " (not internal)"
		if n.Internal {
			s, anyInternal = strings.TrimPrefix(n.Name, project+"_")+" (internal)", true
		}
		nets = append(nets, s)
	}
	route := "no default route"
	if h.Route != "" {
		route = "default route via " + h.Route
	}
	if anyInternal {
		route += "; internal networks " + enforced
	}
	pub := "nothing"
	if len(h.Published) > 0 {
		pub = strings.Join(h.Published, ", ")
	}
	return fmt.Sprintf("%s: user %s (uids %v over %d processes), %s, cap_drop %s cap_add %s (effective %#x, bounding %#x), %s, pids limit %d, networks %s (%s), publishes %s",
		h.Service, h.User, h.UIDs, h.Procs, root, strings.Join(h.CapDrop, ","), adds, h.CapEff, h.CapBnd, nnp, h.PidsLimit, strings.Join(nets, ", "), route, pub)
}

// status is what the check reads of /proc/PID/status.
type status struct {
	uids           []int
	capEff, capBnd uint64
	noNewPrivs     bool
}

func procStatus(pid int) (status, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return status{}, fmt.Errorf("reading process %d: %w (the check runs on the engine's host, as root)", pid, err)
	}
	defer f.Close()
	var st status
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		val = strings.TrimSpace(val)
		switch key {
		case "Uid":
			for _, u := range strings.Fields(val) {
				n, err := strconv.Atoi(u)
				if err != nil {
					return status{}, fmt.Errorf("process %d: Uid %q", pid, val)
				}
				st.uids = append(st.uids, n)
			}
		case "CapEff":
			st.capEff, err = strconv.ParseUint(val, 16, 64)
		case "CapBnd":
			st.capBnd, err = strconv.ParseUint(val, 16, 64)
		case "NoNewPrivs":
			st.noNewPrivs = val == "1"
		}
		if err != nil {
			return status{}, fmt.Errorf("process %d: %s %q: %w", pid, key, val, err)
		}
	}
	if len(st.uids) == 0 {
		return status{}, fmt.Errorf("process %d: no Uid line in its status", pid)
	}
	return st, sc.Err()
}

// children returns the processes whose parent is pid (nginx's workers).
func children(pid int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if n, err := strconv.Atoi(strings.Fields(string(b))[0]); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// defaultGateway returns the default route's gateway in pid's network
// namespace, or "" when it has none.
func defaultGateway(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/route", pid))
	if err != nil {
		return "", fmt.Errorf("reading the routes of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		g, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil {
			return "", fmt.Errorf("process %d: route gateway %q", pid, f[2])
		}
		// The kernel prints the address in host (little-endian) order.
		return fmt.Sprintf("%d.%d.%d.%d", g&0xff, g>>8&0xff, g>>16&0xff, g>>24), nil
	}
	return "", nil
}

// engineFirewall says whether the engine enforces internal networks:
// dockerd keeps them from routing out with firewall rules, which
// --iptables=false turns off.
func engineFirewall() string {
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, c := range procs {
		if b, err := os.ReadFile(c); err != nil || strings.TrimSpace(string(b)) != "dockerd" {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(filepath.Dir(c), "cmdline"))
		if strings.Contains(string(cmd), "--iptables=false") {
			return "NOT enforced here: dockerd runs with --iptables=false, without the rules that keep them in"
		}
		return "enforced by the engine's firewall rules"
	}
	return "the engine's firewall setting unknown (no dockerd process seen)"
}
