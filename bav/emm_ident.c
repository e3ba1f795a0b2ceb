/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	emm_ident - agnUID validation against company_tbl and mailing_tbl
 * SYNOPSIS
 *	#include "emm_private.h"
 *
 *	int emm_uid_check(struct bav_pool *pool, const char *text,
 *			  long long licence, const struct emm_mailing *mailing,
 *			  const struct emm_company *company,
 *			  struct bav_agnuid *tok_r)
 *	int emm_uid_origin(const struct bav_agnuid *toks, unsigned int n)
 *	int emm_mailing_get(struct bav_emm *emm, long long id,
 *			    struct emm_mailing *m_r, const char **error_r)
 *	int emm_ident_origin(struct bav_emm *emm, const struct bav_verdict *v,
 *			     struct bav_agnuid **origin_r, bool *bcc_r,
 *			     const char **error_r)
 * DESCRIPTION
 *	The classifier finds agnUID candidates without a key (it has no
 *	database). Here each one is checked exactly as spec 5.4 says: the
 *	licence must be the local one; the mailing must exist in
 *	mailing_tbl; a non-zero company in the token must be the mailing's
 *	company (v2 tokens take the mailing's); the company must exist with
 *	status 'active'; the version must be at least company_tbl.uid_version;
 *	the signature must match company_tbl.secret_key (v2: after undoing
 *	the XOR with the mailing's creation_date). A company without a
 *	secret key validates nothing (OpenEMM would accept a signature made
 *	with an empty key). The unsubscribe uid of the Subject counts as
 *	one more candidate. The origin is the most frequent (customer,
 *	mailing, company, licence) among the valid tokens, ties to the last
 *	seen; bcc is set when the origin came from a V...- Message-ID.
 *
 *	tok_r and *origin_r are allocated from emm->pool (valid until the
 *	next bav_emm_record()).
 * DIAGNOSTICS
 *	emm_uid_check: 1 valid, 0 not. The others: 0 or a store bav_err.
 * SEE ALSO
 *	doc/agnuid.md, emm-mailloop spec 5.4
 */
#include "emm_private.h"

#include <string.h>

int emm_uid_check(struct bav_pool *pool, const char *text, long long licence,
		  const struct emm_mailing *mailing,
		  const struct emm_company *company, struct bav_agnuid *tok_r)
{
	struct bav_agnuid tok;

	memset(tok_r, 0, sizeof(*tok_r));
	if (text == NULL || mailing == NULL || company == NULL)
		return 0;
	memset(&tok, 0, sizeof(tok));
	if (bav_agnuid_parse(pool, text, NULL, 0, &tok) != 1 ||
	    tok.licence_id != licence || tok.mailing_id != mailing->id ||
	    company->id != mailing->company || !company->active ||
	    company->secret == NULL || company->secret[0] == '\0' ||
	    tok.version < company->uid_version)
		return 0;
	if (tok.version == 2) {
		if (bav_agnuid_v2_resolve(&tok, mailing->creation_ms,
					  mailing->company,
					  company->secret) != 1)
			return 0;
	} else {
		if (tok.company_id != 0 && tok.company_id != mailing->company)
			return 0;
		memset(&tok, 0, sizeof(tok));
		if (bav_agnuid_parse(pool, text, company->secret, 0,
				     &tok) != 1)
			return 0;
		tok.company_id = mailing->company;
	}
	if (!tok.signature_checked || !tok.signature_ok)
		return 0;
	*tok_r = tok;
	return 1;
}

int emm_uid_origin(const struct bav_agnuid *toks, unsigned int n)
{
	unsigned int i, j, best_n = 0;
	int best = -1;

	for (i = 0; i < n; i++) {
		unsigned int c = 0;

		for (j = 0; j < n; j++)
			if (toks[j].customer_id == toks[i].customer_id &&
			    toks[j].mailing_id == toks[i].mailing_id &&
			    toks[j].company_id == toks[i].company_id &&
			    toks[j].licence_id == toks[i].licence_id)
				c++;
		if (c >= best_n) {
			best_n = c;
			best = (int)i;
		}
	}
	return best;
}

static int mailing_row(void *ctx, const struct bav_store_value *v,
		       const char *const *names, unsigned int n)
{
	struct emm_mailing *m = ctx;

	(void)names;
	(void)n;
	m->id = v[0].i;
	m->company = v[1].i;
	m->mailinglist = v[2].i;
	m->deleted = v[3].i != 0;
	m->creation_ms = v[4].i * 1000;
	return 1;
}

int emm_mailing_get(struct bav_emm *emm, long long id,
		    struct emm_mailing *m_r, const char **error_r)
{
	const struct bav_store_param p[] = { BAV_STORE_PARAM_INT(id) };
	int ret;

	memset(m_r, 0, sizeof(*m_r));
	if (id <= 0)
		return 0;
	ret = bav_store_exec(emm->store, "SELECT mailing_id, company_id,"
			     " mailinglist_id, deleted,"
			     " COALESCE(UNIX_TIMESTAMP(creation_date), 0)"
			     " FROM mailing_tbl WHERE mailing_id = ?", p, 1,
			     mailing_row, m_r, error_r);
	if (ret != BAV_OK)
		return ret;
	return m_r->id == id ? 1 : 0;
}

/* Validate one candidate; appends to *toks. 0 or a bav_err. */
static int check_one(struct bav_emm *emm, const char *text, bool bcc,
		     struct bav_agnuid *toks, unsigned int *n,
		     const char **error_r)
{
	struct bav_agnuid tok;
	struct emm_mailing m;
	int ret;

	memset(&tok, 0, sizeof(tok));
	if (bav_agnuid_parse(emm->pool, text, NULL, 0, &tok) != 1)
		return BAV_OK;
	if ((ret = emm_mailing_get(emm, tok.mailing_id, &m, error_r)) < 0)
		return ret;
	if (ret == 0)
		return BAV_OK;
	if (emm_uid_check(emm->pool, text, emm->opts.licence, &m,
			  emm_config_company(emm->cfg, m.company), &tok) != 1)
		return BAV_OK;
	tok.bcc = bcc;
	toks[(*n)++] = tok;
	return BAV_OK;
}

int emm_ident_origin(struct bav_emm *emm, const struct bav_verdict *v,
		     struct bav_agnuid **origin_r, bool *bcc_r,
		     const char **error_r)
{
	const struct bav_identity *id = &v->ident;
	struct bav_agnuid *toks;
	unsigned int n = 0, i, max = id->agnuid_count + 1;
	int ret, best;

	*origin_r = NULL;
	*bcc_r = false;
	if (max > 64)
		max = 64;
	toks = bav_pool_alloc(emm->pool, max * sizeof(*toks));
	for (i = 0; i < id->agnuid_count && n + 1 < max; i++) {
		ret = check_one(emm, id->agnuids[i].text, id->agnuids[i].bcc,
				toks, &n, error_r);
		if (ret < 0)
			return ret;
	}
	if (v->unsubscribe_uid != NULL && v->unsubscribe_uid[0] != '\0') {
		ret = check_one(emm, v->unsubscribe_uid, false, toks, &n,
				error_r);
		if (ret < 0)
			return ret;
	}
	if ((best = emm_uid_origin(toks, n)) < 0)
		return BAV_OK;
	*origin_r = &toks[best];
	/* the spec's ignore flag: the last agnUID Message-ID (the tokens
	   with a prefix) was a BCC copy */
	for (i = id->agnuid_count; i > 0; i--)
		if (id->agnuids[i - 1].prefix != NULL &&
		    id->agnuids[i - 1].prefix[0] != '\0') {
			*bcc_r = id->agnuids[i - 1].bcc;
			break;
		}
	return BAV_OK;
}
