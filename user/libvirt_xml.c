// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Just enough XML for a libvirt network: start tags with their attributes,
 * end tags and the text of <name>, tracked by the element path. libvirt
 * writes this XML itself (no DTD, no entities beyond the five standard
 * ones in values vnat reads as names and numbers), so a scanner does; a
 * full parser would be a new dependency for five fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libvirt_xml.h"
#include "log.h"

#define MAX_DEPTH 16

struct scan {
	char path[MAX_DEPTH][32];
	int depth;
	int network_depth; /* where <network> opened; -1 = not inside one */
	bool found;
};

/* attribute NAME's value in a start tag's text ("bridge name='virbr0' stp='on'"). */
static bool attr(const char *tag, const char *name, char *val, size_t len)
{
	size_t nlen = strlen(name);

	for (const char *p = tag; (p = strstr(p, name)); p += nlen) {
		const char *q = p + nlen, *end;
		char quote;

		if (p == tag || (p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n'))
			continue;
		while (*q == ' ')
			q++;
		if (*q++ != '=')
			continue;
		while (*q == ' ')
			q++;
		quote = *q++;
		if (quote != '\'' && quote != '"')
			continue;
		end = strchr(q, quote);
		if (!end)
			return false;
		snprintf(val, len, "%.*s", (int)(end - q), q);
		return true;
	}
	return false;
}

/* Names and numbers longer than their field are cut (libvirt's are not). */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The path below <network>: "forward/nat/port" and so on. */
static bool at(const struct scan *s, const char *rel)
{
	char buf[128] = "";
	size_t off = 0;

	if (s->network_depth < 0)
		return false;
	for (int i = s->network_depth + 1; i < s->depth && off < sizeof(buf); i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", off ? "/" : "", s->path[i]);
	return !strcmp(buf, rel);
}

static void start_tag(struct scan *s, const char *name, const char *tag, struct vnat_libvirt_net *n)
{
	char v[64];

	if (s->depth < MAX_DEPTH)
		snprintf(s->path[s->depth], sizeof(s->path[0]), "%s", name);
	s->depth++;
	if (!strcmp(name, "network") && s->network_depth < 0 && !s->found) {
		s->network_depth = s->depth - 1;
		s->found = true;
		return;
	}
	if (at(s, "bridge") && attr(tag, "name", v, sizeof(v)))
		copy(n->bridge, sizeof(n->bridge), v);
	if (at(s, "forward")) {
		/* <forward/> without a mode is libvirt's nat */
		copy(n->mode, sizeof(n->mode), attr(tag, "mode", v, sizeof(v)) ? v : "nat");
		if (attr(tag, "dev", v, sizeof(v)))
			copy(n->dev, sizeof(n->dev), v);
	}
	if (at(s, "forward/nat/port")) {
		if (attr(tag, "start", v, sizeof(v)))
			n->port_start = atoi(v);
		if (attr(tag, "end", v, sizeof(v)))
			n->port_end = atoi(v);
	}
	if (at(s, "forward/nat/address")) {
		if (attr(tag, "start", v, sizeof(v)))
			copy(n->addr_start, sizeof(n->addr_start), v);
		if (attr(tag, "end", v, sizeof(v)))
			copy(n->addr_end, sizeof(n->addr_end), v);
	}
}

static void end_tag(struct scan *s)
{
	if (s->depth > 0)
		s->depth--;
	if (s->depth == s->network_depth)
		s->network_depth = -1;
}

/* <name>TEXT</name> right below <network>. */
static void text(const struct scan *s, const char *p, const char *end, struct vnat_libvirt_net *n)
{
	if (!at(s, "name"))
		return;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t'))
		end--;
	snprintf(n->name, sizeof(n->name), "%.*s", (int)(end - p), p);
}

int vnat_libvirt__parse(const char *xml, struct vnat_libvirt_net *n)
{
	struct scan s = { .network_depth = -1 };
	const char *p = xml;

	memset(n, 0, sizeof(*n));
	while ((p = strchr(p, '<'))) {
		const char *end = strchr(p, '>');
		char tag[512], name[32];
		size_t len;

		if (!end)
			break;
		len = end - p - 1;
		snprintf(tag, sizeof(tag), "%.*s", (int)len, p + 1);
		if (tag[0] == '/') {
			end_tag(&s);
		} else if (tag[0] != '!' && tag[0] != '?') {
			sscanf(tag, "%31[^ \t\n/]", name);
			start_tag(&s, name, tag, n);
			if (len && tag[len - 1] == '/')
				end_tag(&s);
		}
		p = end + 1;
		if (*p && *p != '<') {
			const char *next = strchr(p, '<');

			text(&s, p, next ? next : p + strlen(p), n);
		}
	}
	if (!s.found || !n->name[0]) {
		vnat_err("libvirt-hook: no <network> with a <name> on stdin (libvirtd passes the "
			 "network's XML)");
		return -EINVAL;
	}
	return 0;
}
