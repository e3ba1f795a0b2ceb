/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	autoreply - RFC 3834 auto-replies and vacation messages
 * SYNOPSIS
 *	const char *bav_autoreply_detect(struct bav_msg *m)
 * DESCRIPTION
 *	Looks at the top-level header of the message only: Auto-Submitted
 *	(auto-replied; auto-generated only together with a vacation-style
 *	subject), Precedence auto_reply, the X-Autoreply family of private
 *	headers, vacation(1) and common out-of-office subjects in several
 *	languages. Bounces also carry Auto-Submitted, so the classifier asks
 *	this only after DSN and bounce detection. Returns the id of the
 *	deciding built-in test, or NULL.
 * SEE ALSO
 *	RFC 3834
 */
#include "classify_private.h"

#include <strings.h>

static const char *const subject_phrases[] = {
	"out of office", "out of the office", "automatic reply",
	"auto reply", "autoreply", "auto-reply", "auto response",
	"autoresponse", "auto-response", "automatic response",
	"away from my email", "away from my mail", "i am away",
	"i'm away", "currently away", "out of town", "on vacation", "vacation reply",
	"abwesenheit", "automatische antwort", "außer haus",
	"nicht im büro", "absence", "réponse automatique",
	"reponse automatique", "respuesta automática",
	"respuesta automatica", "fuera de la oficina", "risposta automatica",
	"fuori ufficio", "automatisch antwoord", "afwezig", "autosvar",
	"frånvaro", "poza biurem", "自動応答", "自动回复", "不在",
};

static bool vacation_subject(const char *subject)
{
	size_t i;

	for (i = 0; i < sizeof(subject_phrases) / sizeof(subject_phrases[0]);
	     i++)
		if (bav_strcasestr(subject, subject_phrases[i]) != NULL)
			return true;
	return strncasecmp(subject, "Auto:", 5) == 0 ||
	       strncasecmp(subject, "AW: Auto", 8) == 0;
}

const char *bav_autoreply_detect(struct bav_msg *m)
{
	const struct bav_part *h = m->root;
	const char *v;

	v = bav_part_header(h, "Auto-Submitted");
	if (v != NULL && bav_str_begins_ci(v, "auto-replied"))
		return "builtin:auto-submitted";
	if (v != NULL && bav_str_begins_ci(v, "auto-") &&
	    vacation_subject(m->subject))
		return "builtin:auto-submitted";
	v = bav_part_header(h, "Precedence");
	if (v != NULL && bav_str_begins_ci(v, "auto_reply"))
		return "builtin:precedence";
	if (bav_part_header(h, "X-Autoreply") != NULL ||
	    bav_part_header(h, "X-Autorespond") != NULL ||
	    bav_part_header(h, "X-Autoresponder") != NULL ||
	    bav_part_header(h, "X-Vacation") != NULL ||
	    bav_part_header(h, "X-AutoReply-From") != NULL ||
	    bav_part_header(h, "X-Mail-Autoreply") != NULL)
		return "builtin:x-autoreply";
	v = bav_part_header(h, "X-Mailer");
	if (v != NULL && bav_strcasestr(v, "vacation") != NULL)
		return "builtin:x-mailer";
	if (vacation_subject(m->subject))
		return "builtin:subject";
	return NULL;
}
