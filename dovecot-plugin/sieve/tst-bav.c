/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	tst-bav - the Sieve test "bav" of the vnd.bav extension
 * SYNOPSIS
 *	require "vnd.bav";
 *	bav [MATCH-TYPE] [COMPARATOR] [:kind | :reason | :status] <key-list>
 *	bav :hard
 * DESCRIPTION
 *	Tests the libbav verdict of the message (ext-bav-common.c):
 *	:kind (the default) matches the kind: bounce, delay, autoreply,
 *	feedback, unsubscribe, systemmail, reply, delivered;
 *	:reason matches the reason of any recipient result (userunknown,
 *	mailboxfull, vacation, feedback, ...); :status matches the enhanced
 *	status code of any result ("5.1.1"; :matches "5.*"); :hard is true
 *	when any result is a hard (permanent, address-level) failure. The
 *	usual match types (:is default, :contains, :matches, :regex with
 *	its extension) and comparators (default i;ascii-casemap) apply.
 *	A message that could not be classified has kind "" and no results.
 *
 *	Binary layout after the operation: one byte, the field
 *	(enum ext_bav_field); the optional comparator and match-type
 *	operands; the key list (absent for :hard).
 * DIAGNOSTICS
 *	Compile errors for two field tags, a key list with :hard or none
 *	without; SIEVE_EXEC_BIN_CORRUPT for a bad field byte.
 * SEE ALSO
 *	bav-dovecot(7), RFC 5228 (match types, comparators)
 */
#include "lib.h"
#include "str.h"
#include "sieve-common.h"
#include "sieve-commands.h"
#include "sieve-code.h"
#include "sieve-binary.h"
#include "sieve-comparators.h"
#include "sieve-match-types.h"
#include "sieve-validator.h"
#include "sieve-generator.h"
#include "sieve-interpreter.h"
#include "sieve-runtime.h"
#include "sieve-runtime-trace.h"
#include "sieve-code-dumper.h"
#include "sieve-dump.h"
#include "sieve-match.h"
#include "ext-bav-common.h"

static const char *const field_names[EXT_BAV_FIELD_COUNT] = {
	"kind", "reason", "status", "hard"
};

/* ---- tags: :kind :reason :status :hard -------------------------------- */

static bool tag_field_validate(struct sieve_validator *valdtr,
			       struct sieve_ast_argument **arg,
			       struct sieve_command *cmd)
{
	const char *name = sieve_ast_argument_tag(*arg);
	unsigned int i;

	if (cmd->data != NULL) {
		sieve_argument_validate_error(valdtr, *arg,
			"bav test: only one of :kind, :reason, :status, :hard");
		return FALSE;
	}
	for (i = 0; i < EXT_BAV_FIELD_COUNT; i++) {
		if (strcmp(name, field_names[i]) == 0)
			break;
	}
	cmd->data = POINTER_CAST(i + 1);
	/* the field is emitted by the test itself, not as an operand */
	*arg = sieve_ast_arguments_detach(*arg, 1);
	return TRUE;
}

static const struct sieve_argument_def bav_kind_tag = {
	.identifier = "kind", .validate = tag_field_validate };
static const struct sieve_argument_def bav_reason_tag = {
	.identifier = "reason", .validate = tag_field_validate };
static const struct sieve_argument_def bav_status_tag = {
	.identifier = "status", .validate = tag_field_validate };
static const struct sieve_argument_def bav_hard_tag = {
	.identifier = "hard", .validate = tag_field_validate };

static unsigned int cmd_field(const struct sieve_command *cmd)
{
	return cmd->data == NULL ? EXT_BAV_FIELD_KIND :
		POINTER_CAST_TO(cmd->data, unsigned int) - 1;
}

/* ---- command ------------------------------------------------------------ */

enum tst_bav_optional {
	OPT_END,
	OPT_COMPARATOR = SIEVE_MATCH_OPT_COMPARATOR,
	OPT_MATCH_TYPE = SIEVE_MATCH_OPT_MATCH_TYPE,
};

static bool tst_bav_registered(struct sieve_validator *valdtr,
			       const struct sieve_extension *ext,
			       struct sieve_command_registration *cmd_reg)
{
	sieve_comparators_link_tag(valdtr, cmd_reg, OPT_COMPARATOR);
	sieve_match_types_link_tags(valdtr, cmd_reg, OPT_MATCH_TYPE);
	sieve_validator_register_tag(valdtr, cmd_reg, ext, &bav_kind_tag, 0);
	sieve_validator_register_tag(valdtr, cmd_reg, ext, &bav_reason_tag, 0);
	sieve_validator_register_tag(valdtr, cmd_reg, ext, &bav_status_tag, 0);
	sieve_validator_register_tag(valdtr, cmd_reg, ext, &bav_hard_tag, 0);
	return TRUE;
}

static bool tst_bav_validate(struct sieve_validator *valdtr,
			     struct sieve_command *tst)
{
	struct sieve_ast_argument *arg = tst->first_positional;
	const struct sieve_match_type mcht_default =
		SIEVE_MATCH_TYPE_DEFAULT(is_match_type);
	const struct sieve_comparator cmp_default =
		SIEVE_COMPARATOR_DEFAULT(i_ascii_casemap_comparator);

	if (cmd_field(tst) == EXT_BAV_FIELD_HARD) {
		if (arg != NULL) {
			sieve_argument_validate_error(valdtr, arg,
				"bav :hard takes no key list");
			return FALSE;
		}
		return TRUE;
	}
	if (arg == NULL) {
		sieve_command_validate_error(valdtr, tst,
			"the bav test needs a key list (or :hard)");
		return FALSE;
	}
	if (sieve_ast_argument_next(arg) != NULL) {
		sieve_argument_validate_error(valdtr, arg,
			"the bav test takes one key list");
		return FALSE;
	}
	if (!sieve_validate_positional_argument(valdtr, tst, arg, "key list",
						1, SAAT_STRING_LIST))
		return FALSE;
	if (!sieve_validator_argument_activate(valdtr, tst, arg, FALSE))
		return FALSE;
	return sieve_match_type_validate(valdtr, tst, arg, &mcht_default,
					 &cmp_default);
}

static bool tst_bav_generate(const struct sieve_codegen_env *cgenv,
			     struct sieve_command *tst)
{
	(void)sieve_operation_emit(cgenv->sblock, tst->ext, &tst_bav_operation);
	(void)sieve_binary_emit_byte(cgenv->sblock,
				     (unsigned char)cmd_field(tst));
	return sieve_generate_arguments(cgenv, tst, NULL);
}

const struct sieve_command_def tst_bav = {
	.identifier = "bav",
	.type = SCT_TEST,
	.positional_args = -1,
	.subtests = 0,
	.block_allowed = FALSE,
	.block_required = FALSE,
	.registered = tst_bav_registered,
	.validate = tst_bav_validate,
	.generate = tst_bav_generate,
};

/* ---- operation ------------------------------------------------------------ */

static bool tst_bav_dump(const struct sieve_dumptime_env *denv,
			 sieve_size_t *address)
{
	unsigned int field;

	if (!sieve_binary_read_byte(denv->sblock, address, &field) ||
	    field >= EXT_BAV_FIELD_COUNT)
		return FALSE;
	sieve_code_dumpf(denv, "BAV :%s", field_names[field]);
	sieve_code_descend(denv);
	if (sieve_match_opr_optional_dump(denv, address, NULL) != 0)
		return FALSE;
	if (field == EXT_BAV_FIELD_HARD)
		return TRUE;
	return sieve_opr_stringlist_dump(denv, address, "key list");
}

static int match_values(const struct sieve_runtime_env *renv,
			const struct sieve_match_type *mcht,
			const struct sieve_comparator *cmp,
			const char *const *values, unsigned int count,
			struct sieve_stringlist *key_list, int *exec_status)
{
	struct sieve_match_context *mctx;
	unsigned int i;
	int ret = 0;

	mctx = sieve_match_begin(renv, mcht, cmp);
	for (i = 0; i < count && ret == 0; i++)
		ret = sieve_match_value(mctx, values[i], strlen(values[i]),
					key_list);
	return sieve_match_end(&mctx, exec_status);
}

static int tst_bav_execute(const struct sieve_runtime_env *renv,
			   sieve_size_t *address)
{
	struct sieve_match_type mcht = SIEVE_MATCH_TYPE_DEFAULT(is_match_type);
	struct sieve_comparator cmp =
		SIEVE_COMPARATOR_DEFAULT(i_ascii_casemap_comparator);
	struct sieve_stringlist *key_list = NULL;
	const struct ext_bav_verdict *v;
	unsigned int field;
	int ret = SIEVE_EXEC_OK, match;

	if (!sieve_binary_read_byte(renv->sblock, address, &field) ||
	    field >= EXT_BAV_FIELD_COUNT) {
		sieve_runtime_trace_error(renv, "invalid bav field");
		return SIEVE_EXEC_BIN_CORRUPT;
	}
	if (sieve_match_opr_optional_read(renv, address, NULL, &ret,
					  &cmp, &mcht) < 0)
		return ret;
	if (field != EXT_BAV_FIELD_HARD &&
	    (ret = sieve_opr_stringlist_read(renv, address, "key-list",
					     &key_list)) <= 0)
		return ret;

	v = ext_bav_get_verdict(renv, renv->oprtn->ext);
	switch (field) {
	case EXT_BAV_FIELD_HARD:
		match = v->hard ? 1 : 0;
		break;
	case EXT_BAV_FIELD_KIND:
		match = match_values(renv, &mcht, &cmp, &v->kind, 1, key_list,
				     &ret);
		break;
	case EXT_BAV_FIELD_REASON:
		match = match_values(renv, &mcht, &cmp, v->reasons, v->count,
				     key_list, &ret);
		break;
	default:
		match = match_values(renv, &mcht, &cmp, v->statuses, v->count,
				     key_list, &ret);
		break;
	}
	if (match < 0)
		return ret;
	sieve_runtime_trace(renv, SIEVE_TRLVL_TESTS,
			    "bav :%s (kind \"%s\") = %s", field_names[field],
			    v->kind, match > 0 ? "true" : "false");
	sieve_interpreter_set_test_result(renv->interp, match > 0);
	return SIEVE_EXEC_OK;
}

const struct sieve_operation_def tst_bav_operation = {
	.mnemonic = "BAV",
	.ext_def = &bav_extension,
	.code = 0,
	.dump = tst_bav_dump,
	.execute = tst_bav_execute,
};
