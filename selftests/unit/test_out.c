// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * user/out.c: the same calls written by both back ends into memory (JSON
 * exact, text exact), escaping, nesting, empty lists, long tables; and
 * vnat status described from a crafted snapshot: every fact of its JSON
 * stands in its text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "out.h"
#include "status.h"
#include "warnings.h"

typedef void (*describe_fn)(struct vnat_out *o, const void *ctx);

/* What describe writes with one back end, in a string the caller frees. */
static char *render(describe_fn describe, const void *ctx, bool json, bool pretty, bool verbose)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vnat_out *o;

	assert_non_null(f);
	o = vnat_out_new(f, json, pretty, verbose);
	assert_non_null(o);
	describe(o, ctx);
	vnat_out_free(o);
	fclose(f);
	return buf;
}

static void expect(describe_fn describe, const void *ctx, bool json, const char *want)
{
	char *got = render(describe, ctx, json, false, false);

	assert_string_equal(got, want);
	free(got);
}

/* ---- one description, two back ends --------------------------------------- */

static void describe_host(struct vnat_out *o, const void *ctx)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x0a };

	(void)ctx;
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "name", "name", "br0");
	vnat_out_u64(o, "ifindex", "interface index", 7);
	vnat_out_bool(o, "up", "up", true);
	vnat_out_null(o, "peer", "peer");
	vnat_out_ipv4(o, "addr", "address", htonl(0xc0000201));
	vnat_out_mac(o, "mac", "mac", mac);
	vnat_out_obj_open(o, "limits", "limits", 0);
	vnat_out_u64(o, "mtu", "mtu", 1500);
	vnat_out_obj_close(o);
	vnat_out_list_open(o, "ports", "ports", 0);
	vnat_out_str(o, NULL, NULL, "vnet0");
	vnat_out_str(o, NULL, NULL, "vnet1");
	vnat_out_list_close(o);
	vnat_out_list_open(o, "fdb", "fdb", 0);
	for (int i = 0; i < 2; i++) {
		vnat_out_obj_open(o, NULL, NULL, 0);
		vnat_out_str(o, "port", "port", i ? "vnet1" : "vnet0");
		vnat_out_u64(o, "age", "age", i ? 120 : 3);
		vnat_out_obj_open(o, "tc", "tc", 0);
		vnat_out_u64(o, "in", "in", 10 + i);
		vnat_out_u64(o, "out", "out", 20 + i);
		vnat_out_obj_close(o);
		vnat_out_obj_close(o);
	}
	vnat_out_list_close(o);
	vnat_out_obj_close(o);
}

static void test_same_calls_json(void **state)
{
	(void)state;
	expect(describe_host, NULL, true,
	       "{\"name\":\"br0\",\"ifindex\":7,\"up\":true,\"peer\":null,\"addr\":\"192.0.2.1\","
	       "\"mac\":\"02:00:00:00:00:0a\",\"limits\":{\"mtu\":1500},"
	       "\"ports\":[\"vnet0\",\"vnet1\"],"
	       "\"fdb\":[{\"port\":\"vnet0\",\"age\":3,\"tc\":{\"in\":10,\"out\":20}},"
	       "{\"port\":\"vnet1\",\"age\":120,\"tc\":{\"in\":11,\"out\":21}}]}\n");
}

static void test_same_calls_text(void **state)
{
	(void)state;
	expect(describe_host, NULL, false,
	       "name:            br0\n"
	       "interface index: 7\n"
	       "up:              yes\n"
	       "peer:            -\n"
	       "address:         192.0.2.1\n"
	       "mac:             02:00:00:00:00:0a\n"
	       "limits:\n"
	       "  mtu: 1500\n"
	       "ports: vnet0, vnet1\n"
	       "fdb:\n"
	       "  port   age  tc\n"
	       "  vnet0    3  10/20\n"
	       "  vnet1  120  11/21\n");
}

/* ---- escaping ------------------------------------------------------------------ */

static void describe_odd(struct vnat_out *o, const void *ctx)
{
	(void)ctx;
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "q\"k", "quote", "say \"hi\"\\ now\n\x01");
	vnat_out_str(o, "empty", "empty", "");
	vnat_out_obj_close(o);
}

static void test_escaping(void **state)
{
	(void)state;
	expect(describe_odd, NULL, true,
	       "{\"q\\\"k\":\"say \\\"hi\\\"\\\\ now\\u000a\\u0001\",\"empty\":\"\"}\n");
	/* the text is for people: as it is, an empty string as "-" */
	expect(describe_odd, NULL, false, "quote: say \"hi\"\\ now\n\x01\nempty: -\n");
}

/* ---- nesting, rows, zeros ---------------------------------------------------- */

static void describe_counters(struct vnat_out *o, const void *ctx)
{
	int *hidden = (int *)ctx;

	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_obj_open(o, "outer", "outer", 0);
	vnat_out_obj_open(o, "inner", "inner", 0);
	vnat_out_str(o, "deep", "deep", "yes");
	vnat_out_obj_close(o);
	vnat_out_obj_close(o);
	vnat_out_obj_open(o, "counters", "counters", VNAT_OUT_ROWS);
	vnat_out_obj_open(o, "fwd", "fwd", VNAT_OUT_NONZERO);
	vnat_out_u64(o, "packets", "packets", 5);
	vnat_out_obj_close(o);
	vnat_out_obj_open(o, "drop", "drop", VNAT_OUT_NONZERO);
	vnat_out_u64(o, "packets", "packets", 0);
	vnat_out_obj_close(o);
	vnat_out_obj_close(o);
	*hidden = vnat_out_hidden(o);
	vnat_out_list_open(o, "links", "links", 0);
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "name", "name", "eth0");
	vnat_out_obj_open(o, "drops", "drops", VNAT_OUT_BELOW | VNAT_OUT_NONZERO);
	vnat_out_u64(o, "rx", "rx", 0);
	vnat_out_obj_close(o);
	vnat_out_obj_close(o);
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "name", "name", "eth1");
	vnat_out_obj_open(o, "drops", "drops", VNAT_OUT_BELOW | VNAT_OUT_NONZERO);
	vnat_out_u64(o, "rx", "rx", 4);
	vnat_out_obj_close(o);
	vnat_out_obj_close(o);
	vnat_out_list_close(o);
	vnat_out_note(o, "a note");
	vnat_out_obj_close(o);
}

static void test_nesting(void **state)
{
	char *text;
	int hidden = -1;

	(void)state;
	text = render(describe_counters, &hidden, true, false, false);
	assert_string_equal(text, "{\"outer\":{\"inner\":{\"deep\":\"yes\"}},"
				  "\"counters\":{\"fwd\":{\"packets\":5},\"drop\":{\"packets\":0}},"
				  "\"links\":[{\"name\":\"eth0\",\"drops\":{\"rx\":0}},"
				  "{\"name\":\"eth1\",\"drops\":{\"rx\":4}}]}\n");
	free(text);
	/* the zeros only with verbose */
	text = render(describe_counters, &hidden, false, false, false);
	assert_string_equal(text, "outer:\n"
				  "  inner:\n"
				  "    deep: yes\n"
				  "counters:\n"
				  "       packets\n"
				  "  fwd        5\n"
				  "links:\n"
				  "  name\n"
				  "  eth0\n"
				  "  eth1\n"
				  "    drops: rx 4\n"
				  "a note\n");
	assert_int_equal(hidden, 1);
	free(text);
	text = render(describe_counters, &hidden, false, false, true);
	assert_non_null(strstr(text, "  fwd         5\n  drop        0\n"));
	assert_non_null(strstr(text, "  eth0\n    drops: rx 0\n"));
	assert_int_equal(hidden, 0);
	free(text);
}

static void test_pretty(void **state)
{
	char *text;

	(void)state;
	text = render(describe_odd, NULL, true, true, false);
	assert_string_equal(text, "{\n  \"q\\\"k\": \"say \\\"hi\\\"\\\\ now\\u000a\\u0001\",\n"
				  "  \"empty\": \"\"\n}\n");
	free(text);
}

/* ---- empty lists ------------------------------------------------------------- */

static void describe_empty(struct vnat_out *o, const void *ctx)
{
	(void)ctx;
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_list_open(o, "values", "values", 0);
	vnat_out_list_close(o);
	vnat_out_list_open(o, "rows", "rows", 0);
	vnat_out_list_close(o);
	vnat_out_list_open(o, "items", "item", VNAT_OUT_ITEMS);
	vnat_out_list_close(o);
	vnat_out_list_open(o, "records", "records", VNAT_OUT_RECORDS);
	vnat_out_list_close(o);
	vnat_out_obj_close(o);
}

static void describe_empty_root(struct vnat_out *o, const void *ctx)
{
	(void)ctx;
	vnat_out_list_open(o, NULL, NULL, 0);
	vnat_out_list_close(o);
}

static void test_empty_lists(void **state)
{
	(void)state;
	expect(describe_empty, NULL, true,
	       "{\"values\":[],\"rows\":[],\"items\":[],\"records\":[]}\n");
	/* items say nothing when there are none: "item:" lines are each a fact */
	expect(describe_empty, NULL, false, "values:  none\nrows:    none\nrecords: none\n");
	expect(describe_empty_root, NULL, true, "[]\n");
	expect(describe_empty_root, NULL, false, "");
}

/* ---- items and records ----------------------------------------------------------- */

static void describe_lists(struct vnat_out *o, const void *ctx)
{
	(void)ctx;
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_list_open(o, "warnings", "warning", VNAT_OUT_ITEMS);
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "kind", NULL, "no_ports");
	vnat_out_str(o, "message", "message", "br0 has no ports");
	vnat_out_obj_close(o);
	vnat_out_list_close(o);
	vnat_out_list_open(o, "findings", "findings", VNAT_OUT_RECORDS);
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "check", "check", "redirects");
	vnat_out_str(o, "evidence", "evidence",
		     "a long line of evidence that goes on and on past the eightieth column of "
		     "the terminal");
	vnat_out_cmd(o, "fix", "fix",
		     "sysctl -w net.ipv4.conf.all.send_redirects=0 "
		     "net.ipv4.conf.eth0.send_redirects=0 net.ipv4.conf.eth1.send_redirects=0");
	vnat_out_obj_close(o);
	vnat_out_list_close(o);
	vnat_out_obj_close(o);
}

static void test_items_and_records(void **state)
{
	(void)state;
	expect(describe_lists, NULL, false,
	       "warning: br0 has no ports\n"
	       "findings:\n"
	       "  [1]\n"
	       "    check:    redirects\n"
	       "    evidence: a long line of evidence that goes on and on past the eightieth\n"
	       "              column of the terminal\n"
	       "    fix:      sysctl -w net.ipv4.conf.all.send_redirects=0 "
	       "net.ipv4.conf.eth0.send_redirects=0 net.ipv4.conf.eth1.send_redirects=0\n");
}

/* ---- a table longer than a batch ------------------------------------------------ */

static void describe_long(struct vnat_out *o, const void *ctx)
{
	int n = *(const int *)ctx;

	vnat_out_list_open(o, NULL, NULL, 0);
	for (int i = 0; i < n; i++) {
		vnat_out_obj_open(o, NULL, NULL, 0);
		vnat_out_u64(o, "n", "n", i);
		vnat_out_obj_close(o);
	}
	vnat_out_list_close(o);
}

static void test_long_table(void **state)
{
	int n = 1000, lines = 0, headers = 0;
	char *text, *line, *save = NULL;

	(void)state;
	text = render(describe_long, &n, false, false, false);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		headers += !strcmp(line, "  n") || !strcmp(line, "n");
	}
	/* every row, one header (the columns stay the same) */
	assert_int_equal(lines, n + 1);
	assert_int_equal(headers, 1);
	free(text);
}

/* ---- vnat status: every fact of the JSON in the text --------------------------- */

static struct vnat_status st;
static struct vnat_status_iface st_ifaces[2];
static struct vnat_status_dup st_dup;
static struct vnat_status_counter st_counters[2];
static struct vnat_warning st_warning;

static void status_snapshot(void)
{
	memset(&st, 0, sizeof(st));
	st.ns.cookie = 86743;
	snprintf(st.ns.pin_dir, sizeof(st.ns.pin_dir), "/sys/fs/bpf/vnat/netns-4026533063");
	st.cfg.snat_addr = htonl(0xc6336402); /* 198.51.100.2 */
	st.cfg.loaded_at = 1765000000;
	st.cfg.flags = VNAT_CFG_NAT | VNAT_CFG_POLICY;
	st.cfg.port_min = 20000;
	st.cfg.port_max = 20999;
	st.cfg.filtering = VNAT_FILTER_ADF;
	st.cfg.max_flows = 4096;
	st.cfg.timeout_udp = 301;
	st.cfg.timeout_tcp_est = 7441;
	st.cfg.timeout_tcp_trans = 241;
	st.cfg.timeout_icmp = 61;
	st.flows = 17;
	st.gc_runs = 23;
	st.health.daemon = 4242;
	st.health.n_ifaces = 2;
	st_warning.kind = VNAT_WARN_BRIDGE_NO_PORTS;
	snprintf(st_warning.iface, sizeof(st_warning.iface), "br0");
	snprintf(st_warning.text, sizeof(st_warning.text), "bridge br0 has no ports: none");
	st.health.warnings = &st_warning;
	st.health.n_warnings = 1;

	memset(st_ifaces, 0, sizeof(st_ifaces));
	st_ifaces[0].ifindex = 4;
	snprintf(st_ifaces[0].val.name, sizeof(st_ifaces[0].val.name), "eth1");
	memcpy(st_ifaces[0].val.mac, "\x02\x00\x00\x00\x00\x04", 6);
	st_ifaces[0].val.flags = VNAT_IFACE_OUTSIDE;
	st_ifaces[0].a = (struct vnat_attachment){ 35, VNAT_MODE_SKB, 31, 32 };
	st_ifaces[0].send_redirects = 0;
	st_ifaces[0].have_stats = true;
	st_ifaces[0].stats = (struct vnat_ifstats){ true, true, 501, 502, 503, 504 };
	st_ifaces[1].ifindex = 2;
	snprintf(st_ifaces[1].val.name, sizeof(st_ifaces[1].val.name), "br0");
	memcpy(st_ifaces[1].val.mac, "\x02\x00\x00\x00\x00\x02", 6);
	st_ifaces[1].val.flags = VNAT_IFACE_BRIDGE | VNAT_IFACE_INSIDE;
	st_ifaces[1].a = (struct vnat_attachment){ 0, VNAT_MODE_NATIVE, 33, 34 };
	st_ifaces[1].send_redirects = -1;
	st.ifaces = st_ifaces;
	st.n_ifaces = 2;

	snprintf(st_dup.bridge, sizeof(st_dup.bridge), "br0");
	snprintf(st_dup.mac, sizeof(st_dup.mac), "02:00:00:00:00:09");
	snprintf(st_dup.port, sizeof(st_dup.port), "vnet6");
	snprintf(st_dup.prev_port, sizeof(st_dup.prev_port), "vnet7");
	st_dup.moves = 9;
	st.dups = &st_dup;
	st.n_dups = 1;

	st.have_btf = true;
	st_counters[0] = (struct vnat_status_counter){ "fwd_routed", { 1101, 110100 } };
	st_counters[1] = (struct vnat_status_counter){ "pass_local", { 0, 0 } };
	st.counters = st_counters;
	st.n_counters = 2;
	st.totals.admit_flow.packets = 71;
	st.totals.pass_admission.packets = 72;
}

static void describe_status(struct vnat_out *o, const void *ctx)
{
	vnat_status__describe(o, ctx);
}

/* Leaves of a compact JSON document: "path=value", values as the text writes them. */
struct leaves {
	char path[128][64];
	char value[128][96];
	int n;
};

static const char *json_leaves(const char *p, char *path, size_t plen, struct leaves *l);

static const char *json_string(const char *p, char *out, size_t len)
{
	size_t n = 0;

	assert_int_equal(*p, '"');
	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		if (n + 1 < len)
			out[n++] = *p;
	}
	out[n] = 0;
	return p + 1;
}

static void leaf(struct leaves *l, const char *path, const char *value)
{
	assert_true(l->n < 128);
	snprintf(l->path[l->n], sizeof(l->path[0]), "%s", path);
	snprintf(l->value[l->n], sizeof(l->value[0]), "%s", value);
	l->n++;
}

static const char *json_leaves(const char *p, char *path, size_t plen, struct leaves *l)
{
	char key[64], v[96];
	size_t at = strlen(path);

	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		for (p++; *p != close;) {
			if (close == '}') {
				p = json_string(p, key, sizeof(key));
				p++; /* : */
				snprintf(path + at, plen - at, ".%s", key);
			} else {
				snprintf(path + at, plen - at, "[]");
			}
			p = json_leaves(p, path, plen, l);
			path[at] = 0;
			if (*p == ',')
				p++;
		}
		return p + 1;
	}
	if (*p == '"') {
		p = json_string(p, v, sizeof(v));
		leaf(l, path, v[0] ? v : "-");
		return p;
	}
	if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5) || !strncmp(p, "null", 4)) {
		leaf(l, path, *p == 't' ? "yes" : *p == 'f' ? "no" : "-");
		return p + (*p == 'f' ? 5 : 4);
	}
	snprintf(v, sizeof(v), "%.*s", (int)strspn(p, "0123456789"), p);
	leaf(l, path, v);
	return p + strlen(v);
}

/* value in text as a word of its own (not inside a longer number or name) */
static bool has_word(const char *text, const char *value)
{
	size_t n = strlen(value), len = strlen(text);

	for (size_t i = 0; i + n <= len; i++)
		if (!strncmp(text + i, value, n) && (!i || !isalnum((unsigned char)text[i - 1])) &&
		    !isalnum((unsigned char)text[i + n]))
			return true;
	return false;
}

static void test_status_facts(void **state)
{
	/*
	 * Said otherwise in the text: "loaded" (it says "not loaded" when not), a
	 * time (as local time), a warning's kind (its message names it), health's
	 * ok (the headline's "ok:", checked below).
	 */
	static const char *const json_only[] = { ".loaded", ".config.loaded_at", ".warnings[].kind",
						 ".health.ok" };
	static const char head[] =
		"health: ok: 2 interfaces attached, daemon running (pid 4242), 1 warning (below)\n";
	static struct leaves l;
	char path[256] = "", *json, *text;
	int missing = 0;

	(void)state;
	status_snapshot();
	json = render(describe_status, &st, true, false, false);
	text = render(describe_status, &st, false, false, true);
	memset(&l, 0, sizeof(l));
	assert_int_equal(*json_leaves(json, path, sizeof(path), &l), '\n');
	assert_true(l.n > 50);
	for (int i = 0; i < l.n; i++) {
		bool skip = false;

		for (size_t k = 0; k < sizeof(json_only) / sizeof(json_only[0]); k++)
			skip |= !strcmp(l.path[i], json_only[k]);
		if (skip || has_word(text, l.value[i]))
			continue;
		print_error("%s = %s: not in the text\n", l.path[i], l.value[i]);
		missing++;
	}
	if (missing)
		print_error("text:\n%s\njson:\n%s\n", text, json);
	assert_int_equal(missing, 0);
	/* the lines operators and tests read */
	assert_true(!strncmp(text, head, strlen(head)));
	assert_non_null(strstr(text, "\nwarning: bridge br0 has no ports: none\n"));
	assert_non_null(strstr(text, "\nredirects: suppress\n"));
	assert_non_null(strstr(text, "\nadmission: 71 flow directions admitted, 72 packets left"));
	assert_non_null(strstr(text, "\n    dropped by the kernel: rx_dropped 501, tx_dropped 502, "
				     "tx_errors 503, xdp_xmit_errors 504\n"));
	free(json);
	free(text);
}

/*
 * The JSON of status as it was before out.c (keys, order, nesting), and the
 * admission summary after config (flows a flush handed back included).
 */
static void test_status_json_shape(void **state)
{
	char *json;

	(void)state;
	status_snapshot();
	st.n_counters = 1;
	st.flushed = 3;
	json = render(describe_status, &st, true, false, false);
	assert_string_equal(
		json,
		"{\"loaded\":true,\"health\":{\"ok\":true,\"daemon_pid\":4242,\"interfaces\":2,"
		"\"detached\":[],\"warnings\":[\"bridge br0 has no ports: none\"]},"
		"\"netns_cookie\":86743,\"pin_dir\":\"/sys/fs/bpf/vnat/netns-4026533063\","
		"\"config\":{\"snat\":\"198.51.100.2\",\"loaded_at\":1765000000,\"masquerade\":false,"
		"\"admission\":\"kernel\",\"port_min\":20000,\"port_max\":20999,\"filtering\":\"adf\","
		"\"inbound\":\"drop\",\"max_flows\":4096,\"timeout_udp\":301,\"timeout_tcp\":7441,"
		"\"timeout_tcp_transitory\":241,\"timeout_icmp\":61,\"flows\":17,\"gc_runs\":23},"
		"\"admission\":{\"mode\":\"kernel\",\"admitted\":71,\"left_to_kernel\":72,"
		"\"handed_back\":3,\"handed_back_gone\":0,\"handed_back_teardown\":0,"
		"\"handed_back_flushed\":3},"
		"\"redirects\":\"suppress\",\"interfaces\":[{\"name\":\"eth1\",\"ifindex\":4,"
		"\"mac\":\"02:00:00:00:00:04\",\"role\":\"uplink\",\"hook\":\"xdp\","
		"\"hook_option\":\"auto\",\"send_redirects\":false,\"xdp\":{\"id\":35,\"mode\":\"skb\"},"
		"\"tc\":{\"ingress\":31,\"egress\":32},\"kernel_drops\":{\"rx_dropped\":501,"
		"\"tx_dropped\":502,\"tx_errors\":503,\"xdp_xmit_errors\":504}},{\"name\":\"br0\","
		"\"ifindex\":2,\"mac\":\"02:00:00:00:00:02\",\"role\":\"inside\",\"hook\":\"tc\","
		"\"hook_option\":\"auto\",\"xdp\":{\"id\":0,\"mode\":\"native\"},\"tc\":{\"ingress\":33,"
		"\"egress\":34},\"kernel_drops\":null}],\"warnings\":[{\"interface\":\"br0\","
		"\"kind\":\"bridge_no_ports\",\"message\":\"bridge br0 has no ports: none\"}],"
		"\"duplicate_macs\":[{\"bridge\":\"br0\",\"mac\":\"02:00:00:00:00:09\","
		"\"ports\":[\"vnet6\",\"vnet7\"],\"moves\":9}],\"counters\":{\"fwd_routed\":"
		"{\"packets\":1101,\"bytes\":110100}}}\n");
	free(json);
}

static void describe_not_loaded(struct vnat_out *o, const void *ctx)
{
	(void)ctx;
	vnat_status__describe_not_loaded(o);
}

static void test_status_not_loaded(void **state)
{
	(void)state;
	expect(describe_not_loaded, NULL, true, "{\"loaded\":false}\n");
	expect(describe_not_loaded, NULL, false, "vnat: not loaded in this network namespace\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_calls_json),
		cmocka_unit_test(test_same_calls_text),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_empty_lists),
		cmocka_unit_test(test_items_and_records),
		cmocka_unit_test(test_long_table),
		cmocka_unit_test(test_status_facts),
		cmocka_unit_test(test_status_json_shape),
		cmocka_unit_test(test_status_not_loaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
