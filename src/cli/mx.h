/* mx.h: where mail for a domain goes (RFC 5321 section 5.1, RFC 7505).
 *
 * mx_resolve() asks the system resolver (libresolv, /etc/resolv.conf) for
 * the domain's MX records and lists their hosts by preference, lowest
 * first; hosts of equal preference keep the order the server gave. A
 * domain without MX records but with a name of its own is its own
 * implicit MX. A "null MX" (a single "." exchange) says the domain
 * accepts no mail at all. Everything lives in the caller's struct; the
 * resolver is used from one thread only (res_query is not reentrant). */
#ifndef SEALMAIL_MX_H
#define SEALMAIL_MX_H

#include <stdbool.h>
#include <stddef.h>

#define MX_HOSTS_MAX 16  /* exchanges tried for one domain; more are ignored */
#define MX_NAME_MAX 253

enum mx_err {
	MX_OK = 0,
	MX_ENULL = -1,     /* null MX: the domain accepts no mail (permanent) */
	MX_ENODOMAIN = -2, /* the domain does not exist (permanent) */
	MX_ETEMP = -3,     /* no usable answer now: server failure, time-out, malformed answer */
};

struct mx_host {
	unsigned preference;
	char name[MX_NAME_MAX + 1];
};

struct mx_list {
	struct mx_host hosts[MX_HOSTS_MAX];
	size_t n;
	bool implicit; /* no MX records: hosts[0] is the domain itself */
};

/* Fills ret with domain's mail exchanges. Returns MX_OK, or one of the
 * errors above with ret->n == 0. */
int mx_resolve(const char *domain, struct mx_list *ret) __attribute__((warn_unused_result));

/* A short English phrase for an mx_err. */
const char *mx_strerror(int err);

#endif
