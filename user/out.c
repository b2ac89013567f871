// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The two back ends of out.h: JSON through json.c, and aligned text. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "iface.h"
#include "json.h"
#include "out.h"

#define OUT_MAX_DEPTH 16
/* Rows aligned together: a table of millions of flows needs no more memory than this. */
#define OUT_TABLE_BATCH 256
/* Prose in a "label: value" line is folded at spaces beyond this column. */
#define OUT_WIDTH 80

enum frame_kind {
	F_BLOCK, /* an object: runs of "label: value" lines */
	F_HIDDEN, /* not in the text */
	F_SUMMARY, /* an object whose notes stand for it */
	F_LIST, /* a list: values, a table, records or items, by its members */
	F_ROWS, /* an object whose member objects are rows (VNAT_OUT_ROWS) */
	F_ROW, /* an object as a table row */
	F_JOIN, /* values joined into one string */
};

/* What a F_JOIN becomes when it closes. */
enum join_end {
	J_CELL, /* an object in a row: one cell, "a/b" */
	J_BELOW, /* VNAT_OUT_BELOW: a line under the row, "label: a 1, b 2" */
	J_ITEM, /* a member of a VNAT_OUT_ITEMS list: "label: a b" */
};

struct run_entry {
	char *label;
	char *value;
	bool nowrap;
};

struct cell {
	char *col;
	char *text;
	bool num;
};

struct row {
	struct cell *cells;
	int n_cells;
	char **below;
	int n_below;
};

struct table {
	struct row *rows;
	int n_rows;
	int shown; /* rows printed so far */
	int hidden;
	char *header; /* the last header printed */
};

struct buf {
	char *s;
	size_t len, cap;
};

struct frame {
	enum frame_kind kind;
	unsigned flags;
	char *label;
	int indent;
	bool headed; /* a list's "label:" printed */
	int members;
	/* F_BLOCK */
	struct run_entry *run;
	int n_run;
	/* F_LIST, F_ROWS */
	struct table t;
	/* F_LIST of values, F_JOIN */
	struct buf acc;
	enum join_end end;
	/* F_ROW, F_JOIN: a number that is not 0 */
	bool nonzero;
	struct row row;
};

struct vnat_out {
	FILE *f;
	struct vnat_json *j;
	bool verbose;
	int depth;
	int hidden;
	struct frame fr[OUT_MAX_DEPTH];
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		abort();
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

static void buf_add(struct buf *b, const char *sep, const char *s)
{
	size_t need = strlen(sep) + strlen(s) + 1;

	if (b->len + need > b->cap) {
		b->cap = (b->len + need) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	b->len += sprintf(b->s + b->len, "%s%s", b->len ? sep : "", s);
}

static const char *buf_str(const struct buf *b)
{
	return b->len ? b->s : "";
}

struct vnat_out *vnat_out_new(FILE *f, bool json, bool pretty, bool verbose)
{
	struct vnat_out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->f = f;
	o->verbose = verbose;
	if (json) {
		o->j = vnat_json_new(f, pretty);
		if (!o->j) {
			free(o);
			return NULL;
		}
	}
	/* the root: the document's object or list shows without a heading */
	o->fr[0].kind = F_BLOCK;
	return o;
}

bool vnat_out_json(const struct vnat_out *o)
{
	return o->j != NULL;
}

int vnat_out_hidden(const struct vnat_out *o)
{
	return o->hidden;
}

static struct frame *top(struct vnat_out *o)
{
	return &o->fr[o->depth];
}

/* ---- text: runs of "label: value" ---------------------------------------- */

/* text from column col, folded at spaces before OUT_WIDTH, continued at col */
static void print_folded(FILE *f, int col, const char *text)
{
	int at = col, start = col;

	while (*text) {
		size_t w = strcspn(text, " ");

		if (at > start && at + 1 + (int)w > OUT_WIDTH) {
			fprintf(f, "\n%*s", col, "");
			at = start = col;
		} else if (at > start) {
			fputc(' ', f);
			at++;
		}
		at += fprintf(f, "%.*s", (int)w, text);
		text += w;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

static void run_flush(struct vnat_out *o, struct frame *fr)
{
	int width = 0;

	for (int i = 0; i < fr->n_run; i++)
		if ((int)strlen(fr->run[i].label) > width)
			width = strlen(fr->run[i].label);
	for (int i = 0; i < fr->n_run; i++) {
		struct run_entry *e = &fr->run[i];
		int col = fr->indent + width + 2;

		fprintf(o->f, "%*s%s:%*s", fr->indent, "", e->label,
			(int)(width - strlen(e->label) + 1), "");
		if (e->nowrap)
			fprintf(o->f, "%s\n", e->value);
		else
			print_folded(o->f, col, e->value);
		free(e->label);
		free(e->value);
	}
	free(fr->run);
	fr->run = NULL;
	fr->n_run = 0;
}

static void run_add(struct frame *fr, const char *label, const char *value, bool nowrap)
{
	fr->run = xrealloc(fr->run, (fr->n_run + 1) * sizeof(*fr->run));
	fr->run[fr->n_run++] = (struct run_entry){ xstrdup(label), xstrdup(value), nowrap };
}

/* ---- text: tables --------------------------------------------------------- */

static void row_free(struct row *r)
{
	for (int i = 0; i < r->n_cells; i++) {
		free(r->cells[i].col);
		free(r->cells[i].text);
	}
	for (int i = 0; i < r->n_below; i++)
		free(r->below[i]);
	free(r->cells);
	free(r->below);
	memset(r, 0, sizeof(*r));
}

static void row_cell(struct row *r, const char *col, const char *text, bool num)
{
	r->cells = xrealloc(r->cells, (r->n_cells + 1) * sizeof(*r->cells));
	r->cells[r->n_cells++] = (struct cell){ xstrdup(col), xstrdup(text), num };
}

static const struct cell *row_find(const struct row *r, const char *col)
{
	for (int i = 0; i < r->n_cells; i++)
		if (!strcmp(r->cells[i].col, col))
			return &r->cells[i];
	return NULL;
}

struct columns {
	const char *name[64];
	int width[64];
	bool num[64];
	int n;
};

/* The columns of the rows at hand, in the order they first appear. */
static void columns_of(const struct table *t, struct columns *c)
{
	memset(c, 0, sizeof(*c));
	for (int r = 0; r < t->n_rows; r++)
		for (int i = 0; i < t->rows[r].n_cells; i++) {
			const struct cell *ce = &t->rows[r].cells[i];
			int k = 0;

			while (k < c->n && strcmp(c->name[k], ce->col))
				k++;
			if (k == c->n) {
				if (c->n == 64)
					continue;
				c->name[c->n++] = ce->col;
				c->width[k] = strlen(ce->col);
			}
			if ((int)strlen(ce->text) > c->width[k])
				c->width[k] = strlen(ce->text);
			c->num[k] |= ce->num;
		}
}

static void table_line(FILE *f, int indent, const struct columns *c, const char *const *text)
{
	fprintf(f, "%*s", indent, "");
	for (int k = 0; k < c->n; k++) {
		bool last = k == c->n - 1;

		if (c->num[k])
			fprintf(f, "%*s", c->width[k], text[k]);
		else
			fprintf(f, "%-*s", last ? 0 : c->width[k], text[k]);
		if (!last)
			fputs("  ", f);
	}
	fputc('\n', f);
}

static void table_flush(struct vnat_out *o, struct frame *fr)
{
	struct table *t = &fr->t;
	int indent = fr->indent + (fr->headed && fr != &o->fr[1] ? 2 : 0);
	const char *text[64];
	struct columns c;
	struct buf hdr = { 0 };

	if (!t->n_rows)
		return;
	columns_of(t, &c);
	for (int k = 0; k < c.n; k++) {
		text[k] = c.name[k];
		buf_add(&hdr, "\t", c.name[k]);
	}
	/* a header again only where a later batch has other columns */
	if (!t->header || strcmp(t->header, buf_str(&hdr)))
		table_line(o->f, indent, &c, text);
	free(t->header);
	t->header = xstrdup(buf_str(&hdr));
	free(hdr.s);
	for (int r = 0; r < t->n_rows; r++) {
		struct row *row = &t->rows[r];

		for (int k = 0; k < c.n; k++) {
			const struct cell *ce = row_find(row, c.name[k]);

			text[k] = ce ? ce->text : "-";
		}
		table_line(o->f, indent, &c, text);
		for (int i = 0; i < row->n_below; i++)
			fprintf(o->f, "%*s%s\n", indent + 2, "", row->below[i]);
	}
	/* the column names are the rows' */
	for (int r = 0; r < t->n_rows; r++)
		row_free(&t->rows[r]);
	t->shown += t->n_rows;
	t->n_rows = 0;
}

/* ---- text: frames ----------------------------------------------------------- */

/* A list's "label:" heading, once, after the lines before it. */
static void heading(struct vnat_out *o, struct frame *fr)
{
	struct frame *parent = fr - 1;

	if (fr->headed || fr == &o->fr[1] || !fr->label)
		return;
	if (parent->kind == F_BLOCK)
		run_flush(o, parent);
	/* items say their label on each line */
	if (!(fr->flags & VNAT_OUT_ITEMS))
		fprintf(o->f, "%*s%s:\n", fr->indent, "", fr->label);
	fr->headed = true;
}

/* A field's text where the innermost frame puts it. */
static void text_field(struct vnat_out *o, const char *label, const char *text, bool num,
		       bool nowrap, bool zero)
{
	struct frame *fr = top(o);

	switch (fr->kind) {
	case F_BLOCK:
		if (label)
			run_add(fr, label, text, nowrap);
		break;
	case F_LIST:
		buf_add(&fr->acc, (fr - 1)->kind == F_ROW ? "," : ", ", text);
		fr->members++;
		break;
	case F_ROW:
		if (label)
			row_cell(&fr->row, label, text, num);
		fr->nonzero |= num && !zero;
		break;
	case F_JOIN:
		fr->nonzero |= num && !zero;
		if (fr->end == J_BELOW && label) {
			char *s;

			if (asprintf(&s, "%s %s", label, text) < 0)
				abort();
			buf_add(&fr->acc, ", ", s);
			free(s);
		} else if (fr->end != J_BELOW && label) {
			buf_add(&fr->acc, fr->end == J_CELL ? "/" : " ", text);
		}
		break;
	default:
		break;
	}
}

static struct frame *push(struct vnat_out *o, enum frame_kind kind, const char *label,
			  unsigned flags, int indent)
{
	struct frame *fr;

	if (o->depth == OUT_MAX_DEPTH - 1)
		abort();
	fr = &o->fr[++o->depth];
	memset(fr, 0, sizeof(*fr));
	fr->kind = kind;
	fr->flags = flags;
	fr->label = label ? xstrdup(label) : NULL;
	fr->indent = indent;
	return fr;
}

static bool hides(const struct frame *fr)
{
	return fr->kind == F_HIDDEN || fr->kind == F_SUMMARY;
}

static void text_obj_open(struct vnat_out *o, const char *key, const char *label, unsigned flags)
{
	struct frame *p = top(o);
	bool root = o->depth == 0;

	if (hides(p) || p->kind == F_JOIN || (!label && key && !root)) {
		push(o, F_HIDDEN, label, flags, p->indent);
		return;
	}
	switch (p->kind) {
	case F_BLOCK:
		run_flush(o, p);
		if (flags & VNAT_OUT_SUMMARY)
			push(o, F_SUMMARY, label, flags, p->indent);
		else if (flags & VNAT_OUT_ROWS)
			push(o, F_ROWS, label, flags, p->indent);
		else if (root)
			push(o, F_BLOCK, label, flags, 0);
		else {
			fprintf(o->f, "%*s%s:\n", p->indent, "", label);
			push(o, F_BLOCK, label, flags, p->indent + 2);
		}
		break;
	case F_LIST:
		heading(o, p);
		p->members++;
		if (p->flags & VNAT_OUT_RECORDS) {
			fprintf(o->f, "%*s[%d]\n", p->indent + 2, "", p->members);
			push(o, F_BLOCK, label, flags, p->indent + 4);
		} else if (p->flags & VNAT_OUT_ITEMS) {
			push(o, F_JOIN, p->label, flags, p->indent)->end = J_ITEM;
		} else {
			push(o, F_ROW, label, flags, p->indent);
		}
		break;
	case F_ROWS:
		heading(o, p);
		p->members++;
		row_cell(&push(o, F_ROW, label, flags, p->indent)->row, "", label ? label : "",
			 false);
		break;
	case F_ROW:
		push(o, F_JOIN, label, flags, p->indent)->end = flags & VNAT_OUT_BELOW ? J_BELOW :
											 J_CELL;
		break;
	default:
		push(o, F_HIDDEN, label, flags, p->indent);
	}
}

static bool zero_hidden(const struct vnat_out *o, const struct frame *fr)
{
	return (fr->flags & VNAT_OUT_NONZERO) && !fr->nonzero && !o->verbose;
}

static void pop(struct vnat_out *o)
{
	struct frame *fr = top(o);

	free(fr->label);
	free(fr->acc.s);
	free(fr->t.rows);
	free(fr->t.header);
	row_free(&fr->row);
	o->depth--;
}

static void join_close(struct vnat_out *o, struct frame *fr)
{
	struct frame *p = fr - 1;
	struct row *r = &p->row;

	if (fr->end == J_ITEM) {
		fprintf(o->f, "%*s%s: %s\n", fr->indent, "", fr->label ? fr->label : "",
			buf_str(&fr->acc));
		return;
	}
	if (zero_hidden(o, fr) || !fr->label)
		return;
	if (fr->end == J_CELL) {
		row_cell(r, fr->label, buf_str(&fr->acc), false);
		return;
	}
	r->below = xrealloc(r->below, (r->n_below + 1) * sizeof(*r->below));
	if (asprintf(&r->below[r->n_below++], "%s: %s", fr->label, buf_str(&fr->acc)) < 0)
		abort();
}

static void row_close(struct vnat_out *o, struct frame *fr)
{
	struct frame *p = fr - 1;
	struct table *t = &p->t;

	p->nonzero |= fr->nonzero;
	if (zero_hidden(o, fr)) {
		t->hidden++;
		return;
	}
	t->rows = xrealloc(t->rows, (t->n_rows + 1) * sizeof(*t->rows));
	t->rows[t->n_rows++] = fr->row;
	memset(&fr->row, 0, sizeof(fr->row));
	if (t->n_rows == OUT_TABLE_BATCH)
		table_flush(o, p);
}

/* A list of values, or an empty list or table, as a field of the frame around it. */
static void list_as_field(struct vnat_out *o, struct frame *fr)
{
	const char *text = fr->acc.len ? fr->acc.s : (fr - 1)->kind == F_ROW ? "-" : "none";
	char *label = fr->label;

	if (!fr->label || o->depth == 1)
		return;
	fr->label = NULL; /* the field is the parent's now */
	o->depth--;
	text_field(o, label, text, false, false, false);
	o->depth++;
	fr->label = label;
}

static void text_close(struct vnat_out *o)
{
	struct frame *fr = top(o);

	switch (fr->kind) {
	case F_BLOCK:
		run_flush(o, fr);
		break;
	case F_ROWS:
	case F_LIST:
		table_flush(o, fr);
		o->hidden = fr->t.hidden;
		if (!fr->headed && !(fr->flags & VNAT_OUT_ITEMS))
			list_as_field(o, fr);
		break;
	case F_ROW:
		row_close(o, fr);
		break;
	case F_JOIN:
		join_close(o, fr);
		break;
	default:
		break;
	}
	pop(o);
}

/* ---- the calls --------------------------------------------------------------- */

void vnat_out_obj_open(struct vnat_out *o, const char *key, const char *label, unsigned flags)
{
	if (o->j)
		vnat_json_obj_open(o->j, key);
	else
		text_obj_open(o, key, label, flags);
}

void vnat_out_obj_close(struct vnat_out *o)
{
	if (o->j)
		vnat_json_obj_close(o->j);
	else
		text_close(o);
}

void vnat_out_list_open(struct vnat_out *o, const char *key, const char *label, unsigned flags)
{
	struct frame *p = top(o);
	bool root = o->depth == 0;

	if (o->j) {
		vnat_json_arr_open(o->j, key);
		return;
	}
	if (hides(p) || p->kind == F_JOIN || p->kind == F_LIST || p->kind == F_ROWS ||
	    (!label && !root))
		push(o, F_HIDDEN, label, flags, p->indent);
	else
		push(o, F_LIST, label, flags, p->indent);
}

void vnat_out_list_close(struct vnat_out *o)
{
	if (o->j)
		vnat_json_arr_close(o->j);
	else
		text_close(o);
}

void vnat_out_str(struct vnat_out *o, const char *key, const char *label, const char *val)
{
	if (o->j)
		vnat_json_str(o->j, key, val);
	else
		text_field(o, label, val[0] ? val : "-", false, false, false);
}

void vnat_out_cmd(struct vnat_out *o, const char *key, const char *label, const char *val)
{
	if (o->j)
		vnat_json_str(o->j, key, val);
	else
		text_field(o, label, val, false, true, false);
}

void vnat_out_u64(struct vnat_out *o, const char *key, const char *label, uint64_t val)
{
	char text[24];

	if (o->j) {
		vnat_json_u64(o->j, key, val);
		return;
	}
	snprintf(text, sizeof(text), "%" PRIu64, val);
	text_field(o, label, text, true, false, !val);
}

void vnat_out_bool(struct vnat_out *o, const char *key, const char *label, bool val)
{
	if (o->j)
		vnat_json_bool(o->j, key, val);
	else
		text_field(o, label, val ? "yes" : "no", false, false, false);
}

void vnat_out_null(struct vnat_out *o, const char *key, const char *label)
{
	if (o->j)
		vnat_json_null(o->j, key);
	else
		text_field(o, label, "-", false, false, false);
}

void vnat_out_time(struct vnat_out *o, const char *key, const char *label, uint64_t secs)
{
	time_t t = secs;
	char text[64];
	struct tm tm;

	if (o->j) {
		vnat_json_u64(o->j, key, secs);
		return;
	}
	if (localtime_r(&t, &tm) && strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm))
		text_field(o, label, text, false, false, false);
	else
		vnat_out_u64(o, key, label, secs);
}

void vnat_out_ipv4(struct vnat_out *o, const char *key, const char *label, uint32_t addr_be)
{
	char text[INET_ADDRSTRLEN];

	if (!addr_be) {
		vnat_out_null(o, key, label);
		return;
	}
	inet_ntop(AF_INET, &addr_be, text, sizeof(text));
	vnat_out_str(o, key, label, text);
}

void vnat_out_mac(struct vnat_out *o, const char *key, const char *label, const uint8_t *mac)
{
	char text[18];

	vnat_mac__format(mac, text, sizeof(text));
	vnat_out_str(o, key, label, text);
}

void vnat_out_text_str(struct vnat_out *o, const char *label, const char *val)
{
	if (!o->j)
		text_field(o, label, val, false, false, false);
}

void vnat_out_note(struct vnat_out *o, const char *fmt, ...)
{
	struct frame *fr = top(o);
	va_list ap;

	if (o->j || (fr->kind != F_BLOCK && fr->kind != F_SUMMARY))
		return;
	if (fr->kind == F_BLOCK)
		run_flush(o, fr);
	fprintf(o->f, "%*s", fr->indent, "");
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
}

void vnat_out_free(struct vnat_out *o)
{
	if (!o)
		return;
	if (o->j) {
		vnat_json_free(o->j);
	} else {
		while (o->depth > 0)
			text_close(o);
		run_flush(o, &o->fr[0]);
		fflush(o->f);
	}
	free(o);
}
