/* keyholder.h: the key holder, the one sealmaild process that holds the
 * domains' log signing keys and VRF keys.
 *
 * The parent forks it first, before anything that talks to the network
 * exists. It loads (or on first start creates) the keys of every domain
 * with a key directory from STATE_DIR/kt, confines itself (sandbox.h: no
 * filesystem, no network, a seccomp allow-list), and then only answers
 * requests (keyholder_msg.h) on the channels it was given: one
 * SOCK_SEQPACKET socket pair per client, so that no client sees another's
 * replies. Channel KH_CHANNEL_MAIN is the parent's event loop,
 * KH_CHANNEL_EPOCH its epoch thread, and KH_CHANNEL_WORKER + i the HTTPS
 * worker in slot i (a restarted worker inherits its slot's channel). The
 * MX process has none.
 *
 * The key holder signs only checkpoint bodies of the domain's own log
 * whose map line carries the domain's own VRF key. A malformed message is
 * fatal to whichever side receives it; when the key holder ends, the
 * parent stops the daemon (supervisor.c). */
#ifndef SEALMAIL_DAEMON_KEYHOLDER_H
#define SEALMAIL_DAEMON_KEYHOLDER_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "note.h"
#include "vrf.h"

struct daemon;

enum {
	KH_CHANNEL_MAIN = 0,
	KH_CHANNEL_EPOCH = 1,
	KH_CHANNEL_WORKER = 2,
	KH_CHANNEL_NONE = 0xffff, /* the MX process keeps none */
};

/* One client's end of a channel; used by one thread at a time. */
struct kh_channel {
	int fd;
	uint32_t next_id;
};

/* Forks the key holder with KH_CHANNEL_WORKER + nworkers channels and
 * waits until it has loaded every key (it reports failures to the log).
 * -1 after logging why. */
int keyholder_start(struct daemon *d, unsigned nworkers);

/* The client end of channel i; NULL if there is no such channel. */
struct kh_channel *keyholder_channel(struct daemon *d, unsigned i);

/* Closes every channel but the n from first on: a worker keeps its own,
 * the supervisor the workers', the main process its loop's and its epoch
 * thread's. */
void keyholder_keep(struct daemon *d, unsigned first, unsigned n);

/* 1 if pid was the key holder (then it is gone and logged), else 0. */
int keyholder_ended(struct daemon *d, pid_t pid, int status);

/* Ends the key holder and waits for it. */
void keyholder_stop(struct daemon *d);

/* Requests. Each blocks until the key holder replies. SM_ENOTFOUND if it
 * does not serve the domain or refuses, SM_EIO if it is gone. A reply
 * that does not decode ends this process (it is a bug or an attack). */
int keyholder_public(struct kh_channel *c, const char *domain, uint8_t vrf_pk[VRF_PK_LEN],
		     struct note_verifier *ret_log) SM_WUR;
int keyholder_vrf_prove(struct kh_channel *c, const char *domain, const char *address,
			uint8_t proof[VRF_PROOF_LEN]) SM_WUR;
/* Appends the signed note (body, blank line, signature) to out. */
int keyholder_sign(struct kh_channel *c, const char *domain, const uint8_t *body, size_t len,
		   struct buf *out) SM_WUR;

#endif
