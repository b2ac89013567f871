/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_OUT_H
#define VNAT_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One print path: a command describes its output once, as objects, lists and
 * typed fields, each field with a key (JSON) and a label (text); -j picks the
 * JSON back end (json.c), otherwise the text back end writes aligned
 * "label: value" lines for objects and column tables for lists of objects.
 *
 * A NULL label leaves a field, object or list out of the text (a machine
 * name the text says otherwise); vnat_out_note() and vnat_out_text_str()
 * write to the text only (prose, hints, facts the JSON has never carried).
 * Keys are NULL for the members of a list, as in JSON.
 *
 * Text layout, by where a field stands:
 *   object             "label: value" lines, labels padded to the longest of
 *                      the run; a nested object is a "label:" heading with its
 *                      lines indented by two
 *   list of values     one line "label: a, b" ("none" when empty)
 *   list of objects    a table: "label:", a header of the members' labels,
 *                      one row each (numbers right-aligned); in a row a
 *                      nested object is one cell of its values joined by "/",
 *                      a list one cell joined by ","
 */
struct vnat_out;

enum vnat_out_flags {
	/* object: its member objects are the rows of a table, their labels the first column */
	VNAT_OUT_ROWS = 1 << 0,
	/* object in a row: a line of its own under the row, "label: a 1, b 2" */
	VNAT_OUT_BELOW = 1 << 1,
	/* object: not in the text when all its numbers are 0, unless verbose */
	VNAT_OUT_NONZERO = 1 << 2,
	/* object: the text shows only its notes (a headline), not its fields */
	VNAT_OUT_SUMMARY = 1 << 3,
	/* list of objects: each a block of "label: value" lines headed "[n]" */
	VNAT_OUT_RECORDS = 1 << 4,
	/* list of objects: each one line, "label: values" */
	VNAT_OUT_ITEMS = 1 << 5,
};

/* verbose: the text keeps VNAT_OUT_NONZERO objects at zero. */
struct vnat_out *vnat_out_new(FILE *f, bool json, bool pretty, bool verbose);
/* Writes what is pending; frees. */
void vnat_out_free(struct vnat_out *o);
bool vnat_out_json(const struct vnat_out *o);

void vnat_out_obj_open(struct vnat_out *o, const char *key, const char *label, unsigned flags);
void vnat_out_obj_close(struct vnat_out *o);
void vnat_out_list_open(struct vnat_out *o, const char *key, const char *label, unsigned flags);
void vnat_out_list_close(struct vnat_out *o);
/* Rows a VNAT_OUT_NONZERO left out of the table closed last. */
int vnat_out_hidden(const struct vnat_out *o);

void vnat_out_str(struct vnat_out *o, const char *key, const char *label, const char *val);
/* A command to copy: never folded in the text. */
void vnat_out_cmd(struct vnat_out *o, const char *key, const char *label, const char *val);
void vnat_out_u64(struct vnat_out *o, const char *key, const char *label, uint64_t val);
void vnat_out_bool(struct vnat_out *o, const char *key, const char *label, bool val);
/* JSON null, text "-". */
void vnat_out_null(struct vnat_out *o, const char *key, const char *label);
/* Seconds since the epoch: a number in JSON, local time in the text. */
void vnat_out_time(struct vnat_out *o, const char *key, const char *label, uint64_t secs);
/* An IPv4 address in network order; 0 is null. */
void vnat_out_ipv4(struct vnat_out *o, const char *key, const char *label, uint32_t addr_be);
void vnat_out_mac(struct vnat_out *o, const char *key, const char *label, const uint8_t *mac);

/* Text only: a field, and a line of prose at the current object's indent. */
void vnat_out_text_str(struct vnat_out *o, const char *label, const char *val);
void vnat_out_note(struct vnat_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
