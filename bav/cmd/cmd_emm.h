/* SPDX-License-Identifier: MIT */
/*
 * cmd_emm.h - the OpenEMM drop-in subcommands: "bav maps --emm"
 * (cmd_maps_emm.c), "bav score --emm" (cmd_score_emm.c), and the file
 * writer "bav maps --emm" shares with "bav maps" (cmd_maps.c).
 */
#ifndef BAV_CMD_EMM_H
#define BAV_CMD_EMM_H

#include <stdbool.h>

/* bav maps --emm STORE-URI [options]: bav.conf, relay domains and the
   transport map from OpenEMM's company_tbl and mailloop_tbl. */
int cmd_maps_emm(int argc, char **argv);
/* bav score --emm STORE-URI [options]: softbounce3.py's scoring on
   softbounce_email_tbl and the binding tables (bav_emm_score.h). */
int cmd_score_emm(int argc, char **argv);

/* The store URI of an EMM database: uri without an "emm+" prefix and
   without the emm_licence/emm_logdir/emm_delay parameters of
   bav_emm.h, so "emm+mariadb://..." works as well as "mariadb://...".
   malloc'ed. */
char *cmd_emm_store_uri(const char *uri);

/* Write text to path if it changed (tmp file, fsync, rename), then
   "postmap TYPE:path" when map_type is set and the file changed or its
   map is missing; with dry_run print text instead. path NULL: nothing.
   Returns 0, 73 (can't write) or 1 (postmap failed). */
int cmd_maps_write_file(const char *path, const char *text,
			const char *map_type, const char *postmap,
			bool dry_run);

#endif
