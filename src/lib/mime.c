/* mime.c: PGP/MIME (RFC 3156) with header protection (RFC 9788), on GMime 3.
 *
 * GMime parses; we never let it serialise. Everything we emit is composed
 * from the input's raw bytes (header raw values, the body located through
 * the parser's header-end offset), so bodies and header values stay byte
 * exact apart from LF -> CRLF.
 *
 * Nesting. GMime's parser recurses once per multipart or message/rfc822
 * level, but stops at its own MAX_LEVEL (1024 in 3.2.13; a message/rfc822
 * counts two levels), treats anything deeper as a leaf and reports
 * GMIME_CRIT_NESTING_OVERFLOW through the warning callback. Measured on
 * 3.2.13: 10,000 nested multiparts parse in ~0.3 s and ~10 MB, with under
 * 128 KiB of stack (a 64 KiB thread stack overflows, 128 KiB does not). So
 * we do not pre-scan (a home-made boundary scanner would be a second MIME
 * parser to get wrong); we rely on that cap, turn the warning into
 * SM_ETOOBIG, and walk the tree ourselves with a walk that stops at
 * MIME_MAX_DEPTH. Callers running this on threads need >= 256 KiB stacks.
 *
 * Every call makes its own GMimeParserOptions so the warning callback can
 * record into a per-call struct; no state is shared between threads. */
#include "mime.h"

#include <pthread.h>
#include <string.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "wkd.h"

#define BOUNDARY_BYTES 16
#define EXTRACT_SLACK 65536 /* MIME overhead allowed beyond the caller's buffers */

/* One parse: GMime objects plus what the warning callback saw. */
struct gm {
	GMimeParserOptions *opts;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	size_t body_off; /* first body byte (== len when there is no body) */
	int crit;        /* a GMIME_CRIT_* about MIME structure: ambiguous input */
	int dup_field;   /* a non-MIME field that may appear once appeared twice */
	int nesting;     /* GMime hit its own nesting cap */
	int bad_addr;    /* an address list had entries GMime skipped */
};

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void mime_init_once(void)
{
	g_mime_init();
	/* For randombytes_buf(); idempotent. On failure randombytes still
	 * initialises itself lazily, so there is nothing to report. */
	if (sodium_init() < 0)
		return;
}

void mime_global_init(void)
{
	pthread_once(&mime_once, mime_init_once);
}

/* ---- GMime plumbing --------------------------------------------------- */

static int name_is(const char *name, const char *want)
{
	return g_ascii_strcasecmp(name, want) == 0;
}

/* The structural fields (MIME-Version, Content-*) describe the MIME
 * entity; they are never protected header fields and never copied between
 * header sections. */
static int is_structural(const char *name)
{
	return name_is(name, "MIME-Version") || g_ascii_strncasecmp(name, "Content-", 8) == 0;
}

static void gm_warn(gint64 offset, GMimeParserWarning w, const gchar *item, gpointer user)
{
	struct gm *g = user;
	(void)offset;
	if (w == GMIME_CRIT_CONFLICTING_HEADER && item != NULL && !is_structural(item)) {
		g->dup_field = 1; /* e.g. two Subject fields: see its users */
		return;
	}
	switch (w) {
	case GMIME_CRIT_NESTING_OVERFLOW:
		g->nesting = 1;
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
	case GMIME_CRIT_CONFLICTING_HEADER:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		g->crit = 1;
		break;
	case GMIME_WARN_INVALID_ADDRESS_LIST:
		g->bad_addr = 1;
		break;
	default:
		break; /* cosmetic: duplicated headers, raw 8-bit, bad RFC 2047 */
	}
}

/* Strict address and parameter parsing; warnings go to g, never stderr. */
static void gm_init(struct gm *g)
{
	memset(g, 0, sizeof(*g));
	g->opts = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(g->opts, GMIME_RFC_COMPLIANCE_STRICT);
	g_mime_parser_options_set_parameter_compliance_mode(g->opts, GMIME_RFC_COMPLIANCE_STRICT);
	g_mime_parser_options_set_rfc2047_compliance_mode(g->opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(g->opts, FALSE);
	g_mime_parser_options_set_warning_callback(g->opts, gm_warn, g);
}

static void gm_free(struct gm *g)
{
	if (g->msg != NULL)
		g_object_unref(g->msg);
	if (g->parser != NULL)
		g_object_unref(g->parser);
	if (g->stream != NULL)
		g_object_unref(g->stream);
	if (g->opts != NULL)
		g_mime_parser_options_free(g->opts);
	memset(g, 0, sizeof(*g));
}

/* Bounded walk: multipart children and message/rfc822 contents are one
 * level deeper. Recursion stops at MIME_MAX_DEPTH + 1 frames. */
static int depth_check(GMimeObject *o, int level)
{
	if (level > MIME_MAX_DEPTH)
		return SM_ETOOBIG;
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count((GMimeMultipart *)o);
		for (int i = 0; i < n; i++) {
			int r = depth_check(g_mime_multipart_get_part((GMimeMultipart *)o, i), level + 1);
			if (r < 0)
				return r;
		}
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message((GMimeMessagePart *)o);
		GMimeObject *p = m != NULL ? g_mime_message_get_mime_part(m) : NULL;
		if (p != NULL)
			return depth_check(p, level + 1);
	}
	return 0;
}

/* The body starts after the empty line GMime found; no empty line means a
 * header-only message. */
static int gm_body_offset(struct gm *g, const uint8_t *data, size_t len)
{
	gint64 end = g_mime_parser_get_headers_end(g->parser);
	if (end < 0) {
		g->body_off = len;
		return 0;
	}
	size_t e = (size_t)end;
	if (e < len && data[e] == '\n')
		g->body_off = e + 1;
	else if (e + 1 < len && data[e] == '\r' && data[e + 1] == '\n')
		g->body_off = e + 2;
	else
		return SM_EPARSE;
	return 0;
}

/* Parses data as one RFC 5322 message; g must have been gm_init()ed. */
static int gm_parse(struct gm *g, const uint8_t *data, size_t len)
{
	if (len == 0 || len > G_MAXSSIZE)
		return len == 0 ? SM_EPARSE : SM_ETOOBIG;
	g->stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	g->parser = g_mime_parser_new_with_stream(g->stream);
	g_mime_parser_set_format(g->parser, GMIME_FORMAT_MESSAGE);
	g->msg = g_mime_parser_construct_message(g->parser, g->opts);
	if (g->nesting)
		return SM_ETOOBIG;
	if (g->msg == NULL || g->crit)
		return SM_EPARSE;
	GMimeObject *part = g_mime_message_get_mime_part(g->msg);
	if (part == NULL)
		return SM_EPARSE;
	int r = depth_check(part, 1);
	if (r < 0)
		return r;
	return gm_body_offset(g, data, len);
}

static GMimeHeaderList *gm_headers(struct gm *g)
{
	return g_mime_object_get_header_list((GMimeObject *)g->msg);
}

static GMimeObject *gm_part(struct gm *g)
{
	return g_mime_message_get_mime_part(g->msg);
}

/* ---- byte helpers ----------------------------------------------------- */

/* Appends s with every bare LF turned into CRLF; existing CRLF is kept. */
static int append_crlf(struct buf *b, const uint8_t *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n' || (i > 0 && s[i - 1] == '\r'))
			continue;
		int r = buf_append(b, s + start, i - start);
		if (r < 0 || (r = buf_append(b, "\r\n", 2)) < 0)
			return r;
		start = i + 1;
	}
	return buf_append(b, s + start, n - start);
}

/* Length of v without its trailing line break and white space. */
static size_t value_trim_end(const char *v)
{
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n;
}

static const char *value_skip_ws(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	return v;
}

/* "name:value\r\n" with the raw value's folding kept (as CRLF). */
static int append_field(struct buf *b, const char *name, const char *value)
{
	int r = buf_append_str(b, name);
	if (r < 0 || (r = buf_append(b, ":", 1)) < 0)
		return r;
	r = append_crlf(b, (const uint8_t *)value, value_trim_end(value));
	if (r < 0)
		return r;
	return buf_append(b, "\r\n", 2);
}

static int has_8bit(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] & 0x80)
			return 1;
	return 0;
}

/* Undoes appends to out after a failure; the tail is wiped. */
static void out_rollback(struct buf *out, size_t len)
{
	if (out->data == NULL || out->len <= len)
		return;
	sodium_memzero(out->data + len, out->len - len);
	out->len = len;
}


/* ---- addresses -------------------------------------------------------- */

/* Canonical "local@domain" (domain lowercased, IDN as A-labels). */
static int addr_canonical(InternetAddress *a, char ret[MIME_ADDR_MAX + 1])
{
	struct wkd_address w;
	if (!INTERNET_ADDRESS_IS_MAILBOX(a))
		return SM_EINVAL;
	const char *s = internet_address_mailbox_get_idn_addr((InternetAddressMailbox *)a);
	if (s == NULL || wkd_address_parse(s, &w) < 0)
		return SM_EINVAL;
	if (wkd_address_format(&w, ret, MIME_ADDR_MAX + 1) < 0)
		return SM_EINVAL;
	return 0;
}

typedef int (*addr_fn)(void *ctx, const char *addr);

static int addr_one(InternetAddress *a, addr_fn fn, void *ctx)
{
	char addr[MIME_ADDR_MAX + 1];
	int r = addr_canonical(a, addr);
	return r < 0 ? r : fn(ctx, addr);
}

/* Members of one group: mailboxes only, as groups do not nest (RFC 5322). */
static int addr_group_each(InternetAddressGroup *grp, addr_fn fn, void *ctx)
{
	InternetAddressList *l = internet_address_group_get_members(grp);
	int n = internet_address_list_length(l);
	for (int i = 0; i < n; i++) {
		int r = addr_one(internet_address_list_get_address(l, i), fn, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Calls fn for every mailbox of an address header value, groups flattened.
 * Entries GMime skipped (it warns instead of failing) count as errors, so
 * no recipient the user wrote silently disappears. */
static int addr_list_each(struct gm *g, const char *value, int groups, addr_fn fn, void *ctx)
{
	g->bad_addr = 0;
	InternetAddressList *l = internet_address_list_parse(g->opts, value);
	int r = SM_EINVAL;
	if (l == NULL || g->bad_addr)
		goto fail;
	int n = internet_address_list_length(l);
	for (int i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(a))
			r = !groups ? SM_EINVAL : addr_group_each((InternetAddressGroup *)a, fn, ctx);
		else
			r = addr_one(a, fn, ctx);
		if (r < 0)
			goto fail;
	}
	r = 0;
fail:
	if (l != NULL)
		g_object_unref(l);
	return r;
}

/* The From mailboxes of a header list: their number, and the first one. */
struct from_acc {
	size_t n;
	char first[MIME_ADDR_MAX + 1];
};

static int from_add(void *ctx, const char *addr)
{
	struct from_acc *f = ctx;
	if (f->n++ == 0)
		memcpy(f->first, addr, strlen(addr) + 1);
	return 0;
}

/* Every From field counts, so "From: a" + "From: b" is two mailboxes. */
static int from_find(struct gm *g, GMimeHeaderList *hl, struct from_acc *ret)
{
	memset(ret, 0, sizeof(*ret));
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (!name_is(g_mime_header_get_name(h), "From"))
			continue;
		/* From is a mailbox-list: no groups (RFC 5322 section 3.6.2) */
		int r = addr_list_each(g, g_mime_header_get_raw_value(h), 0, from_add, ret);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- recipients ------------------------------------------------------- */

static int list_find(const struct mime_addr_list *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->addrs[i], addr) == 0)
			return (int)i;
	return -1;
}

static int list_push(struct mime_addr_list *l, const char *addr)
{
	char **a = realloc(l->addrs, (l->n + 1) * sizeof(*a));
	if (a == NULL)
		return SM_ENOMEM;
	l->addrs = a;
	if ((a[l->n] = strdup(addr)) == NULL)
		return SM_ENOMEM;
	l->n++;
	return 0;
}

static void list_remove(struct mime_addr_list *l, size_t i)
{
	free(l->addrs[i]);
	memmove(l->addrs + i, l->addrs + i + 1, (l->n - i - 1) * sizeof(*l->addrs));
	l->n--;
}

static void list_free(struct mime_addr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->addrs[i]);
	free(l->addrs);
	l->addrs = NULL;
	l->n = 0;
}

/* Keeps to_cc and bcc disjoint and duplicate-free at every step, so the
 * count checked against MIME_MAX_RCPTS is the real one. Addresses are
 * canonical (domain lowercased), so equal strings are the same mailbox;
 * local parts stay case-sensitive as RFC 5321 allows. */
static int rcpt_add_to_cc(void *ctx, const char *addr)
{
	struct mime_letter *l = ctx;
	if (list_find(&l->to_cc, addr) >= 0)
		return 0;
	int i = list_find(&l->bcc, addr);
	if (i >= 0)
		list_remove(&l->bcc, (size_t)i);
	if (l->to_cc.n + l->bcc.n >= MIME_MAX_RCPTS)
		return SM_ETOOBIG;
	return list_push(&l->to_cc, addr);
}

static int rcpt_add_bcc(void *ctx, const char *addr)
{
	struct mime_letter *l = ctx;
	if (list_find(&l->to_cc, addr) >= 0 || list_find(&l->bcc, addr) >= 0)
		return 0;
	if (l->to_cc.n + l->bcc.n >= MIME_MAX_RCPTS)
		return SM_ETOOBIG;
	return list_push(&l->bcc, addr);
}

static int is_bcc(const char *name)
{
	return name_is(name, "Bcc") || name_is(name, "Resent-Bcc");
}

static int letter_recipients(struct gm *g, struct mime_letter *l)
{
	GMimeHeaderList *hl = gm_headers(g);
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		addr_fn fn = NULL;
		if (name_is(name, "To") || name_is(name, "Cc"))
			fn = rcpt_add_to_cc;
		else if (name_is(name, "Bcc"))
			fn = rcpt_add_bcc;
		if (fn == NULL)
			continue;
		int r = addr_list_each(g, g_mime_header_get_raw_value(h), 1, fn, l);
		if (r < 0)
			return r;
	}
	return l->to_cc.n + l->bcc.n == 0 ? SM_EINVAL : 0;
}

static int letter_from(struct gm *g, struct mime_letter *l)
{
	struct from_acc f;
	int r = from_find(g, gm_headers(g), &f);
	if (r < 0)
		return r;
	if (f.n != 1)
		return SM_EINVAL;
	if ((l->from = strdup(f.first)) == NULL)
		return SM_ENOMEM;
	return 0;
}

/* ---- the cryptographic payload (RFC 9788) ----------------------------- */


/* RFC 9788 hcp_baseline: obscure Subject, drop Keywords and Comments,
 * leave every other field as it is. NULL means "not in the outer header". */
static const char *hcp_baseline(const char *name, const char *raw_value)
{
	if (name_is(name, "Subject"))
		return " [...]";
	if (name_is(name, "Keywords") || name_is(name, "Comments"))
		return NULL;
	return raw_value;
}

/* "HP-Outer: Name: value" for one outer field (RFC 9788 section 2.2). */
static int append_hp_outer(struct buf *b, const char *name, const char *value)
{
	int r = buf_append_str(b, "HP-Outer: ");
	if (r < 0 || (r = buf_append_str(b, name)) < 0 || (r = buf_append(b, ": ", 2)) < 0)
		return r;
	value = value_skip_ws(value);
	r = append_crlf(b, (const uint8_t *)value, value_trim_end(value));
	if (r < 0)
		return r;
	return buf_append(b, "\r\n", 2);
}

/* The protected header fields, in their original order and bytes. */
static int payload_protected(struct gm *g, struct buf *b)
{
	GMimeHeaderList *hl = gm_headers(g);
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		if (is_bcc(name) || is_structural(name))
			continue;
		int r = append_field(b, g_mime_header_get_raw_name(h), g_mime_header_get_raw_value(h));
		if (r < 0)
			return r;
	}
	return 0;
}

/* The outer header section per hcp_baseline, and the matching HP-Outer
 * fields in the payload. */
static int payload_outer(struct gm *g, struct buf *payload, struct buf *outer)
{
	GMimeHeaderList *hl = gm_headers(g);
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		if (is_bcc(name) || is_structural(name))
			continue;
		const char *v = hcp_baseline(name, g_mime_header_get_raw_value(h));
		if (v == NULL)
			continue;
		const char *raw_name = g_mime_header_get_raw_name(h);
		int r = append_field(outer, raw_name, v);
		if (r < 0 || (r = append_hp_outer(payload, raw_name, v)) < 0)
			return r;
	}
	return 0;
}

/* Content-Type with hp="cipher" appended to the user's own parameters. */
static int append_content_type(struct buf *b, GMimeHeader *h)
{
	const char *v = g_mime_header_get_raw_value(h);
	size_t n = value_trim_end(v);
	while (n > 0 && (v[n - 1] == ';' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	int r = buf_append_str(b, g_mime_header_get_raw_name(h));
	if (r < 0 || (r = buf_append(b, ":", 1)) < 0)
		return r;
	if ((r = append_crlf(b, (const uint8_t *)v, n)) < 0)
		return r;
	return buf_append_str(b, "; hp=\"cipher\"\r\n");
}

/* The body's Content-* fields; a default text/plain when there are none,
 * and "8bit" when an 8-bit body has no transfer encoding. */
static int payload_content(struct gm *g, const uint8_t *body, size_t body_len, struct buf *b)
{
	GMimeObject *part = gm_part(g);
	GMimeHeaderList *hl = g_mime_object_get_header_list(part);
	int eight = has_8bit(body, body_len), r = 0;
	if (g_mime_object_get_content_type_parameter(part, "hp") != NULL)
		return SM_EINVAL; /* the letter may not pre-empt our marker */
	if (!g_mime_header_list_contains(hl, "Content-Type"))
		r = buf_appendf(b, "Content-Type: text/plain; charset=%s; hp=\"cipher\"\r\n",
				eight ? "utf-8" : "us-ascii");
	if (r == 0 && eight && !g_mime_header_list_contains(hl, "Content-Transfer-Encoding"))
		r = buf_append_str(b, "Content-Transfer-Encoding: 8bit\r\n");
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n && r == 0; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		if (name_is(name, "Content-Type"))
			r = append_content_type(b, h);
		else if (g_ascii_strncasecmp(name, "Content-", 8) == 0)
			r = append_field(b, g_mime_header_get_raw_name(h), g_mime_header_get_raw_value(h));
	}
	return r;
}

static int letter_payload(struct gm *g, const uint8_t *msg, size_t len, struct mime_letter *l)
{
	const uint8_t *body = msg + g->body_off;
	size_t body_len = len - g->body_off;
	int r = payload_protected(g, &l->payload);
	if (r < 0 || (r = payload_content(g, body, body_len, &l->payload)) < 0)
		return r;
	if ((r = payload_outer(g, &l->payload, &l->outer_headers)) < 0)
		return r;
	if ((r = buf_append(&l->payload, "\r\n", 2)) < 0)
		return r;
	return append_crlf(&l->payload, body, body_len);
}

static void letter_init(struct mime_letter *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->payload, max);
	buf_init(&l->outer_headers, max);
}

void mime_letter_free(struct mime_letter *l)
{
	if (l == NULL)
		return;
	free(l->from);
	l->from = NULL;
	list_free(&l->to_cc);
	list_free(&l->bcc);
	buf_free(&l->payload);
	buf_free(&l->outer_headers);
}

int mime_letter_parse(const uint8_t *msg, size_t len, size_t max, struct mime_letter *ret)
{
	struct gm g;
	letter_init(ret, max);
	if (msg == NULL && len > 0)
		return SM_EINVAL;
	gm_init(&g);
	int r = gm_parse(&g, msg, len);
	if (r < 0 || (r = letter_from(&g, ret)) < 0)
		goto fail;
	if ((r = letter_recipients(&g, ret)) < 0)
		goto fail;
	r = SM_EPARSE; /* two Subject (To, Date, ...) fields: which one is meant? */
	if (g.dup_field)
		goto fail;
	if ((r = letter_payload(&g, msg, len, ret)) < 0)
		goto fail;
	gm_free(&g);
	return 0;
fail:
	gm_free(&g);
	mime_letter_free(ret);
	letter_init(ret, max);
	return r;
}

/* ---- the outer PGP/MIME message (RFC 3156) ---------------------------- */

static int is_7bit_text(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || (s[i] & 0x80))
			return 0;
	return 1;
}

static int contains(const uint8_t *s, size_t n, const char *needle, size_t k)
{
	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (s[i] == (uint8_t)needle[0] && memcmp(s + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Random hex; redrawn in the (2^-128) case that the data contains it. */
static int boundary_make(const uint8_t *data, size_t len, char ret[2 * BOUNDARY_BYTES + 1])
{
	unsigned char rnd[BOUNDARY_BYTES];
	for (int tries = 0; tries < 8; tries++) {
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(ret, 2 * BOUNDARY_BYTES + 1, rnd, sizeof(rnd));
		if (!contains(data, len, ret, 2 * BOUNDARY_BYTES))
			return 0;
	}
	return SM_EINVAL;
}

static int build_parts(struct buf *out, const char *bnd, const uint8_t *armored, size_t len)
{
	int r = buf_appendf(out,
			    "MIME-Version: 1.0\r\n"
			    "Content-Type: multipart/encrypted;\r\n"
			    " protocol=\"application/pgp-encrypted\";\r\n"
			    " boundary=\"%s\"\r\n"
			    "\r\n"
			    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
			    "--%s\r\n"
			    "Content-Type: application/pgp-encrypted\r\n"
			    "Content-Description: PGP/MIME version identification\r\n"
			    "\r\n"
			    "Version: 1\r\n"
			    "\r\n"
			    "--%s\r\n"
			    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
			    "Content-Description: OpenPGP encrypted message\r\n"
			    "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
			    "\r\n",
			    bnd, bnd, bnd);
	if (r < 0 || (r = append_crlf(out, armored, len)) < 0)
		return r;
	/* The CRLF before a delimiter belongs to the delimiter (RFC 2046), so
	 * this one keeps the armored data's own last line break intact. */
	return buf_appendf(out, "\r\n--%s--\r\n", bnd);
}

int mime_encrypted_build(const struct mime_letter *l, const uint8_t *armored, size_t len,
			 struct buf *out)
{
	char bnd[2 * BOUNDARY_BYTES + 1];
	if (l == NULL || out == NULL || armored == NULL || len == 0)
		return SM_EINVAL;
	if (l->outer_headers.len == 0 || !is_7bit_text(armored, len))
		return SM_EINVAL;
	int r = boundary_make(armored, len, bnd);
	if (r < 0)
		return r;
	size_t start = out->len;
	r = buf_append(out, l->outer_headers.data, l->outer_headers.len);
	if (r < 0 || (r = build_parts(out, bnd, armored, len)) < 0)
		goto fail;
	return 0;
fail:
	out_rollback(out, start);
	return r;
}

/* ---- reading ---------------------------------------------------------- */

/* Decoded content (Content-Transfer-Encoding undone) of a leaf part. */
static int part_decode(GMimeObject *o, GByteArray **ret, GMimeStream **ret_mem)
{
	GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)o);
	if (w == NULL)
		return SM_EPARSE;
	GMimeStream *mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, mem) < 0) {
		g_object_unref(mem);
		return SM_EPARSE;
	}
	*ret = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
	*ret_mem = mem;
	return 0;
}

static int leaf_is(GMimeObject *o, const char *type, const char *subtype)
{
	return GMIME_IS_PART(o) && !GMIME_IS_MULTIPART(o) &&
	       g_mime_content_type_is_type(g_mime_object_get_content_type(o), type, subtype);
}

/* RFC 3156 section 4: a line "Version: 1" in the control part. */
static int control_part_ok(GMimeObject *o)
{
	GByteArray *ba;
	GMimeStream *mem;
	if (!leaf_is(o, "application", "pgp-encrypted") || part_decode(o, &ba, &mem) < 0)
		return 0;
	int ok = 0;
	size_t i = 0;
	while (i < ba->len && !ok) {
		const guint8 *line = ba->data + i, *nl = memchr(line, '\n', ba->len - i);
		size_t n = nl != NULL ? (size_t)(nl - line) : ba->len - i;
		i += n + 1;
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		ok = n == 10 && memcmp(line, "Version: 1", 10) == 0;
	}
	g_object_unref(mem);
	return ok;
}

/* Top level multipart/encrypted; protocol="application/pgp-encrypted"
 * with exactly the control part and an application/octet-stream part. */
static int encrypted_data_part(struct gm *g, GMimeObject **ret)
{
	GMimeObject *top = gm_part(g);
	GMimeContentType *ct = g_mime_object_get_content_type(top);
	if (!GMIME_IS_MULTIPART(top) || !g_mime_content_type_is_type(ct, "multipart", "encrypted"))
		return SM_EPARSE;
	const char *proto = g_mime_content_type_get_parameter(ct, "protocol");
	if (proto == NULL || g_ascii_strcasecmp(proto, "application/pgp-encrypted") != 0)
		return SM_EPARSE;
	GMimeMultipart *mp = (GMimeMultipart *)top;
	if (g_mime_multipart_get_count(mp) != 2 || !control_part_ok(g_mime_multipart_get_part(mp, 0)))
		return SM_EPARSE;
	GMimeObject *data = g_mime_multipart_get_part(mp, 1);
	if (!leaf_is(data, "application", "octet-stream"))
		return SM_EPARSE;
	*ret = data;
	return 0;
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* base64 (with line breaks) grows data by < 3/2; allow that plus room for
 * the outer header section and MIME overhead, and nothing more. */
static size_t extract_input_max(const struct buf *pgp, const struct buf *hdrs)
{
	size_t room = pgp->max - pgp->len;
	size_t m = sat_add(room, room / 2);
	m = sat_add(m, hdrs->max - hdrs->len);
	return sat_add(m, EXTRACT_SLACK);
}

static int extract_append(struct gm *g, const uint8_t *msg, GByteArray *data,
			  struct buf *ret_pgp, struct buf *ret_hdrs)
{
	size_t pgp_start = ret_pgp->len, hdr_start = ret_hdrs->len;
	size_t hdr_len = g->body_off;
	/* body_off is past the empty line; the header section excludes it */
	if (hdr_len >= 2 && msg[hdr_len - 2] == '\r')
		hdr_len -= 2;
	else if (hdr_len >= 1)
		hdr_len -= 1;
	int r = buf_append(ret_pgp, data->data, data->len);
	if (r < 0)
		return r;
	if ((r = append_crlf(ret_hdrs, msg, hdr_len)) < 0) {
		out_rollback(ret_hdrs, hdr_start);
		out_rollback(ret_pgp, pgp_start);
	}
	return r;
}

int mime_encrypted_extract(const uint8_t *msg, size_t len, struct buf *ret_pgp,
			   struct buf *ret_outer_headers)
{
	struct gm g;
	GMimeObject *data;
	GByteArray *ba = NULL;
	GMimeStream *mem = NULL;
	if ((msg == NULL && len > 0) || ret_pgp == NULL || ret_outer_headers == NULL)
		return SM_EINVAL;
	if (len > extract_input_max(ret_pgp, ret_outer_headers))
		return SM_ETOOBIG;
	gm_init(&g);
	int r = gm_parse(&g, msg, len);
	if (r < 0 || (r = encrypted_data_part(&g, &data)) < 0)
		goto fail;
	if ((r = part_decode(data, &ba, &mem)) < 0)
		goto fail;
	r = ba->len == 0 ? SM_EPARSE : extract_append(&g, msg, ba, ret_pgp, ret_outer_headers);
fail:
	if (mem != NULL)
		g_object_unref(mem);
	gm_free(&g);
	return r;
}

/* hp="cipher" or hp="clear" on the payload's Content-Type (RFC 9788). */
static int payload_has_hp(struct gm *g)
{
	const char *hp = g_mime_object_get_content_type_parameter(gm_part(g), "hp");
	return hp != NULL && (g_ascii_strcasecmp(hp, "cipher") == 0 || g_ascii_strcasecmp(hp, "clear") == 0);
}

/* Exactly one valid From mailbox gives its address; none gives ""; more
 * than one, or one we cannot read, is an error: the caller matches this
 * against the signer, and ambiguity there is a spoofing vector. */
static int restore_from(struct gm *g, GMimeHeaderList *hl, char ret[MIME_ADDR_MAX + 1])
{
	struct from_acc f;
	int r = from_find(g, hl, &f);
	if (r < 0 || f.n > 1)
		return SM_EPARSE;
	memcpy(ret, f.n == 1 ? f.first : "", f.n == 1 ? strlen(f.first) + 1 : 1);
	return 0;
}

/* Outer non-MIME fields the payload does not carry itself (a legacy
 * payload may hold some protected fields without hp="..."). */
static int restore_outer(struct gm *outer, GMimeHeaderList *inner, struct buf *out)
{
	GMimeHeaderList *hl = gm_headers(outer);
	int n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		if (is_structural(name) || g_mime_header_list_contains(inner, name))
			continue;
		int r = append_field(out, g_mime_header_get_raw_name(h), g_mime_header_get_raw_value(h));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Without hp: outer fields in front, From from the payload if it has one. */
static int restore_legacy(struct gm *p, const uint8_t *outer_headers, size_t outer_len,
			  struct buf *out, char from[MIME_ADDR_MAX + 1])
{
	struct gm o;
	int r = restore_from(p, gm_headers(p), from);
	if (r < 0 || outer_len == 0)
		return r;
	gm_init(&o);
	if ((r = gm_parse(&o, outer_headers, outer_len)) < 0)
		goto fail;
	if ((r = restore_outer(&o, gm_headers(p), out)) < 0)
		goto fail;
	if (from[0] == '\0')
		r = restore_from(&o, gm_headers(&o), from);
fail:
	gm_free(&o);
	return r;
}

int mime_payload_restore(const uint8_t *payload, size_t len, const uint8_t *outer_headers,
			 size_t outer_len, struct buf *out, char ret_from[MIME_ADDR_MAX + 1])
{
	struct gm g;
	char from[MIME_ADDR_MAX + 1] = "";
	if ((payload == NULL && len > 0) || (outer_headers == NULL && outer_len > 0) || out == NULL ||
	    ret_from == NULL)
		return SM_EINVAL;
	if (len > out->max - out->len)
		return SM_ETOOBIG; /* the payload is copied whole */
	size_t start = out->len;
	gm_init(&g);
	int r = gm_parse(&g, payload, len);
	if (r < 0 || (r = g.dup_field ? SM_EPARSE : 0) < 0)
		goto fail; /* the shown header must not depend on which copy wins */
	/* With hp the payload's header section is authoritative and already
	 * a complete message; it goes out byte for byte, HP-Outer included
	 * (a reader can compare it with what arrived outside). */
	if (payload_has_hp(&g))
		r = restore_from(&g, gm_headers(&g), from);
	else
		r = restore_legacy(&g, outer_headers, outer_len, out, from);
	/* The payload is a MIME entity, not yet a message: say so, or strict
	 * readers take the shown message for plain text (RFC 2045 section 4). */
	if (r == 0 && !g_mime_header_list_contains(gm_headers(&g), "MIME-Version"))
		r = buf_append_str(out, "MIME-Version: 1.0\r\n");
	if (r < 0 || (r = buf_append(out, payload, len)) < 0)
		goto fail;
	gm_free(&g);
	memcpy(ret_from, from, strlen(from) + 1);
	return 0;
fail:
	gm_free(&g);
	out_rollback(out, start);
	return r;
}
