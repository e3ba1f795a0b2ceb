/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	bav-plugin - Dovecot LDA/LMTP plugin: classify returned mail at
 *	delivery, mark it with IMAP keywords, file it, spool the verdict
 * SYNOPSIS
 *	protocol lda  { mail_plugins = $mail_plugins bav }
 *	protocol lmtp { mail_plugins = $mail_plugins bav }
 *
 *	void bav_plugin_init(struct module *module)
 *	void bav_plugin_deinit(void)
 * DESCRIPTION
 *	Chains Dovecot's deliver_mail hook (mail_deliver_hook_set, like
 *	Pigeonhole's lda-sieve plugin), so it runs the same under
 *	dovecot-lda and LMTP. The module is lib95_bav_plugin.so: Dovecot
 *	initialises plugins in file name order and the hook set last runs
 *	first, and Pigeonhole's hook (lib90_sieve_plugin.so) does not call
 *	the hook it replaced, so bav must initialise after it to run before
 *	Sieve. For each delivery it
 *
 *	1. classifies the message and spools the verdict (bav-deliver.c);
 *	   a spool failure fails the delivery temporarily;
 *	2. sets the default mailbox to bav_folder_<kind> when configured
 *	   (Sieve's implicit keep uses it too);
 *	3. calls the next hook (Sieve) with the keywords armed: every save
 *	   of the message into the recipient's mailboxes during the hook
 *	   (keep, fileinto) gets them, through a mailbox copy vfunc added in
 *	   mail_storage_hooks.mailbox_allocated; the verdict is armed too,
 *	   and the vnd.bav Sieve test takes it from
 *	   bav_plugin_delivery_verdict() (bav-share.h) instead of
 *	   classifying the message again;
 *	4. saves the message itself, with the keywords, when nothing
 *	   downstream saved it (no Sieve, or no script);
 *	5. logs the verdict (one line, after the save: it follows
 *	   Dovecot's own delivery line, so one wake-up of the log process
 *	   serves both).
 *
 *	With bav_enabled = no (e.g. globally, with the userdb turning it
 *	on for the bounce addresses) the hook only calls the next one.
 *
 *	Keywords: $BounceHard (a bounce with a hard result), $BounceSoft
 *	(other bounces and delay notices), $AutoReply, $Feedback.
 *
 *	Ownership: the armed state points into the delivery context's pool
 *	and is cleared before the hook returns.
 * DIAGNOSTICS
 *	Logs through Dovecot (i_info, i_error) prefixed "bav: ". A delivery
 *	fails temporarily (tempfail_error set, hook returns -1) only when
 *	the verdict could not be spooled; every other problem leaves the
 *	message delivered unmarked.
 * SEE ALSO
 *	bav-dovecot(7), Pigeonhole's lda-sieve plugin
 */
#include "lib.h"
#include "array.h"
#include "str-sanitize.h"
#include "module-context.h"
#include "mail-user.h"
#include "mail-storage-private.h"
#include "mail-storage-hooks.h"
#include "mail-deliver.h"
#include "bav-compat.h"
#include "bav-plugin.h"

#include "bav.h"

#define BAV_PLUGIN_EXPORT __attribute__((visibility("default")))

BAV_PLUGIN_EXPORT void bav_plugin_init(struct module *module);
BAV_PLUGIN_EXPORT void bav_plugin_deinit(void);
BAV_PLUGIN_EXPORT extern const char *bav_plugin_version;
BAV_PLUGIN_EXPORT extern const char bav_plugin_binary_dependency[];
BAV_PLUGIN_EXPORT bav_shared_verdict_func_t bav_plugin_delivery_verdict;

const char *bav_plugin_version = DOVECOT_ABI_VERSION;
/* mail_deliver_hook_set() lives in libdovecot-lda: lda and lmtp only */
const char bav_plugin_binary_dependency[] = "lda lmtp";

#define BAV_MAILBOX_CONTEXT(obj) \
	MODULE_CONTEXT_REQUIRE(obj, bav_storage_module)
static MODULE_CONTEXT_DEFINE_INIT(bav_storage_module,
				  &mail_storage_module_register);

static deliver_mail_func_t *next_deliver_mail;

/* the delivery in progress: saves for this user get these keywords,
   and the Sieve extension asking about mail gets the verdict */
static struct {
	struct mail_user *user;
	const char *const *keywords;
	const struct mail *mail;
	const struct bav_shared_verdict *verdict;
} armed;

const struct bav_shared_verdict *
bav_plugin_delivery_verdict(const struct mail *mail)
{
	return mail != NULL && mail == armed.mail ? armed.verdict : NULL;
}

static int bav_copy(struct mail_save_context *ctx, struct mail *mail)
{
	struct mailbox *box = ctx->transaction->box;
	union mailbox_module_context *mbox = BAV_MAILBOX_CONTEXT(box);
	struct mail_keywords *kw, *merged;

	if (armed.user != NULL && box->storage->user == armed.user &&
	    armed.keywords[0] != NULL) {
		kw = mailbox_keywords_create_valid(box, armed.keywords);
		if (ctx->data.keywords != NULL) {
			merged = mailbox_keywords_merge(ctx->data.keywords, kw);
			mailbox_keywords_unref(&kw);
			kw = merged;
		}
		mailbox_save_set_flags(ctx, ctx->data.flags, kw);
		mailbox_keywords_unref(&kw);
	}
	return mbox->super.copy(ctx, mail);
}

static void bav_mailbox_allocated(struct mailbox *box)
{
	struct mailbox_vfuncs *v = box->vlast;
	union mailbox_module_context *mbox;

	mbox = p_new(box->pool, union mailbox_module_context, 1);
	mbox->super = *v;
	box->vlast = &mbox->super;
	v->copy = bav_copy;
	MODULE_CONTEXT_SET_SELF(box, bav_storage_module, mbox);
}

static struct mail_storage_hooks bav_mail_storage_hooks = {
	.mailbox_allocated = bav_mailbox_allocated,
};

/* Save into mailbox, falling back to the original default mailbox when
   a configured folder can't be used. 1 saved, -1 failed. */
static int save_self(struct mail_deliver_context *ctx, const char *orig_default,
		     const char *const *keywords, struct mail_storage **storage_r)
{
	const char *box = BAV_DELIVER_DEFAULT_MAILBOX(ctx);

	if (mail_deliver_save(ctx, box, 0, keywords, storage_r) == 0)
		return 1;
	if (strcmp(box, orig_default) != 0) {
		i_warning("bav: saving to %s failed, using %s",
			  str_sanitize(box, 80), str_sanitize(orig_default, 80));
		BAV_DELIVER_DEFAULT_MAILBOX(ctx) = orig_default;
		if (mail_deliver_save(ctx, orig_default, 0, keywords,
				      storage_r) == 0)
			return 1;
	}
	return -1;
}

static int bav_deliver_mail(struct mail_deliver_context *ctx,
			    struct mail_storage **storage_r)
{
	struct bav_delivery d;
	const char *orig_default = BAV_DELIVER_DEFAULT_MAILBOX(ctx);
	const char *error = NULL, *enabled;
	int ret;

	enabled = BAV_SETTING(ctx->rcpt_user, "bav_enabled");
	if (enabled != NULL &&
	    (strcmp(enabled, "no") == 0 || strcmp(enabled, "0") == 0)) {
		return next_deliver_mail != NULL ?
			next_deliver_mail(ctx, storage_r) : 0;
	}
	if (bav_deliver_classify(ctx, ctx->pool, &d, &error) < 0) {
		i_error("%s", error);
		ctx->tempfail_error = p_strdup(ctx->pool,
			"bav: temporarily unable to record the message");
		*storage_r = NULL;
		return -1;
	}
	if (d.folder != NULL)
		BAV_DELIVER_DEFAULT_MAILBOX(ctx) = d.folder;

	armed.user = ctx->rcpt_user;
	armed.keywords = d.keywords;
	if (d.classified) {
		armed.mail = ctx->src_mail;
		armed.verdict = &d.shared;
	}
	ret = next_deliver_mail != NULL ? next_deliver_mail(ctx, storage_r) : 0;
	if (ret == 0 && !ctx->tried_default_save && !ctx->saved_mail)
		ret = save_self(ctx, orig_default, d.keywords, storage_r);
	i_zero(&armed);
	/* logged after the save, right behind Dovecot's own "saved mail"
	   line: the log process reads both with one wake-up */
	if (d.classified) {
		i_info("bav: kind=%s%s%s%s%s%s%s", d.kind,
		       *d.reason != '\0' ? " reason=" : "", d.reason,
		       d.folder != NULL ? " folder=" : "",
		       d.folder != NULL ? str_sanitize(d.folder, 80) : "",
		       d.spool_name != NULL ? " spool=" : "",
		       d.spool_name != NULL ? d.spool_name : "");
	}
	return ret;
}

static void bav_oom(size_t size)
{
	i_fatal_status(FATAL_OUTOFMEM, "bav: out of memory (%zu bytes)", size);
}

void bav_plugin_init(struct module *module)
{
	bav_set_oom_hook(bav_oom);
	mail_storage_hooks_add(module, &bav_mail_storage_hooks);
	next_deliver_mail = mail_deliver_hook_set(bav_deliver_mail);
}

void bav_plugin_deinit(void)
{
	mail_deliver_hook_set(next_deliver_mail);
	mail_storage_hooks_remove(&bav_mail_storage_hooks);
	bav_deliver_deinit();
}
