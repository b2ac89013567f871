# SPDX-License-Identifier: GPL-2.0
"""report.py - the table (stdout) and the JSON file of bench.py.

Input: the results (one per metric and path, the values of every
repetition), every zero-loss trial, the machine. Output: for each metric the
median [min-max] of every path, vnat/kernel (against the better of the two
kernel paths) and vnat/ceiling, then the issues' targets, met or missed and
by how much.
"""
import json
import statistics
import time

# Columns, and which paths fill them: the routed metrics come from the
# routed-only paths (ip_forward alone, vnat without --snat), the bridged
# ones from the bridge paths (the kernel's bridge, vnat on it).
COLUMNS = [
    ("kernel", ("kernel", "kroute", "kbridge", "kveth", "ktap")),
    ("nft", ("nft",)),
    ("vnat", ("vnat", "vroute", "vbridge", "vveth", "vtap")),
    ("ceiling", ("ceiling", "dveth", "dtap")),
]
COL_TITLES = {
    "kernel": "kernel (iptables)",
    "nft": "kernel (nftables)",
    "vnat": "vnat",
    "ceiling": "ceiling (bare XDP; no router)",
}

# Sections of the table: (title, [(name, label, unit, scale, higher is
# better, metric whose ceiling figure stands in when the ceiling was not
# run for this one: it does no lookup, so flows and routes mean nothing
# to it)]).
SECTIONS = [
    ("zero-loss forwarding rate (RFC 2544: highest rate with loss <= 0.1 %)", [
        ("nat64", "64B UDP via NAT, 1 flow", "Mpps", 1e-6, True, None),
        ("nat1518", "1518B UDP via NAT, 1 flow", "Mpps", 1e-6, True, None),
        ("routed64", "64B UDP routed, no NAT", "Mpps", 1e-6, True, "nat64"),
        ("bridged64", "64B UDP bridged, guest to guest", "Mpps", 1e-6, True, "nat64"),
        ("flows_1024", "64B via NAT, 1k flows", "Mpps", 1e-6, True, "nat64"),
        ("flows_65536", "64B via NAT, 64k flows", "Mpps", 1e-6, True, "nat64"),
        ("flows_1048576", "64B via NAT, 1M flows", "Mpps", 1e-6, True, "nat64"),
        ("newflows", "new flows/s (each frame a new flow)", "M/s", 1e-6, True, None),
    ]),
    ("forwarding rate at full load (generator at its maximum, RFC 2889)", [
        ("nat64_fwd", "64B UDP via NAT, 1 flow", "Mpps", 1e-6, True, None),
        ("nat1518_fwd", "1518B UDP via NAT, 1 flow", "Mpps", 1e-6, True, None),
        ("routed64_fwd", "64B UDP routed, no NAT", "Mpps", 1e-6, True, "nat64_fwd"),
        ("bridged64_fwd", "64B UDP bridged, guest to guest", "Mpps", 1e-6, True, "nat64_fwd"),
        ("flows_1024_fwd", "64B via NAT, 1k flows", "Mpps", 1e-6, True, "nat64_fwd"),
        ("flows_65536_fwd", "64B via NAT, 64k flows", "Mpps", 1e-6, True, "nat64_fwd"),
        ("flows_1048576_fwd", "64B via NAT, 1M flows", "Mpps", 1e-6, True, "nat64_fwd"),
        ("newflows_fwd", "new flows/s (each frame a new flow)", "M/s", 1e-6, True, None),
    ]),
    ("cost per packet (lower is better)", [
        ("router_ns_nat64", "router CPU, 64B via NAT, full load", "ns", 1, False, None),
        ("bpf_ns_nat64", "BPF run time, 64B via NAT (bpf_stats)", "ns", 1, False, None),
        ("run_ns_nat64_out", "BPF test run, 64B via NAT, out (established)", "ns", 1, False, None),
        ("run_ns_nat64_in", "BPF test run, 64B via NAT, reply in", "ns", 1, False, None),
        ("router_ns_routed64", "router CPU, 64B routed", "ns", 1, False, "router_ns_nat64"),
        ("bpf_ns_routed64", "BPF run time, 64B routed", "ns", 1, False, "bpf_ns_nat64"),
        ("run_ns_routed64_out", "BPF test run, 64B routed", "ns", 1, False, "run_ns_nat64_out"),
        ("router_ns_bridged64", "router CPU, 64B bridged", "ns", 1, False, "router_ns_nat64"),
        ("bpf_ns_bridged64", "BPF run time, 64B bridged", "ns", 1, False, "bpf_ns_nat64"),
        ("run_ns_bridged64_out", "BPF test run, 64B bridged", "ns", 1, False, "run_ns_nat64_out"),
        ("router_ns_flows_1048576", "router CPU, 64B via NAT, 1M flows", "ns", 1, False,
         "router_ns_nat64"),
        ("bpf_ns_flows_1048576", "BPF run time, 64B via NAT, 1M flows", "ns", 1, False,
         "bpf_ns_nat64"),
        ("router_ns_newflows", "router CPU per new flow", "ns", 1, False, None),
        ("bpf_ns_newflows", "BPF run time per new flow", "ns", 1, False, None),
    ]),
    ("memory per tracked flow (lower is better)", [
        ("mem_flow", "a flow with its own mapping", "bytes", 1, False, None),
        ("mem_vnat_ct", "vnat_ct entry", "bytes", 1, False, None),
        ("mem_vnat_mappings", "vnat_mappings entry", "bytes", 1, False, None),
        ("mem_vnat_ports", "vnat_ports entry", "bytes", 1, False, None),
    ]),
]


def guest_rows(g):
    """The real-endpoint rows of guests on G (veth or tap)."""
    rows = []
    for n in (1, 4):
        for d, how in (("out", "guest -> outside"), ("in", "outside -> guest")):
            rows.append(("%s_tcp%d_%s" % (g, n, d), "bulk TCP, %d stream%s, %s" %
                         (n, "s" if n > 1 else "", how), "Gbit/s", 1e-9, True, None))
            rows.append(("%s_cpu_gb_tcp%d_%s" % (g, n, d), "  CPU per GB moved (whole machine)",
                         "s/GB", 1, False, None))
    rows += [
        ("%s_udp64" % g, "64B UDP from a socket, received/s", "Mpps", 1e-6, True, None),
        ("%s_cpu_ns_udp64" % g, "  CPU per received packet (whole machine)", "ns", 1, False,
         None),
        ("%s_rr" % g, "TCP request/response, 1 conn., 1 byte", "k/s", 1e-3, True, None),
        ("%s_crr" % g, "TCP connections/s (connect, 1 byte each way, close)", "k/s", 1e-3, True,
         None),
        ("%s_newflows" % g, "new UDP flows/s (a new 5-tuple per datagram), received", "k/s",
         1e-3, True, None),
        ("%s_cpu_ns_newflows" % g, "  CPU per new flow (whole machine)", "ns", 1, False, None),
        ("%s_bpf_ns_newflows" % g, "  vnat's BPF time per new flow (bpf_stats)", "ns", 1, False,
         None),
    ]
    return rows


SECTIONS += [
    ("real endpoints: veth guests, libvirt host, nothing tuned", guest_rows("veth")),
    ("real endpoints: tap guests (vnet headers), libvirt host, nothing tuned",
     guest_rows("tap")),
]
METRICS = [m for _, ms in SECTIONS for m in ms]
SECTION_OF = {m[0]: title for title, ms in SECTIONS for m in ms}


def load_lines(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def summary(values):
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def fmt(x, scale):
    v = x * scale
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    if abs(v) >= 1:
        return "%.2f" % v
    return "%.3f" % v


def cell(s, scale, note=""):
    if not s:
        return "-"
    text = fmt(s["median"], scale)
    if len(s["values"]) > 1 and s["min"] != s["max"]:
        text += " [%s-%s]" % (fmt(s["min"], scale), fmt(s["max"], scale))
    if "generator-limited" in note:
        text = ">=" + text
    if s.get("stand_in"):
        text += " *"
    return text


def build(results):
    by = {}
    for r in results:
        by.setdefault(r["metric"], {})[r["path"]] = r
    table = []
    for name, label, unit, scale, higher, ceil_from in METRICS:
        if name not in by:
            continue
        row = {"metric": name, "section": SECTION_OF[name], "label": label, "unit": unit,
               "scale": scale,
               "higher_is_better": higher, "paths": {}, "notes": {}}
        for col, paths in COLUMNS:
            for p in paths:
                r = by[name].get(p)
                if r:
                    row["paths"][col] = summary(r["values"])
                    row["paths"][col]["path"] = p
                    if r.get("note"):
                        row["notes"][col] = r["note"]
        if "ceiling" not in row["paths"] and ceil_from and ceil_from in by:
            r = by[ceil_from].get("ceiling")
            if r:
                row["paths"]["ceiling"] = summary(r["values"])
                row["paths"]["ceiling"]["path"] = "ceiling"
                row["paths"]["ceiling"]["stand_in"] = ceil_from
                row["notes"]["ceiling"] = "the ceiling's %s figure (it does no lookup)" % ceil_from
        v = row["paths"].get("vnat")
        kernels = [row["paths"][c]["median"] for c in ("kernel", "nft") if c in row["paths"]]
        row["ratio_vnat_kernel"] = None
        row["ratio_vnat_ceiling"] = None
        if v and kernels:
            best = max(kernels) if higher else min(kernels)
            row["ratio_vnat_kernel"] = v["median"] / best if best else None
        c = row["paths"].get("ceiling")
        if v and c and c["median"]:
            row["ratio_vnat_ceiling"] = v["median"] / c["median"]
        table.append(row)
    return table


def ratio_text(r):
    return "-" if r is None else "%.2f" % r


def print_table(table, out):
    head = ["metric", "unit"] + [COL_TITLES[c] for c, _ in COLUMNS] + ["vnat/kernel", "vnat/ceiling"]
    rows = []
    section = None
    for row in table:
        if row["section"] != section:
            section = row["section"]
            rows.append(None)
            rows.append([section])
        rows.append(["  " + row["label"], row["unit"]] +
                    [cell(row["paths"].get(c), row["scale"], row["notes"].get(c, ""))
                     for c, _ in COLUMNS] +
                    [ratio_text(row["ratio_vnat_kernel"]), ratio_text(row["ratio_vnat_ceiling"])])
    body = [r for r in rows if r and len(r) > 1]
    widths = [max(len(str(r[i])) for r in body + [head]) for i in range(len(head))]
    print("  ".join(h.ljust(widths[i]) for i, h in enumerate(head)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        if r is None:
            continue
        if len(r) == 1:
            print(r[0], file=out)
            continue
        print("  ".join(str(x).ljust(widths[i]) for i, x in enumerate(r)).rstrip(), file=out)


def get(table, metric, col="vnat"):
    for row in table:
        if row["metric"] == metric:
            s = row["paths"].get(col)
            return s["median"] if s else None
    return None


def row_of(table, metric):
    for row in table:
        if row["metric"] == metric:
            return row
    return {}


def targets(table):
    t = []

    def add(name, value, goal, ok_if_ge, fmt_value):
        if value is None:
            t.append({"target": name, "value": None, "goal": goal, "met": None})
            return
        met = value >= goal if ok_if_ge else value <= goal
        t.append({"target": name, "value": value, "goal": goal, "met": met,
                  "text": fmt_value(value)})

    pct = lambda v: "%.0f %%" % (v * 100)
    times = lambda v: "%.2fx" % v
    for suffix, how in (("", "zero-loss"), ("_fwd", "full-load")):
        add("NAT %s rate >= 85 %% of the ceiling" % how,
            row_of(table, "nat64" + suffix).get("ratio_vnat_ceiling"), 0.85, True, pct)
        add("NAT %s rate >= 3x kernel" % how,
            row_of(table, "nat64" + suffix).get("ratio_vnat_kernel"), 3.0, True, times)
        one, many = get(table, "nat64" + suffix), get(table, "flows_1048576" + suffix)
        add("%s rate at 1M flows >= 80 %% of 1 flow" % how,
            many / one if one and many is not None else None, 0.80, True, pct)
        add("new flows/s (%s) >= 3x kernel" % how,
            row_of(table, "newflows" + suffix).get("ratio_vnat_kernel"), 3.0, True, times)
    add("TCP connections/s (CRR, veth guests) >= 3x",
        row_of(table, "veth_crr").get("ratio_vnat_kernel"), 3.0, True, times)
    add("established NAT <= 150 ns per packet in BPF", get(table, "bpf_ns_nat64"), 150, False,
        lambda v: "%.0f ns" % v)
    t += guest_targets(table)
    return t


def guest_targets(table):
    """Issue 9: bulk TCP >= 1.2x the kernel path or CPU per GB <= 0.7x of it;
    small-packet rate >= 2x; per guest type and per bulk row."""
    t = []
    for g in ("veth", "tap"):
        for n in (1, 4):
            for d in ("out", "in"):
                name = "tcp%d_%s" % (n, d)
                tput = row_of(table, "%s_%s" % (g, name)).get("ratio_vnat_kernel")
                cpu = row_of(table, "%s_cpu_gb_%s" % (g, name)).get("ratio_vnat_kernel")
                entry = {"target": "%s %s: TCP >= 1.2x or CPU/GB <= 0.7x" % (g, name),
                         "value": tput, "cpu_ratio": cpu, "goal": "1.2 / 0.7"}
                if tput is None and cpu is None:
                    entry["met"] = None
                else:
                    entry["met"] = bool((tput or 0) >= 1.2 or (cpu is not None and cpu <= 0.7))
                    entry["text"] = "%s, CPU/GB %s" % (
                        "-" if tput is None else "%.2fx" % tput,
                        "-" if cpu is None else "%.2fx" % cpu)
                t.append(entry)
        r = row_of(table, "%s_udp64" % g).get("ratio_vnat_kernel")
        t.append({"target": "%s 64B UDP received/s >= 2x kernel" % g, "value": r, "goal": 2.0,
                  "met": None if r is None else r >= 2.0,
                  "text": None if r is None else "%.2fx" % r})
    return t


def router_shares(table):
    """The router's own share of each real-endpoint CPU figure: the path's
    median less the floor's (the endpoints joined without a router), for the
    kernel and vnat, and their ratio. What a router can change is this part."""
    shares = []
    for row in table:
        name = row["metric"]
        if not (name.startswith("veth_cpu_") or name.startswith("tap_cpu_")):
            continue
        p = row["paths"]
        if not all(c in p for c in ("kernel", "vnat", "ceiling")):
            continue
        k = p["kernel"]["median"] - p["ceiling"]["median"]
        v = p["vnat"]["median"] - p["ceiling"]["median"]
        shares.append({"metric": name, "unit": row["unit"], "kernel": k, "vnat": v,
                       "ratio": v / k if k > 0 else None})
    return shares


def print_shares(shares, out):
    if not shares:
        return
    print("", file=out)
    print("router's share of the CPU figures (the path less the floor; a router can only change"
          " this):", file=out)
    for sh in shares:
        print("  %-40s %-5s kernel %-8s vnat %-8s vnat/kernel %s" %
              (sh["metric"], sh["unit"], fmt(sh["kernel"], 1), fmt(sh["vnat"], 1),
               "-" if sh["ratio"] is None else "%.2f" % sh["ratio"]), file=out)


def write(results, trials, machine, command, seconds, disturbed, failures, skipped, extra,
          json_path, out):
    """Print the table and the targets to OUT; the whole run to JSON_PATH."""
    table = build(results)
    tg = targets(table)
    shares = router_shares(table)

    print("", file=out)
    print("vnat benchmark: %s, %s (%d CPUs), %s; %s; %d s" %
          (machine.get("kernel"), machine.get("cpu"), machine.get("cpus", 0),
           machine.get("iptables"), command, seconds), file=out)
    print("median [min-max] of the repetitions; vnat/kernel against the better kernel path;"
          " %d trials repeated because other work ran on the machine" % disturbed, file=out)
    print("", file=out)
    print_table(table, out)
    print("", file=out)
    print("  * the ceiling's figure for one flow / NAT: it does no lookup, so flows and routes"
          " mean nothing to it", file=out)
    print("  >= no loss even at the generator's full speed: the path is faster than that", file=out)
    print("  real endpoints: the ceiling column is the floor, the guest and the outside host joined"
          " without a router", file=out)
    hooks = {}
    loads = set()
    for row in table:
        for part in row["notes"].get("vnat", "").split("; "):
            if part.startswith("hook "):
                hooks.setdefault(part[5:], []).append(row["label"].strip())
            elif part.startswith("vnat load"):
                loads.add(part)
    for hook, labels in sorted(hooks.items()):
        print("  vnat's hook for the packet-rate rows: %s" % hook, file=out)
    for cmd in sorted(loads):
        print("  vnat in the real-endpoint rows: %s" % cmd, file=out)
    for row in table:
        for col, n in sorted(row["notes"].items()):
            for part in n.split("; "):
                keep = part.startswith("flows held") or part.startswith("iperf3:") or (
                    part.startswith("failed transactions") and part.strip("failed transactions 0"))
                if keep:
                    print("  %s, %s: %s" % (row["label"].strip(), col, part), file=out)
    for line in extra:
        print("  %s" % line, file=out)
    for f in skipped:
        print("  NOT MEASURED: %s" % f, file=out)
    for f in failures:
        print("  FAILED: %s" % f, file=out)
    print_shares(shares, out)
    print("", file=out)
    print("targets (recorded, not enforced):", file=out)
    for t in tg:
        if t["met"] is None:
            state = "not measured"
        else:
            state = "%-6s %s (goal %s)" % ("met" if t["met"] else "MISSED", t["text"], t["goal"])
        print("  %-48s %s" % (t["target"], state), file=out)

    if json_path:
        doc = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": command,
            "seconds": seconds,
            "disturbed_trials": disturbed,
            "failures": failures,
            "not_measured": skipped,
            "notes": extra,
            "machine": machine,
            "metrics": [{k: v for k, v in row.items() if k != "scale"} for row in table],
            "targets": tg,
            "router_shares": shares,
            "results": results,
            "trials": trials,
        }
        with open(json_path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print("\nJSON written to %s" % json_path, file=out)
