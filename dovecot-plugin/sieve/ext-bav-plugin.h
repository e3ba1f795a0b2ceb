/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ext-bav-plugin.h - per-Sieve-instance context of vnd.bav
 */
#ifndef EXT_BAV_PLUGIN_H
#define EXT_BAV_PLUGIN_H

struct bav_rules;

/* ext->context: rules from bav_rules, loaded on first use */
struct ext_bav_context {
	bool rules_loaded;
	struct bav_rules *rules;
};

#endif
