/* wks_service.h: the Web Key Service (draft-koch-openpgp-webkey-service) for the
 * domains with "web-key-service yes", as GnuPG's gpg-wks-client speaks it.
 *
 * Each such domain has a submission address, key-submission@DOMAIN, whose
 * OpenPGP key (STATE_DIR/keys/DOMAIN.wks, made on first start, renewed
 * when it nears its expiry) the key directory serves by WKD, and which the
 * policy and submission-address files name. The MX accepts mail for it
 * into its own Maildir (so an acknowledged submission is never lost); the
 * service's own process (sealmaild-wks, the only one besides the main
 * process that keeps the submission keys, and one that talks to no peer;
 * confined to its store and Maildir, under a seccomp allow-list) reads
 * that Maildir:
 *   - a submission (encrypted to the submission key) of a key for a user of
 *     the domain is kept, and a confirmation request, encrypted to the
 *     submitted key and signed by the submission key, is delivered into the
 *     user's own Maildir;
 *   - a confirmation response (encrypted to the submission key; unsigned, as
 *     gpg-wks-client sends it, or signed by the submitted key and no other)
 *     whose nonce is known, unused and not expired publishes the key: it is
 *     committed by the next epoch like any publication. A nonce works once.
 * Every mail is removed once handled; each outcome is logged. The
 * confirmation requests go to the Maildir writer (delivery_link.h). A mail
 * that ends the process while it is handled is dropped by the next one
 * (logged), never handled again. */
#ifndef SEALMAILD_WKS_SERVICE_H
#define SEALMAILD_WKS_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wkd.h"

struct daemon;

/* Before privileges are dropped: loads or makes each domain's submission
 * key, its WKD certificate, policy and submission-address files, and the
 * submission Maildir. -1 after logging. */
int wks_init(struct daemon *d);
/* Wipes the submission keys' secret parts: in an HTTPS worker or the MX,
 * and in the main process once the supervisor is forked. */
void wks_forget_secrets(struct daemon *d);
/* The service's process (the supervisor forks it, workers.h): handles
 * the submission mail until SIGTERM, asking for deliveries on the channel
 * link_fd; never returns. */
void wks_serve(struct daemon *d, int link_fd) __attribute__((noreturn));
void wks_free(struct daemon *d);

/* For the key directory: the submission key when hash is the submission
 * address's (else SM_ENOTFOUND); the domain's policy when it runs the
 * service (else SM_ENOTFOUND); its submission-address file. */
int wks_key(struct daemon *d, const char *domain, const char *hash, const uint8_t **ret_data,
	    size_t *ret_len);
int wks_policy(struct daemon *d, const char *domain, const uint8_t **ret_data, size_t *ret_len);
int wks_submission_file(struct daemon *d, const char *domain, const uint8_t **ret_data,
			size_t *ret_len);
/* For the MX: whether rcpt is a submission address. */
bool wks_is_submission(const struct daemon *d, const struct wkd_address *rcpt);

#endif
