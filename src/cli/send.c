/* sealmail send [-t] [-i] [-oi] [-f SENDER] [-F NAME] [RECIPIENT...] < message
 *
 * sendmail-compatible: the envelope recipients are the arguments, or with
 * -t the message's To, Cc and Bcc plus the arguments. Every recipient
 * needs a key: from the key store, else from their domain's Web Key
 * Directory (pinned, as sealmail lookup does). The letter is sealed to all
 * of them (an envelope recipient the headers do not name is sealed to as
 * a Bcc) and handed over SMTP, one transaction per domain, to the domain's
 * MX or to the configured relay. Nothing is queued: the exit status says
 * whether the caller must try again (sysexits.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "letter.h"
#include "mime.h"
#include "mx.h"
#include "send_config.h"
#include "smtp_client.h"
#include "wkd.h"

#define SEND_ADDR_MAX (WKD_LOCAL_MAX + 1 + WKD_DOMAIN_MAX)

/* One envelope recipient, canonical. */
struct rcpt {
	char address[SEND_ADDR_MAX + 1];
	struct wkd_address a;
	bool has_key;
	bool grouped;                 /* already handed to a transaction */
	int code;                     /* as smtp_rcpt.code */
	char host[SEND_HOST_MAX + 1]; /* who gave that code */
	char text[SMTP_TEXT_MAX];
};

struct send_opts {
	bool from_headers; /* -t */
	const char *sender; /* -f */
	char **args;
	int nargs;
};

/* ---- recipients ---- */

struct rcpt_list {
	struct rcpt *v; /* owned, MIME_MAX_RCPTS entries */
	size_t n;
};

/* Adds address once (canonical form, WKD's notion of equality). */
static int rcpt_add(struct rcpt_list *l, const char *address)
{
	struct wkd_address a;
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_DATAERR;
	}
	for (size_t i = 0; i < l->n; i++)
		if (wkd_address_equal(&l->v[i].a, &a))
			return 0;
	if (l->n == MIME_MAX_RCPTS) {
		cli_error("more than %d recipients", MIME_MAX_RCPTS);
		return EX_DATAERR;
	}
	struct rcpt *r = &l->v[l->n];
	memset(r, 0, sizeof(*r));
	r->a = a;
	if (wkd_address_format(&a, r->address, sizeof(r->address)) < 0)
		return EX_DATAERR;
	l->n++;
	return 0;
}

static int rcpt_add_all(struct rcpt_list *l, const struct mime_addr_list *m)
{
	for (size_t i = 0; i < m->n; i++) {
		int st = rcpt_add(l, m->addrs[i]);
		if (st != 0)
			return st;
	}
	return 0;
}

/* The message to seal: the arguments put in front as Bcc, so that every
 * envelope recipient can decrypt; letter_seal drops those the To or Cc
 * already name, and no Bcc reaches the outer message. */
static int with_bcc(const struct buf *msg, const struct rcpt_list *args, struct buf *out)
{
	const uint8_t *lf = msg->len ? memchr(msg->data, '\n', msg->len) : NULL;
	const char *eol = lf != NULL && lf > msg->data && lf[-1] == '\r' ? "\r\n" : "\n";
	int r = 0;
	for (size_t i = 0; i < args->n && r == 0; i++)
		r = buf_appendf(out, "%s%s%s%s", i == 0 ? "Bcc: " : ",", i == 0 ? "" : eol,
				i == 0 ? "" : " ", args->v[i].address);
	if (args->n > 0 && r == 0)
		r = buf_append_str(out, eol);
	if (r == 0 && msg->len > 0)
		r = buf_append(out, msg->data, msg->len);
	return r < 0 ? EX_DATAERR : 0;
}

/* ---- keys ---- */

/* 0 when address has a key now (key store, else WKD and pin); EX_NOPERM
 * for a key that changed against its pin; EX_NOUSER when none was found. */
static int key_ensure(struct cli *c, const char *address)
{
	struct pgp_fpr fpr;
	struct lookup_info info;
	if (pgp_find_by_address(c->ctx, address, false, &fpr) == 0)
		return 0;
	int st = lookup_address(c, address, false, &info);
	if (st == 0)
		fprintf(cli_stderr(), "%s: key %s from %s (%s)\n", address, info.fpr[0].hex, info.source,
			info.pin_state);
	return st == 0 || st == EX_NOPERM ? st : EX_NOUSER;
}

/* Looks up every address the letter is sealed to; lists those without a key. */
static int keys_ensure(struct cli *c, struct rcpt_list *sealed, struct buf *missing)
{
	for (size_t i = 0; i < sealed->n; i++) {
		int st = key_ensure(c, sealed->v[i].address);
		if (st == EX_NOPERM)
			return st;
		sealed->v[i].has_key = st == 0;
		if (st != 0 && buf_appendf(missing, "  %s\n", sealed->v[i].address) < 0)
			return EX_SOFTWARE;
	}
	return 0;
}

/* ---- the message to send ---- */

static int seal(struct cli *c, const struct buf *in, struct buf *out)
{
	struct buf missing;
	buf_init(&missing, 1u << 20);
	int r = cli_letter_seal(c, in, out, &missing);
	int st = 0;
	if (r == SM_ENOSECRET) {
		cli_error("no secret key for the sender %.*s in %s; create one with: sealmail keygen "
			  "ADDRESS", (int)strcspn((const char *)missing.data, "\n"),
			  (const char *)missing.data, c->home);
		st = EX_NOUSER;
	} else if (r == SM_EINVAL || r == SM_EPARSE || r == SM_ETOOBIG) {
		cli_error("the message cannot be sealed: %s", sm_strerror(r));
		st = EX_DATAERR;
	} else if (r < 0) {
		cli_error("sealing failed: %s", sm_strerror(r));
		st = EX_SOFTWARE;
	}
	buf_free(&missing);
	return st;
}

/* Whether the header line at p (of n octets) starts a Bcc or Resent-Bcc field. */
static bool is_bcc_field(const uint8_t *p, size_t n)
{
	return (n >= 4 && strncasecmp((const char *)p, "Bcc:", 4) == 0) ||
	       (n >= 11 && strncasecmp((const char *)p, "Resent-Bcc:", 11) == 0);
}

/* The cleartext as sent when plaintext is allowed: Bcc fields removed
 * from the header section, the body untouched. */
static int without_bcc(const struct buf *msg, struct buf *out)
{
	size_t i = 0;
	bool skipping = false, in_headers = true;
	while (i < msg->len) {
		const uint8_t *p = msg->data + i;
		const uint8_t *lf = memchr(p, '\n', msg->len - i);
		size_t n = lf ? (size_t)(lf - p) + 1 : msg->len - i;
		if (in_headers && (n == 1 || (n == 2 && p[0] == '\r')))
			in_headers = false;
		if (in_headers && p[0] != ' ' && p[0] != '\t')
			skipping = is_bcc_field(p, n);
		if (!(in_headers && skipping) && buf_append(out, p, n) < 0)
			return EX_DATAERR;
		i += n;
	}
	return 0;
}

/* ---- delivery ---- */

struct send_job {
	struct send_config cf;
	struct smtp_policy pol;
	const char *from;             /* envelope sender */
	const uint8_t *msg;           /* what goes into DATA */
	size_t len;
};

/* Copies what the transaction said back into the recipient. */
static void outcome_set(struct rcpt *r, int code, const char *host, const char *text)
{
	r->code = code;
	snprintf(r->host, sizeof(r->host), "%s", host ? host : "");
	snprintf(r->text, sizeof(r->text), "%s", text);
}

/* Tries host with those of the group still pending (untried, or 4xx). */
static int try_host(const struct send_job *j, const char *host, const char *port,
		    struct rcpt **group, size_t n)
{
	struct smtp_rcpt s[MIME_MAX_RCPTS];
	struct rcpt *back[MIME_MAX_RCPTS];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (group[i]->code != 0 && group[i]->code / 100 != 4)
			continue;
		s[m] = (struct smtp_rcpt){.address = group[i]->address};
		back[m++] = group[i];
	}
	if (m == 0)
		return SMTP_DONE;
	struct smtp_envelope e = {.from = j->from, .rcpts = s, .n = m, .msg = j->msg, .len = j->len};
	int st = smtp_deliver(host, port, &j->pol, &e);
	for (size_t i = 0; i < m; i++)
		outcome_set(back[i], s[i].code, s[i].host, s[i].text);
	return st;
}

/* One domain: its MX hosts in order of preference until one takes it. */
static void deliver_domain(const struct send_job *j, const char *domain, struct rcpt **group,
			   size_t n)
{
	struct mx_list mx;
	int e = mx_resolve(domain, &mx);
	if (e != MX_OK) {
		int code = e == MX_ETEMP ? 451 : e == MX_ENULL ? 556 : 550;
		for (size_t i = 0; i < n; i++)
			outcome_set(group[i], code, domain, mx_strerror(e));
		return;
	}
	for (size_t i = 0; i < mx.n; i++)
		if (try_host(j, mx.hosts[i].name, "25", group, n) != SMTP_NEXT)
			return;
}

/* One transaction per recipient domain, or one through the relay. */
static void deliver_all(const struct send_job *j, struct rcpt_list *env)
{
	static struct rcpt *group[MIME_MAX_RCPTS];
	for (size_t i = 0; i < env->n; i++) {
		size_t n = 0;
		if (env->v[i].grouped)
			continue;
		for (size_t k = i; k < env->n; k++) {
			if (env->v[k].grouped || (j->cf.relay_host[0] == 0 &&
						  strcmp(env->v[k].a.domain, env->v[i].a.domain) != 0))
				continue;
			env->v[k].grouped = true;
			group[n++] = &env->v[k];
		}
		if (j->cf.relay_host[0] != 0)
			(void)try_host(j, j->cf.relay_host, j->cf.relay_port, group, n);
		else
			deliver_domain(j, env->v[i].a.domain, group, n);
	}
}

/* One line per recipient on stderr; the exit status for the worst outcome. */
static int report(const struct rcpt_list *env)
{
	FILE *f = cli_stderr();
	int st = 0;
	for (size_t i = 0; i < env->n; i++) {
		const struct rcpt *r = &env->v[i];
		if (r->code / 100 == 2) {
			fprintf(f, "%s: delivered to %s (%s)\n", r->address, r->host, r->text);
			continue;
		}
		bool later = r->code / 100 == 4 || r->code == 0;
		fprintf(f, "%s: not delivered%s: %s: %s\n", r->address,
			later ? ", try again later" : ", refused", r->host, r->text);
		if (!later)
			st = EX_UNAVAILABLE;
		else if (st == 0)
			st = EX_TEMPFAIL;
	}
	return st;
}

/* ---- the verb ---- */

static int send_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail send [-t] [-i] [-oi] [-f SENDER] [-F NAME] "
		"[RECIPIENT...] < message\n");
	return EX_USAGE;
}

/* sendmail's options; -i, -oi and -F are accepted and change nothing (the
 * message is read to the end of input, and a signed From is not rewritten). */
static int opts_parse(int argc, char **argv, struct send_opts *o)
{
	int ch;
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+tif:F:o:")) != -1) {
		if (ch == 't')
			o->from_headers = true;
		else if (ch == 'f')
			o->sender = optarg;
		else if (ch == '?' || (ch == 'o' && strcmp(optarg, "i") != 0))
			return send_usage();
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (!o->from_headers && o->nargs == 0) {
		cli_error("no recipients: name them, or use -t to take them from the message");
		return EX_USAGE;
	}
	return 0;
}

/* Everything one run holds; released by state_free. */
struct send_state {
	struct cli c;
	struct send_opts o;
	struct send_job job;
	struct buf in, aug, out;
	struct rcpt_list args, env, sealed;
	struct mime_letter letter;
	char password[SEND_CRED_MAX + 1];
};

static int state_init(struct send_state *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->in, LETTER_MAX);
	buf_init(&s->aug, LETTER_MAX + 64u * 1024);
	buf_init(&s->out, 2 * LETTER_MAX);
	s->args.v = calloc(MIME_MAX_RCPTS, sizeof(struct rcpt));
	s->env.v = calloc(MIME_MAX_RCPTS, sizeof(struct rcpt));
	s->sealed.v = calloc(MIME_MAX_RCPTS, sizeof(struct rcpt));
	return s->args.v && s->env.v && s->sealed.v ? 0 : EX_OSERR;
}

static void state_free(struct send_state *s)
{
	buf_free(&s->in);
	buf_free(&s->aug);
	buf_free(&s->out);
	free(s->args.v);
	free(s->env.v);
	free(s->sealed.v);
	mime_letter_free(&s->letter);
	explicit_bzero(s->password, sizeof(s->password));
	cli_close(&s->c);
}

/* Arguments, the message with them as Bcc, its recipients, the envelope. */
static int recipients(struct send_state *s)
{
	int st = 0;
	for (int i = 0; i < s->o.nargs && st == 0; i++)
		st = rcpt_add(&s->args, s->o.args[i]);
	if (st == 0)
		st = with_bcc(&s->in, &s->args, &s->aug);
	if (st != 0)
		return st;
	int r = mime_letter_parse(s->aug.data, s->aug.len, LETTER_MAX, &s->letter);
	if (r < 0) {
		cli_error("the input is not a usable message: it needs one From address%s (%s)",
			  s->o.from_headers ? " and a recipient in To, Cc or Bcc" : "",
			  sm_strerror(r));
		return EX_DATAERR;
	}
	st = rcpt_add_all(&s->sealed, &s->letter.to_cc);
	if (st == 0)
		st = rcpt_add_all(&s->sealed, &s->letter.bcc);
	if (st == 0 && s->o.from_headers)
		st = rcpt_add_all(&s->env, &s->letter.to_cc);
	if (st == 0 && s->o.from_headers)
		st = rcpt_add_all(&s->env, &s->letter.bcc);
	for (size_t i = 0; i < s->args.n && st == 0; i++)
		st = rcpt_add(&s->env, s->args.v[i].address);
	return st;
}

/* Seals, or, when some recipient has no key and the configuration allows
 * it, prepares the cleartext without Bcc. */
static int prepare(struct send_state *s)
{
	struct buf missing;
	buf_init(&missing, 1u << 20);
	int st = keys_ensure(&s->c, &s->sealed, &missing);
	if (st == 0 && missing.len > 0 && !s->job.cf.allow_plaintext) {
		cli_error("no key for these recipients; nothing was sent:\n%s(allow-plaintext yes in "
			  "%s/config sends them the message unencrypted)", (const char *)missing.data,
			  s->c.home);
		st = EX_NOUSER;
	} else if (st == 0 && missing.len > 0) {
		cli_error("no key for these recipients; as configured (allow-plaintext yes), the "
			  "message goes UNENCRYPTED to every recipient:\n%s", (const char *)missing.data);
		st = without_bcc(&s->in, &s->out);
	} else if (st == 0) {
		st = seal(&s->c, &s->aug, &s->out);
	}
	buf_free(&missing);
	return st;
}

/* The envelope sender and the SMTP policy. */
static int job_setup(struct send_state *s)
{
	struct send_job *j = &s->job;
	struct wkd_address a;
	j->from = s->o.sender ? s->o.sender : s->letter.from;
	if (wkd_address_parse(j->from, &a) < 0) {
		cli_error("'%s' is not a usable envelope sender", j->from);
		return s->o.sender ? EX_USAGE : EX_DATAERR;
	}
	j->pol = (struct smtp_policy){.helo = j->cf.helo, .timeout_s = j->cf.timeout_s,
				      .require_tls = j->cf.require_tls};
	if (j->cf.relay_host[0] == 0)
		return 0;
	j->pol.require_tls = true;
	if (j->cf.relay_user[0] == 0)
		return 0;
	j->pol.user = j->cf.relay_user;
	j->pol.password = s->password;
	return send_config_password(j->cf.relay_password_file, s->password);
}

static int send_run(struct send_state *s)
{
	int st = cli_open(&s->c);
	if (st == 0)
		st = send_config_load(s->c.home, &s->job.cf);
	if (st == 0)
		st = cli_read_input(NULL, &s->in);
	if (st == 0)
		st = recipients(s);
	if (st == 0)
		st = job_setup(s);
	if (st == 0)
		st = prepare(s);
	if (st != 0)
		return st;
	if (smtp_client_tls_init() < 0) {
		cli_error("cannot set up TLS");
		return EX_SOFTWARE;
	}
	s->job.msg = s->out.data;
	s->job.len = s->out.len;
	deliver_all(&s->job, &s->env);
	smtp_client_tls_free();
	return report(&s->env);
}

int cmd_send(int argc, char **argv)
{
	struct send_state *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EX_OSERR;
	int st = state_init(s);
	if (st == 0)
		st = opts_parse(argc, argv, &s->o);
	if (st == 0)
		st = send_run(s);
	state_free(s);
	free(s);
	return st;
}
