/* conf.h: sealmaild.conf, parsed and validated from a memory buffer.
 *
 * The format is described in sealmaild.conf(5): one directive per line,
 * '#' comments, blank-separated words, double-quoted strings, global
 * directives and one or more "domain NAME { ... }" blocks. Parsing is
 * strict: an unknown, repeated, misplaced or malformed directive, a missing
 * required one, or a value out of range fails the whole file. The daemon
 * reads the file; this module never touches the file system. */
#ifndef SEALMAIL_CONF_H
#define SEALMAIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CONF_FILE_MAX (1u << 20) /* bytes in the whole file */
#define CONF_LINE_MAX 4096       /* bytes in one line, without its newline */
#define CONF_DOMAINS_MAX 1000
#define CONF_ERR_SIZE 256        /* enough for any error message */
#define CONF_ADDR_MAX 46         /* INET6_ADDRSTRLEN */

enum conf_family {
	CONF_ANY,  /* "*": every IPv4 and IPv6 address */
	CONF_INET,
	CONF_INET6,
};

struct conf_listen {
	enum conf_family family;
	char address[CONF_ADDR_MAX]; /* "*", dotted IPv4, or IPv6 without brackets */
	uint16_t port;               /* 1-65535 */
};

struct conf_domain {
	char *name;         /* lowercased, LDH labels; owned by the conf */
	char *maildir_root; /* absolute; mail for local@name goes to <maildir_root>/<lowercase local>/ */
	bool wkd;           /* serve this domain's key directory (default true) */
	bool mx;            /* accept mail for this domain (default true) */
	bool wks;           /* run the Web Key Service at key-submission@name (default false) */
	bool wks_auth_submit; /* publish submissions without confirmation (default false) */
};

/* Every string is owned by the struct conf and lives until conf_free().
 * Sizes are in bytes, timeouts in seconds. */
struct conf {
	char *state_dir;       /* absolute, required */
	char *user;            /* NULL: the network processes keep the user that started sealmaild */
	char *hostname;        /* lowercased; NULL: the daemon uses gethostname() */
	char *tls_certificate; /* absolute, required */
	char *tls_key;         /* absolute, required */
	char *policy_file;     /* absolute; NULL: an empty WKD policy file is served */
	struct conf_listen listen_https; /* default *:443 */
	struct conf_listen listen_smtp;  /* default *:25 */
	uint64_t max_message_size;       /* default 25M */
	uint64_t max_http_request;       /* default 8K */
	unsigned max_recipients;         /* default 100 */
	unsigned max_sessions;           /* default 500 */
	unsigned max_sessions_per_address; /* default 20, never above max_sessions */
	unsigned max_https_connections;  /* default 1000, in each HTTPS process */
	unsigned max_https_connections_per_address; /* default 50, never above the total */
	unsigned smtp_command_timeout;   /* default 300 */
	unsigned smtp_data_timeout;      /* default 600 */
	unsigned smtp_session_timeout;   /* default 1800: no session lasts longer */
	unsigned http_request_timeout;   /* default 10 */
	unsigned epoch_interval;         /* default 60: pending key changes are committed this often */
	unsigned lookup_rate;            /* key lookups a minute per client address; default 600 */
	unsigned wks_confirm_timeout;    /* default 3 days: how long a key submission can be confirmed */
	char *witnesses_file;            /* absolute; NULL: checkpoints are not submitted to witnesses */
	struct conf_domain *domains;     /* in file order, names unique */
	size_t ndomains;                 /* 1 to CONF_DOMAINS_MAX */
};

/* Parses len bytes of data (need not be NUL-terminated) into a new struct
 * conf that the caller frees with conf_free(); *ret is untouched on failure.
 * On failure err (if err_size > 0) holds a NUL-terminated, single-line,
 * printable message: "line N: ..." when the error belongs to a line,
 * otherwise about the whole file (a missing directive, no domain).
 * Returns 0, SM_EPARSE for an invalid file, SM_ETOOBIG for a file over
 * CONF_FILE_MAX, or SM_ENOMEM. */
int conf_parse(const char *data, size_t len, struct conf **ret, char *err, size_t err_size) SM_WUR;

/* Frees c and everything it owns. Accepts NULL. */
void conf_free(struct conf *c);

/* The domain block for name (ASCII case-insensitive), or NULL. The pointer
 * borrows from c and lives as long as c. */
const struct conf_domain *conf_find_domain(const struct conf *c, const char *name) SM_WUR;

#endif
