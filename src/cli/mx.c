#include "mx.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <string.h>

#define MX_ANSWER_MAX 65535 /* the largest DNS message */

/* Reads one MX record's preference and exchange name; returns 1 for an MX
 * record, 0 for another type (a CNAME in the chain), MX_ETEMP if malformed. */
static int mx_record(ns_msg *msg, int i, struct mx_host *ret)
{
	ns_rr rr;
	if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
		return MX_ETEMP;
	if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
		return 0;
	if (ns_rr_rdlen(rr) < 3)
		return MX_ETEMP;
	const unsigned char *rd = ns_rr_rdata(rr);
	char name[NS_MAXDNAME];
	if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), rd + 2, name, sizeof(name)) < 0)
		return MX_ETEMP;
	if (strlen(name) > MX_NAME_MAX)
		return MX_ETEMP;
	ret->preference = ns_get16(rd);
	if (strcmp(name, ".") == 0) /* the root: a null MX */
		name[0] = 0;
	memcpy(ret->name, name, strlen(name) + 1);
	return 1;
}

/* Inserts h into the list kept sorted by preference, after equals. */
static void mx_insert(struct mx_list *l, const struct mx_host *h)
{
	if (l->n == MX_HOSTS_MAX)
		return;
	size_t i = l->n;
	while (i > 0 && l->hosts[i - 1].preference > h->preference) {
		l->hosts[i] = l->hosts[i - 1];
		i--;
	}
	l->hosts[i] = *h;
	l->n++;
}

/* Walks the answer section. An empty exchange (the root, ".") is a null MX. */
static int mx_parse(const unsigned char *answer, int len, struct mx_list *l)
{
	ns_msg msg;
	if (ns_initparse(answer, len, &msg) < 0)
		return MX_ETEMP;
	bool null_mx = false;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		struct mx_host h;
		int r = mx_record(&msg, i, &h);
		if (r < 0)
			return r;
		if (r == 1 && h.name[0] == 0)
			null_mx = true;
		else if (r == 1)
			mx_insert(l, &h);
	}
	if (null_mx)
		return MX_ENULL;
	return MX_OK;
}

/* No MX records (NODATA): the domain is its own mail exchange. */
static int mx_implicit(const char *domain, struct mx_list *l)
{
	size_t n = strlen(domain);
	if (n > MX_NAME_MAX)
		return MX_ENODOMAIN;
	memcpy(l->hosts[0].name, domain, n + 1);
	l->hosts[0].preference = 0;
	l->n = 1;
	l->implicit = true;
	return MX_OK;
}

int mx_resolve(const char *domain, struct mx_list *ret)
{
	unsigned char answer[MX_ANSWER_MAX];
	struct mx_list l = {.n = 0, .implicit = false};
	ret->n = 0;
	if ((_res.options & RES_INIT) == 0 && res_init() < 0)
		return MX_ETEMP;
	int len = res_query(domain, ns_c_in, ns_t_mx, answer, sizeof(answer));
	int r;
	if (len < 0 && h_errno == NO_DATA)
		r = mx_implicit(domain, &l);
	else if (len < 0)
		return h_errno == HOST_NOT_FOUND ? MX_ENODOMAIN : MX_ETEMP;
	else
		r = mx_parse(answer, len, &l);
	if (r == MX_OK && l.n == 0)
		r = mx_implicit(domain, &l);
	if (r == MX_OK)
		*ret = l;
	return r;
}

const char *mx_strerror(int err)
{
	switch (err) {
	case MX_OK: return "ok";
	case MX_ENULL: return "the domain accepts no mail (null MX, RFC 7505)";
	case MX_ENODOMAIN: return "the domain does not exist";
	default: return "its mail exchanges cannot be found now (DNS failure)";
	}
}
