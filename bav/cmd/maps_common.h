/* SPDX-License-Identifier: MIT */
/*
 * maps_common.h - what "bav maps" (cmd_maps.c) and "bav maps --emm"
 * (cmd_maps_emm.c) share: a list of malloc'ed strings, bav.conf option
 * text, the aml_N@/reply_N@ test (maps_common.c). The writing of the
 * files is cmd_maps_write_file() of cmd_emm.h, also in maps_common.c.
 */
#ifndef MAPS_COMMON_H
#define MAPS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Owns v and its strings; { NULL, 0, 0 } is empty. */
struct maps_list {
	char **v;
	size_t n, alloc;
};

/* Append a copy of s (aborts when out of memory). */
void maps_list_add(struct maps_list *l, const char *s);
/* Append a formatted line (cut at 4799 bytes). */
void maps_list_addf(struct maps_list *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Index of s, or -1. */
ssize_t maps_list_find(const struct maps_list *l, const char *s);
/* maps_list_add() unless s is in l already. */
void maps_list_add_once(struct maps_list *l, const char *s);
/* Free the strings and v; l is empty again. */
void maps_list_free(struct maps_list *l);
/* Sort l (strcmp order). */
void maps_list_sort(struct maps_list *l);
/* The strings, each ending in a newline, as one malloc'ed string. */
char *maps_list_join(const struct maps_list *l);

/* The files both write and how (the options MAPS_OUTPUT_OPTIONS). */
struct maps_output {
	const char *bav_conf, *relay, *transport, *transport_name;
	const char *map_type, *postmap;
	bool dry_run;
};
enum { MAPS_OPT_BAVCONF = 450, MAPS_OPT_RELAY, MAPS_OPT_TRANSPORT,
       MAPS_OPT_TNAME, MAPS_OPT_MAPTYPE, MAPS_OPT_POSTMAP, MAPS_OPT_DRY };
/* Entries of a struct option table (getopt_long) for struct maps_output. */
#define MAPS_OUTPUT_OPTIONS \
	{ "bav-conf", required_argument, NULL, MAPS_OPT_BAVCONF }, \
	{ "relay-domains", required_argument, NULL, MAPS_OPT_RELAY }, \
	{ "transport", required_argument, NULL, MAPS_OPT_TRANSPORT }, \
	{ "transport-name", required_argument, NULL, MAPS_OPT_TNAME }, \
	{ "map-type", required_argument, NULL, MAPS_OPT_MAPTYPE }, \
	{ "postmap", required_argument, NULL, MAPS_OPT_POSTMAP }, \
	{ "dry-run", no_argument, NULL, MAPS_OPT_DRY }
/* Take getopt_long's c into o if it is a MAPS_OPT_* (true), else false. */
bool maps_output_option(struct maps_output *o, int c, const char *arg);

/* Append ",name=value" to buf (no comma when buf is empty) with "%" and
   "," escaped as %25 and %2C; nothing when value is NULL or "". */
void maps_opt(char *buf, size_t size, const char *name, const char *value);
/* a is aml_N@... or reply_N@... (any case): OpenEMM's own addresses. */
bool maps_aml_or_reply(const char *a);

#endif
