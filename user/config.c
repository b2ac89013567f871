// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The configuration file's parser (see config.h). Each [network] section
 * becomes the argument list of a vnat load and goes through load's own
 * parser: one vocabulary, one validation, the same messages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "log.h"

struct parse_ctx {
	const char *path;
	int line;
	struct vnat_conf *c;
	struct vnat_conf_net *net; /* the current [network] section, or NULL */
	bool in_libvirt;
};

static int bad(const struct parse_ctx *p, const char *fmt, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, what);
	vnat_err("config: %s:%d: %s", p->path, p->line, msg);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* '#' or ';' starts a comment at the start of a line or after a blank. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if ((*p == '#' || *p == ';') && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static int add_arg(const struct parse_ctx *p, const char *arg)
{
	struct vnat_conf_net *n = p->net;

	if (n->argc == VNAT_CONF_MAX_ARGS)
		return bad(p, "more than %s options in one section", "96");
	if (strlen(arg) >= sizeof(n->args[0]))
		return bad(p, "value '%s' too long", arg);
	snprintf(n->args[n->argc++], sizeof(n->args[0]), "%s", arg);
	return 0;
}

static int section(struct parse_ctx *p, char *s)
{
	char *end = strchr(s, ']'), *name;

	if (!end || trim(end + 1)[0])
		return bad(p, "'%s': a section is [network NAME] or [libvirt]", s);
	*end = '\0';
	name = trim(s + 1);
	p->net = NULL;
	p->in_libvirt = !strcmp(name, "libvirt");
	if (p->in_libvirt)
		return 0;
	if (strncmp(name, "network", 7) || !isspace((unsigned char)name[7]))
		return bad(p, "[%s]: unknown section (use [network NAME] or [libvirt])", name);
	name = trim(name + 7);
	if (!*name || strlen(name) >= VNAT_CONF_NAME_LEN || strpbrk(name, " \t[]"))
		return bad(p, "[network %s]: not a network name (one word, < 64 characters)", name);
	if (vnat_config__net(p->c, name))
		return bad(p, "[network %s]: given twice", name);
	if (p->c->n == VNAT_CONF_MAX_NETS)
		return bad(p, "more than %s networks", "32");
	p->net = &p->c->nets[p->c->n++];
	memset(p->net, 0, sizeof(*p->net));
	snprintf(p->net->name, sizeof(p->net->name), "%s", name);
	p->net->line = p->line;
	return add_arg(p, "load");
}

/* load's own options: the global ones (-v, -h, ...) are no keys. */
static const struct vnat_optspec *load_option(const char *key)
{
	return vnat_options__find(vnat_args__cmd("load"), key);
}

static int yes_no(const struct parse_ctx *p, const char *key, const char *val, bool *yes)
{
	if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1"))
		*yes = true;
	else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0"))
		*yes = false;
	else
		return bad(p, "%s: give yes or no", key);
	return 0;
}

/* iface = a b, c: one --iface per name. */
static int iface_list(const struct parse_ctx *p, char *val)
{
	int err = 0;

	for (char *save, *w = strtok_r(val, " \t,", &save); w && !err;
	     w = strtok_r(NULL, " \t,", &save))
		err = add_arg(p, "--iface") ?: add_arg(p, w);
	return err;
}

static int network_key(struct parse_ctx *p, const char *key, char *val)
{
	const struct vnat_optspec *o = load_option(key);
	char opt[64];
	bool yes;

	if (!strcmp(key, "libvirt")) {
		if (!strcmp(val, "include"))
			p->net->libvirt = VNAT_CONF_LIBVIRT_INCLUDE;
		else if (!strcmp(val, "skip"))
			p->net->libvirt = VNAT_CONF_LIBVIRT_SKIP;
		else
			return bad(p, "libvirt '%s': give include or skip", val);
		return 0;
	}
	if (!o)
		return bad(p,
			   "'%s': unknown key (vnat load's long options without the dashes, "
			   "or libvirt)",
			   key);
	if (!strcmp(key, "iface"))
		return iface_list(p, val);
	snprintf(opt, sizeof(opt), "--%s", key);
	if (!o->arg)
		return yes_no(p, key, val, &yes) ?: yes ? add_arg(p, opt) : 0;
	return add_arg(p, opt) ?: add_arg(p, val);
}

static int libvirt_key(struct parse_ctx *p, const char *key, const char *val)
{
	if (strcmp(key, "networks"))
		return bad(p, "[libvirt] '%s': unknown key (networks = include|skip)", key);
	if (strcmp(val, "include") && strcmp(val, "skip"))
		return bad(p, "networks '%s': give include or skip", val);
	p->c->libvirt_skip = !strcmp(val, "skip");
	return 0;
}

static int key_value(struct parse_ctx *p, char *s)
{
	char *eq = strchr(s, '='), *key, *val;

	if (!eq)
		return bad(p, "'%s': not 'key = value' nor a [section]", s);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*val)
		return bad(p, "%s: no value", key);
	if (p->net)
		return network_key(p, key, val);
	if (p->in_libvirt)
		return libvirt_key(p, key, val);
	return bad(p, "'%s': outside a section (start one with [network NAME])", key);
}

static bool has_arg(char **argv, int argc, const char *opt)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

/*
 * Load's parser checks each section. One without an interface holds a
 * libvirt network's options: the hook names the bridge and, for a nat
 * network, masquerades unless --snat says otherwise; checked with those
 * stand-ins, which are not kept.
 */
static int check_net(const char *path, struct vnat_conf_net *n)
{
	char *argv[VNAT_CONF_MAX_ARGS + 4];
	int argc = vnat_config__argv(n, argv, VNAT_CONF_MAX_ARGS), err;
	bool stand_in = !has_arg(argv, argc, "--iface"), masq = false;

	if (stand_in) {
		masq = !has_arg(argv, argc, "--snat") && !has_arg(argv, argc, "--masquerade");
		argv[argc++] = "--iface";
		argv[argc++] = "libvirt-bridge";
		if (masq)
			argv[argc++] = "--masquerade";
	}
	argv[argc] = NULL;
	vnat_log_context("config: %s: [network %s]", path, n->name);
	err = vnat_args__parse_load(argc, argv, &n->load);
	vnat_log_context(NULL);
	if (err > 0)
		err = -EINVAL; /* --help in a file */
	if (stand_in)
		n->load.n_ifaces = 0;
	if (masq)
		n->load.masquerade = false;
	return err;
}

/* Every interface in one section only. */
static int check_unique_ifaces(const char *path, const struct vnat_conf *c)
{
	for (int a = 0; a < c->n; a++)
		for (int i = 0; i < c->nets[a].load.n_ifaces; i++)
			for (int b = a; b < c->n; b++)
				for (int k = b == a ? i + 1 : 0; k < c->nets[b].load.n_ifaces;
				     k++) {
					if (strcmp(c->nets[a].load.ifaces[i],
						   c->nets[b].load.ifaces[k]))
						continue;
					vnat_err("config: %s: interface %s in [network %s] and "
						 "[network %s] (one network each)",
						 path, c->nets[a].load.ifaces[i], c->nets[a].name,
						 c->nets[b].name);
					return -EINVAL;
				}
	return 0;
}

static bool has_nat(const struct vnat_load_opts *o)
{
	return o->snat_addr || o->masquerade;
}

/* One NAT configuration per namespace: every NAT section says the same. */
static int check_one_nat(const char *path, const struct vnat_conf *c)
{
	const struct vnat_conf_net *first = NULL;

	for (int i = 0; i < c->n; i++) {
		const struct vnat_conf_net *n = &c->nets[i];

		if (!has_nat(&n->load) || !n->load.n_ifaces)
			continue;
		if (!first) {
			first = n;
		} else if (!vnat_config__same_nat(&first->load, &n->load)) {
			vnat_err("config: %s: [network %s] and [network %s] differ in NAT options "
				 "(vnat has one NAT configuration per network namespace: give "
				 "them the same)",
				 path, first->name, n->name);
			return -EINVAL;
		}
	}
	return 0;
}

int vnat_config__parse(FILE *f, const char *path, struct vnat_conf *c)
{
	struct parse_ctx p = { .path = path, .c = c };
	char buf[1024];
	int err = 0;

	memset(c, 0, sizeof(*c));
	while (!err && fgets(buf, sizeof(buf), f)) {
		char *s;

		p.line++;
		if (!strchr(buf, '\n') && !feof(f))
			return bad(&p, "line longer than %s characters", "1023");
		strip_comment(buf);
		s = trim(buf);
		if (!*s)
			continue;
		err = *s == '[' ? section(&p, s) : key_value(&p, s);
	}
	for (int i = 0; i < c->n && !err; i++)
		err = check_net(path, &c->nets[i]);
	if (!err)
		err = check_unique_ifaces(path, c);
	if (!err)
		err = check_one_nat(path, c);
	return err;
}

int vnat_config__read(const char *path, struct vnat_conf *c)
{
	FILE *f = fopen(path, "re");
	int err;

	if (!f) {
		err = -errno;
		vnat_err("config: %s: %s%s", path, strerror(-err),
			 err == -ENOENT ?
				 " (start from vnat.conf.example next to it; see vnat(8))" :
				 "");
		return err;
	}
	err = vnat_config__parse(f, path, c);
	fclose(f);
	return err;
}

const struct vnat_conf_net *vnat_config__net(const struct vnat_conf *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->nets[i].name, name))
			return &c->nets[i];
	return NULL;
}

int vnat_config__argv(const struct vnat_conf_net *n, char **argv, int max)
{
	int argc = 0;

	for (int i = 0; i < n->argc && argc < max; i++)
		argv[argc++] = (char *)n->args[i];
	return argc;
}

bool vnat_config__same_nat(const struct vnat_load_opts *a, const struct vnat_load_opts *b)
{
	return a->snat_addr == b->snat_addr && a->masquerade == b->masquerade &&
	       !strcmp(a->out, b->out) && a->n_from == b->n_from &&
	       !memcmp(a->from, b->from, sizeof(a->from[0]) * a->n_from) &&
	       a->port_min == b->port_min && a->port_max == b->port_max &&
	       a->filtering == b->filtering && a->max_flows == b->max_flows &&
	       a->timeout_udp == b->timeout_udp && a->timeout_tcp_est == b->timeout_tcp_est &&
	       a->timeout_tcp_trans == b->timeout_tcp_trans && a->timeout_icmp == b->timeout_icmp;
}

uint32_t vnat_config__gc_interval_ms(uint32_t tcp_est, uint32_t tcp_trans, uint32_t icmp)
{
	uint32_t t = icmp;

	if (tcp_trans < t)
		t = tcp_trans;
	if (tcp_est < t)
		t = tcp_est;
	/* A quarter of the shortest timeout, between 100 ms and 10 s. */
	t = t * 1000 / 4;
	return t < 100 ? 100 : t > 10000 ? 10000 : t;
}
