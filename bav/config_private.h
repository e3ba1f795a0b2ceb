/* SPDX-License-Identifier: MIT */
/*
 * config_private.h - what config.c and config_secret.c share.
 */
#ifndef BAV_CONFIG_PRIVATE_H
#define BAV_CONFIG_PRIVATE_H

#include "bav_config.h"

/* Read a whole regular file of at most max bytes into *text_r
   (malloc'ed, NUL-terminated, the caller frees) and its length. A
   missing file is 0 with *text_r NULL. strict: refuse a file that
   group or others may access, or that neither root nor the running
   user owns. Errors: BAV_ECONFIG or BAV_ETEMP with "path: why" in
   errbuf. */
int config_read_file(const char *path, bool strict, size_t max,
		     char **text_r, size_t *len_r, char *errbuf,
		     size_t errbuf_size);
/* The pool of a config (for bav_config_secret()). */
struct bav_pool *config_pool(struct bav_config *cf);

#endif
