/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	ext-bav - the vnd.bav Sieve extension and its Pigeonhole plugin
 *	(lib90_sieve_bav_plugin.so)
 * SYNOPSIS
 *	plugin {
 *	  sieve_plugins = sieve_bav
 *	  sieve_global_extensions = +vnd.bav   (or sieve_extensions)
 *	}
 *
 *	require "vnd.bav";
 *	if bav :kind "bounce" { fileinto "Bounces"; }
 * DESCRIPTION
 *	Registers the extension "vnd.bav" with one test, bav (tst-bav.c),
 *	which exposes the libbav verdict of the message to scripts. The
 *	extension is registered but not enabled by default (load = FALSE):
 *	enable it for global scripts with sieve_global_extensions, for
 *	everybody with sieve_extensions. Pigeonhole finds the plugin by its
 *	file name: lib90_sieve_bav_plugin.so gives the module name
 *	sieve_bav_plugin and the entry points below.
 *
 *	Ownership: the extension context (struct ext_bav_context: cached
 *	rules) belongs to one Sieve instance and is freed at unload.
 * DIAGNOSTICS
 *	Pigeonhole checks sieve_bav_plugin_version against its ABI.
 * SEE ALSO
 *	bav-dovecot(7), tst-bav.c, ext-bav-common.c
 */
#include "lib.h"
#include "sieve-common.h"
#include "sieve-extensions.h"
#include "sieve-validator.h"
#include "pigeonhole-version.h"
#define BAV_COMPAT_SIEVE
#include "../bav-compat.h"
#include "ext-bav-common.h"
#include "ext-bav-plugin.h"

#include "bav.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT BAV_SIEVE_PLUGIN_LOAD_T sieve_bav_plugin_load(struct sieve_instance *svinst,
						     void **context);
EXPORT void sieve_bav_plugin_unload(struct sieve_instance *svinst,
				    void *context);
EXPORT void sieve_bav_plugin_init(void);
EXPORT void sieve_bav_plugin_deinit(void);
EXPORT extern const char *sieve_bav_plugin_version;

const char *sieve_bav_plugin_version = PIGEONHOLE_ABI_VERSION;

static BAV_SIEVE_LOAD_T
ext_bav_load(const struct sieve_extension *ext ATTR_UNUSED, void **context)
{
	if (*context == NULL)
		*context = i_new(struct ext_bav_context, 1);
	return BAV_SIEVE_LOAD_OK;
}

static void ext_bav_unload(const struct sieve_extension *ext)
{
	struct ext_bav_context *ectx = ext->context;

	if (ectx == NULL)
		return;
	if (ectx->rules != NULL)
		bav_rules_free(&ectx->rules);
	i_free(ectx);
}

static bool ext_bav_validator_load(const struct sieve_extension *ext,
				   struct sieve_validator *valdtr)
{
	sieve_validator_register_command(valdtr, ext, &tst_bav);
	return TRUE;
}

const struct sieve_extension_def bav_extension = {
	.name = "vnd.bav",
	.load = ext_bav_load,
	.unload = ext_bav_unload,
	.validator_load = ext_bav_validator_load,
	SIEVE_EXT_DEFINE_OPERATION(tst_bav_operation),
	SIEVE_EXT_DEFINE_NO_OPERANDS,
};

BAV_SIEVE_PLUGIN_LOAD_T
sieve_bav_plugin_load(struct sieve_instance *svinst, void **context)
{
	const struct sieve_extension *ext = NULL;
	int ret;

	ret = bav_compat_sieve_register(svinst, &bav_extension, FALSE, &ext);
	*context = (void *)ext;
	BAV_SIEVE_PLUGIN_LOAD_RETURN(ret);
}

void sieve_bav_plugin_unload(struct sieve_instance *svinst ATTR_UNUSED,
			     void *context)
{
	sieve_extension_unregister((const struct sieve_extension *)context);
}

void sieve_bav_plugin_init(void)
{
}

void sieve_bav_plugin_deinit(void)
{
}
