// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdlib.h>
#include "json.h"

#define JSON_MAX_DEPTH 16

struct vnat_json {
	FILE *out;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
};

struct vnat_json *vnat_json_new(FILE *out, bool pretty)
{
	struct vnat_json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->out = out;
	j->pretty = pretty;
	j->first[0] = true;
	return j;
}

void vnat_json_free(struct vnat_json *j)
{
	if (!j)
		return;
	fputc('\n', j->out);
	fflush(j->out);
	free(j);
}

static void json_indent(struct vnat_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static void json_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Separator, indentation and "key": for the next member. */
static void json_member(struct vnat_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (j->depth > 0)
		json_indent(j);
	if (key) {
		json_escaped(j->out, key);
		fputs(j->pretty ? ": " : ":", j->out);
	}
}

static void json_open(struct vnat_json *j, const char *key, char c)
{
	json_member(j, key);
	fputc(c, j->out);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct vnat_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		json_indent(j);
	fputc(c, j->out);
}

void vnat_json_obj_open(struct vnat_json *j, const char *key)
{
	json_open(j, key, '{');
}

void vnat_json_obj_close(struct vnat_json *j)
{
	json_close(j, '}');
}

void vnat_json_arr_open(struct vnat_json *j, const char *key)
{
	json_open(j, key, '[');
}

void vnat_json_arr_close(struct vnat_json *j)
{
	json_close(j, ']');
}

void vnat_json_str(struct vnat_json *j, const char *key, const char *val)
{
	json_member(j, key);
	json_escaped(j->out, val);
}

void vnat_json_u64(struct vnat_json *j, const char *key, uint64_t val)
{
	json_member(j, key);
	fprintf(j->out, "%" PRIu64, val);
}

void vnat_json_bool(struct vnat_json *j, const char *key, bool val)
{
	json_member(j, key);
	fputs(val ? "true" : "false", j->out);
}

void vnat_json_null(struct vnat_json *j, const char *key)
{
	json_member(j, key);
	fputs("null", j->out);
}
