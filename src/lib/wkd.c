#include "wkd.h"

#include <string.h>

#include <glib.h>

/* RFC 6189 z-base-32 alphabet, as WKD uses it. */
static const char zb32_alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Characters allowed in a local part: printable ASCII minus space and the
 * specials that cannot appear unquoted; UTF-8 (RFC 6531) bytes pass. */
static int local_char_ok(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if (c <= 0x20 || c == 0x7f)
		return 0;
	return strchr("\"(),:;<>@[\\]", c) == NULL;
}

static int domain_valid(const char *d, size_t len)
{
	size_t label = 0;
	if (len == 0 || len > WKD_DOMAIN_MAX || d[0] == '.' || d[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		int ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-';
		if (!ldh || (label == 0 && c == '-') || ++label > 63)
			return 0;
	}
	return d[len - 1] != '-';
}

int wkd_address_parse(const char *address, struct wkd_address *ret)
{
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return SM_EINVAL;
	size_t llen = (size_t)(at - address);
	size_t dlen = strlen(at + 1);
	if (llen == 0 || llen > WKD_LOCAL_MAX || !domain_valid(at + 1, dlen))
		return SM_EINVAL;
	for (size_t i = 0; i < llen; i++)
		if (!local_char_ok((unsigned char)address[i]))
			return SM_EINVAL;
	memcpy(ret->local, address, llen);
	ret->local[llen] = 0;
	for (size_t i = 0; i < dlen; i++)
		ret->domain[i] = (char)ascii_lower((unsigned char)at[1 + i]);
	ret->domain[dlen] = 0;
	return 0;
}

int wkd_address_format(const struct wkd_address *a, char *ret, size_t ret_size)
{
	size_t l = strlen(a->local), d = strlen(a->domain);
	if (l + 1 + d + 1 > ret_size)
		return SM_ETOOBIG;
	memcpy(ret, a->local, l);
	ret[l] = '@';
	memcpy(ret + l + 1, a->domain, d + 1);
	return 0;
}

/* 20 bytes of SHA-1 are 160 bits: exactly 32 five-bit groups. */
static void zb32_encode_sha1(const unsigned char digest[20], char out[WKD_HASH_LEN + 1])
{
	unsigned acc = 0, bits = 0, o = 0;
	for (unsigned i = 0; i < 20; i++) {
		acc = (acc << 8) | digest[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = zb32_alphabet[(acc >> bits) & 31];
		}
	}
	out[o] = 0;
}

int wkd_hash_local_part(const char *local, char ret[WKD_HASH_LEN + 1])
{
	size_t len = strlen(local);
	unsigned char lower[WKD_LOCAL_MAX], digest[20];
	if (len == 0 || len > WKD_LOCAL_MAX)
		return SM_EINVAL;
	for (size_t i = 0; i < len; i++)
		lower[i] = (unsigned char)ascii_lower((unsigned char)local[i]);
	/* SHA-1 is what the WKD draft mandates; libsodium lacks it, GLib
	 * (already linked through GMime) has it. */
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA1);
	gsize dlen = sizeof(digest);
	if (ck == NULL)
		return SM_ENOMEM;
	g_checksum_update(ck, lower, (gssize)len);
	g_checksum_get_digest(ck, digest, &dlen);
	g_checksum_free(ck);
	zb32_encode_sha1(digest, ret);
	return 0;
}

/* Percent-encodes everything outside RFC 3986 "unreserved". */
static int append_pct(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || strchr("-._~", c) != NULL;
		char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
		int r = keep ? buf_append(b, s, 1) : buf_append(b, enc, 3);
		if (r < 0)
			return r;
	}
	return 0;
}

static int wkd_url(const struct wkd_address *a, int advanced, struct buf *ret)
{
	char hash[WKD_HASH_LEN + 1];
	int r = wkd_hash_local_part(a->local, hash);
	if (r < 0)
		return r;
	if (advanced)
		r = buf_appendf(ret, "https://openpgpkey.%s/.well-known/openpgpkey/%s/hu/%s?l=",
				a->domain, a->domain, hash);
	else
		r = buf_appendf(ret, "https://%s/.well-known/openpgpkey/hu/%s?l=", a->domain, hash);
	return r < 0 ? r : append_pct(ret, a->local);
}

int wkd_url_advanced(const struct wkd_address *a, struct buf *ret)
{
	return wkd_url(a, 1, ret);
}

int wkd_url_direct(const struct wkd_address *a, struct buf *ret)
{
	return wkd_url(a, 0, ret);
}

int wkd_address_equal(const struct wkd_address *a, const struct wkd_address *b)
{
	return g_ascii_strcasecmp(a->local, b->local) == 0 &&
	       strcmp(a->domain, b->domain) == 0;
}
