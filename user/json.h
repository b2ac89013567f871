/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_JSON_H
#define VNAT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A streaming JSON writer: objects and arrays nest, commas are automatic. */
struct vnat_json;

struct vnat_json *vnat_json_new(FILE *out, bool pretty);
void vnat_json_free(struct vnat_json *j);
void vnat_json_obj_open(struct vnat_json *j, const char *key);
void vnat_json_obj_close(struct vnat_json *j);
void vnat_json_arr_open(struct vnat_json *j, const char *key);
void vnat_json_arr_close(struct vnat_json *j);
void vnat_json_str(struct vnat_json *j, const char *key, const char *val);
void vnat_json_u64(struct vnat_json *j, const char *key, uint64_t val);
void vnat_json_bool(struct vnat_json *j, const char *key, bool val);
void vnat_json_null(struct vnat_json *j, const char *key);

#endif
