/* delivery.h: Maildir delivery off the event loop.
 *
 * Each delivery fsyncs a file and a directory; done in the event loop, one
 * session's fsyncs would hold up every other session. A small pool of
 * threads does the writing instead, so deliveries for different sessions
 * overlap, and the loop hears back through a pipe. Only the loop thread
 * touches sessions: the threads see nothing but a job's paths and bytes. */
#ifndef SEALMAIL_DELIVERY_H
#define SEALMAIL_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "smtp_session.h"

struct daemon;
struct delivery_pool;
struct wkd_address;

struct delivery_job {
	char **paths;         /* owned: one Maildir per recipient */
	size_t npaths;
	struct buf data;      /* owned: trace headers + message, as stored */
	enum smtp_deliver_result result;
	/* called in the loop thread once every path has the message (or one failed) */
	void (*done)(struct delivery_job *job);
	void *arg;            /* for done */
	uint32_t id;          /* the requester's name for it */
	struct delivery_job *next;
};

/* The Maildir of a local address: <maildir-root>/<lowercased local part>.
 * -1 for a domain not served or a local part that is no file name. */
int delivery_maildir_of(const struct daemon *d, const struct wkd_address *a, char *path,
			size_t size);

/* Whether mail for a may be delivered here: a user of a domain served as
 * MX, or the domain's Web Key Service address (d->store answers). The MX
 * asks at RCPT, the writer again for each delivery it is asked for. */
enum smtp_rcpt_verdict delivery_rcpt_verdict(const struct daemon *d, const struct wkd_address *a);

/* Starts threads workers, and an event on d's loop for their answers. */
int delivery_start(struct daemon *d, unsigned threads);
/* Stops the workers (after the job each is on) and frees every job not
 * yet answered; their sessions never got a 250. */
void delivery_stop(struct daemon *d);
/* Queues job; job->done runs later in the loop thread. The pool owns the
 * job until then; done must free it (delivery_job_free). */
void delivery_submit(struct daemon *d, struct delivery_job *job);
void delivery_job_free(struct delivery_job *job);

#endif
