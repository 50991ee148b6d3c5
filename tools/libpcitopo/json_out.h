/*
 * json_out.h - a thin writer over yajl_gen shared by every JSON document of
 * the core (xen view, report, plan).  Internal to libpcitopo.
 *
 * The writer remembers the first yajl error, so a document is written as a
 * straight sequence of calls and checked once, in pt_jw_finish().
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PT_JSON_OUT_H
#define PT_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "pcitopo.h"

struct pt_jw {
    yajl_gen g;
    int err;                    /* first error as a negative errno, 0 if none */
};

/* Starts a document (two-space indent when pretty); -ENOMEM. */
int pt_jw_init(struct pt_jw *w, bool pretty);
/* pt_jw_init(), then opens the top object and writes "format": format. */
int pt_jw_doc_open(struct pt_jw *w, bool pretty, const char *format);
/* Copies the document into *out (malloc'ed, NUL-terminated) and frees the generator; returns the first error. */
int pt_jw_finish(struct pt_jw *w, char **out, size_t *outlen);
/* Frees the generator without producing a document (error paths). */
void pt_jw_abort(struct pt_jw *w);

/* Opens an object. */
void pt_jw_obj_open(struct pt_jw *w);
/* Closes an object. */
void pt_jw_obj_close(struct pt_jw *w);
/* Opens an array. */
void pt_jw_arr_open(struct pt_jw *w);
/* Closes an array. */
void pt_jw_arr_close(struct pt_jw *w);
/* Writes an object key. */
void pt_jw_key(struct pt_jw *w, const char *key);
/* Writes a string, or null when s is NULL. */
void pt_jw_str(struct pt_jw *w, const char *s);
/* Writes an integer. */
void pt_jw_int(struct pt_jw *w, long long v);
/* Writes an integer, or null when v is negative (PT_OWNER_NONE, PT_NO_RANGE, pxm -1). */
void pt_jw_int_or_null(struct pt_jw *w, long long v);
/* Writes true or false. */
void pt_jw_bool(struct pt_jw *w, bool b);
/* Writes null. */
void pt_jw_null(struct pt_jw *w);
/* Writes an SBDF as "ssss:bb:dd.f". */
void pt_jw_sbdf(struct pt_jw *w, pt_sbdf_t sbdf);

/*
 * The one way JSON input is parsed: yajl_tree_parse() of len bytes that
 * need not be NUL-terminated, refused before yajl sees them when larger
 * than PT_DOC_MAX, nested deeper than PT_JSON_MAX_DEPTH, holding a NUL byte
 * or a \u0000 escape.  NULL on ENOMEM or bad JSON (the reason in err,
 * when given).  Free with yajl_tree_free().
 */
yajl_val pt_json_parse_n(const char *json, size_t len, char *err, size_t errlen);

#endif /* PT_JSON_OUT_H */
