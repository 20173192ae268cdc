/* wks.c: Web Key Service messages. See wks.h. */
#include "wks.h"

#include <string.h>
#include <strings.h>

/* ---- reading ---- */

struct line {
	const uint8_t *p;
	size_t len;
};

/* The next line (without LF or CRLF) from *off; 0 at the end of text. */
static int next_line(const uint8_t *text, size_t len, size_t *off, struct line *ret)
{
	if (*off >= len)
		return 0;
	const uint8_t *nl = memchr(text + *off, '\n', len - *off);
	size_t end = nl ? (size_t)(nl - text) : len;
	ret->p = text + *off;
	ret->len = end - *off;
	if (ret->len > 0 && ret->p[ret->len - 1] == '\r')
		ret->len--;
	*off = nl ? end + 1 : len;
	return 1;
}

/* "name: value" (spaces and tabs around value dropped): 1 and value, else 0. */
static int field(struct line l, const char *name, struct line *ret_value)
{
	size_t n = strlen(name);
	if (l.len < n + 1 || strncasecmp((const char *)l.p, name, n) != 0 || l.p[n] != ':')
		return 0;
	size_t i = n + 1, end = l.len;
	while (i < end && (l.p[i] == ' ' || l.p[i] == '\t'))
		i++;
	while (end > i && (l.p[end - 1] == ' ' || l.p[end - 1] == '\t'))
		end--;
	ret_value->p = l.p + i;
	ret_value->len = end - i;
	return 1;
}

/* The value of a Content-Type header is type/subtype, then maybe ";...". */
static int content_type_is(struct line value, const char *type)
{
	size_t n = strlen(type);
	if (value.len < n || strncasecmp((const char *)value.p, type, n) != 0)
		return 0;
	return value.len == n || value.p[n] == ';' || value.p[n] == ' ';
}

/* Reads the header section up to the empty line; 0 if its Content-Type is
 * type (and no header line is malformed), *off then at the body. */
static int header_section(const uint8_t *text, size_t len, size_t *off, const char *type)
{
	struct line l, v;
	int typed = 0;
	while (next_line(text, len, off, &l)) {
		if (l.len == 0)
			return typed ? 0 : SM_EPARSE;
		if (l.p[0] == ' ' || l.p[0] == '\t')
			continue; /* a folded continuation */
		if (memchr(l.p, ':', l.len) == NULL)
			return SM_EPARSE;
		if (field(l, "Content-Type", &v)) {
			if (typed || !content_type_is(v, type))
				return SM_EPARSE;
			typed = 1;
		}
	}
	return SM_EPARSE;
}

int wks_submission_parse(const uint8_t *text, size_t len, const uint8_t **ret_key, size_t *ret_len)
{
	size_t off = 0;
	if (text == NULL || len > WKS_MAX || header_section(text, len, &off, "application/pgp-keys") < 0)
		return SM_EPARSE;
	while (off < len && (text[off] == '\r' || text[off] == '\n'))
		off++;
	if (off == len)
		return SM_EPARSE;
	*ret_key = text + off;
	*ret_len = len - off;
	return 0;
}

static int copy_value(struct line v, char *out, size_t max)
{
	if (v.len == 0 || v.len >= max || memchr(v.p, 0, v.len) != NULL)
		return SM_EPARSE;
	memcpy(out, v.p, v.len);
	out[v.len] = 0;
	return 0;
}

static int address_ok(const char *s)
{
	struct wkd_address a;
	return wkd_address_parse(s, &a) == 0;
}

static int nonce_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < WKS_NONCE_MIN || n > WKS_NONCE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* One "name: value" field into out, refusing a second one. */
static int take(struct line l, const char *name, char *out, size_t max, int *seen)
{
	struct line v;
	if (!field(l, name, &v))
		return 0;
	if (*seen || copy_value(v, out, max) < 0)
		return SM_EPARSE;
	*seen = 1;
	return 1;
}

int wks_response_parse(const uint8_t *text, size_t len, struct wks_response *ret)
{
	struct wks_response r;
	struct line l, v;
	size_t off = 0;
	int type = 0, sender = 0, address = 0, nonce = 0;
	if (text == NULL || ret == NULL || len > WKS_MAX ||
	    header_section(text, len, &off, "application/vnd.gnupg.wks") < 0)
		return SM_EPARSE;
	memset(&r, 0, sizeof(r));
	while (next_line(text, len, &off, &l)) {
		int got = 0;
		if (field(l, "type", &v)) {
			if (type || v.len != 21 || memcmp(v.p, "confirmation-response", 21) != 0)
				return SM_EPARSE;
			type = 1;
			continue;
		}
		if ((got = take(l, "sender", r.sender, sizeof(r.sender), &sender)) == 0 &&
		    (got = take(l, "address", r.address, sizeof(r.address), &address)) == 0)
			got = take(l, "nonce", r.nonce, sizeof(r.nonce), &nonce);
		if (got < 0)
			return SM_EPARSE;
	}
	if (!type || !sender || !address || !nonce || !address_ok(r.sender) ||
	    !address_ok(r.address) || !nonce_ok(r.nonce))
		return SM_EPARSE;
	*ret = r;
	return 0;
}

int wks_header_from(const uint8_t *headers, size_t len, struct wkd_address *ret)
{
	char value[WKS_ADDR_MAX + 256];
	size_t off = 0, n = 0;
	struct line l, v;
	int seen = 0;
	if (headers == NULL || ret == NULL)
		return SM_EPARSE;
	while (next_line(headers, len, &off, &l) && l.len > 0) {
		if ((l.p[0] == ' ' || l.p[0] == '\t') && seen == 1 && n > 0) {
			if (n + l.len >= sizeof(value)) /* a folded From field: unfold */
				return SM_EPARSE;
			memcpy(value + n, l.p, l.len);
			n += l.len;
			continue;
		}
		if (seen == 1)
			seen = 2; /* the From field ended */
		if (!field(l, "From", &v))
			continue;
		if (seen || v.len >= sizeof(value))
			return SM_EPARSE;
		memcpy(value, v.p, v.len);
		n = v.len;
		seen = 1;
	}
	if (!seen || n == 0)
		return SM_EPARSE;
	value[n] = 0;
	char *spec = value, *lt = strrchr(value, '<'), *gt = strrchr(value, '>');
	if (lt != NULL) {
		if (gt == NULL || gt < lt || strchr(lt + 1, '<') != NULL)
			return SM_EPARSE;
		*gt = 0;
		spec = lt + 1;
	} else if (strpbrk(value, " \t,;\"") != NULL) {
		return SM_EPARSE;
	}
	return wkd_address_parse(spec, ret) == 0 ? 0 : SM_EPARSE;
}

/* ---- writing ---- */

int wks_request_text(const char *sender, const char *address, const char *fpr_hex,
		     const char *nonce, struct buf *out)
{
	if (!address_ok(sender) || !address_ok(address) || fpr_hex == NULL ||
	    strlen(fpr_hex) != 40 || !nonce_ok(nonce))
		return SM_EINVAL;
	return buf_appendf(out, "type: confirmation-request\nsender: %s\naddress: %s\n"
				"fingerprint: %s\nnonce: %s\n", sender, address, fpr_hex, nonce);
}

/* Appends text with every line ending (LF or CRLF) made CRLF; a CR
 * anywhere else is refused. */
static int append_crlf(struct buf *out, const uint8_t *text, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'))
			return SM_EINVAL;
		if (text[i] != '\n')
			continue;
		size_t end = i > start && text[i - 1] == '\r' ? i - 1 : i;
		int r = buf_append(out, text + start, end - start);
		if (r == 0)
			r = buf_append(out, "\r\n", 2);
		if (r < 0)
			return r;
		start = i + 1;
	}
	if (start < len && buf_append(out, text + start, len - start) < 0)
		return SM_ENOMEM;
	return start < len ? buf_append(out, "\r\n", 2) : 0;
}

/* Boundaries cannot occur in armored data (base64 and "-----BEGIN"). */
#define MIXED "wks-mixed-8m2Ck"
#define SIGNED "wks-signed-4tQz7"

int wks_request_part(const char *address, const uint8_t *armored, size_t len, struct buf *out)
{
	if (!address_ok(address) || armored == NULL || len == 0)
		return SM_EINVAL;
	size_t mark = out->len;
	int r = buf_appendf(out,
			    "Content-Type: multipart/mixed; boundary=\"" MIXED "\"\r\n\r\n"
			    "--" MIXED "\r\n"
			    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
			    "This message was sent by the key directory of your domain to confirm\r\n"
			    "that you asked to publish your key for %s.\r\n"
			    "Your mail program (gpg-wks-client) answers it for you; if you did\r\n"
			    "not ask for this, ignore it and nothing will be published.\r\n"
			    "--" MIXED "\r\n"
			    "Content-Type: application/vnd.gnupg.wks\r\n"
			    "Content-Transfer-Encoding: 7bit\r\n\r\n",
			    address);
	if (r == 0)
		r = append_crlf(out, armored, len);
	if (r == 0)
		r = buf_append_str(out, "--" MIXED "--\r\n");
	if (r < 0)
		out->len = mark;
	return r;
}

int wks_request_mail(const char *sender, const char *address, const char *date,
		     const char *message_id, const struct buf *part, const uint8_t *sig_armored,
		     size_t sig_len, struct buf *out)
{
	if (!address_ok(sender) || !address_ok(address) || date == NULL || message_id == NULL ||
	    part == NULL || part->len == 0 || sig_armored == NULL || sig_len == 0 ||
	    strpbrk(date, "\r\n") != NULL || strpbrk(message_id, "\r\n") != NULL)
		return SM_EINVAL;
	size_t mark = out->len;
	int r = buf_appendf(out,
			    "From: %s\r\nTo: %s\r\nSubject: Confirm your key publication\r\n"
			    "Date: %s\r\nMessage-ID: %s\r\nWks-Draft-Version: 3\r\n"
			    "Wks-Phase: confirm\r\nMIME-Version: 1.0\r\n"
			    "Content-Type: multipart/signed; protocol=\"application/pgp-signature\";"
			    " micalg=pgp-sha256;\r\n\tboundary=\"" SIGNED "\"\r\n\r\n"
			    "--" SIGNED "\r\n",
			    sender, address, date, message_id);
	if (r == 0)
		r = buf_append(out, part->data, part->len);
	if (r == 0)
		r = buf_append_str(out, "\r\n--" SIGNED "\r\n"
					"Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n");
	if (r == 0)
		r = append_crlf(out, sig_armored, sig_len);
	if (r == 0)
		r = buf_append_str(out, "--" SIGNED "--\r\n");
	if (r < 0)
		out->len = mark;
	return r;
}
