/* delivery_link.h: the channels to the one Maildir writer, the main
 * process (delivery.h), from the processes that have mail to deliver and
 * no right to write a Maildir: the MX process (the SMTP sessions) and the
 * Web Key Service's process (its confirmation requests). For each message
 * the sender sends the writer its recipients and bytes (delivery_msg.h)
 * and gets the result back once every copy is durable, so the MX answers
 * 250 only then.
 *
 * The writer trusts nothing it is sent: each recipient must be an address
 * of a domain it serves as MX and a user it has (or the domain's Web Key
 * Service address), else the delivery is refused (451). A request that
 * does not decode ends the channel, and the writer kills the process that
 * sent it (the supervisor then starts another, supervisor.h): one compromised
 * sender cannot stop the daemon, nor go on talking. A reply that does not
 * decode is fatal to the sender. */
#ifndef SEALMAILD_DELIVERY_LINK_H
#define SEALMAILD_DELIVERY_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "smtp_session.h"

struct daemon;
struct delivery_link;

/* In the MX process: its end of the channel, on d->base. */
int delivery_link_client_start(struct daemon *d, int fd);
/* Queues a delivery of head (the trace headers) then body to the n
 * recipients ("local@domain"); the reply comes to smtp_delivered(). */
int delivery_link_send(struct daemon *d, uint32_t id, const char *const *rcpts, size_t n,
		 const struct buf *head, const uint8_t *body, size_t len);

/* In the Web Key Service's process: delivers data to rcpt through the
 * blocking channel fd, and waits for the result. SM_EIO if the channel
 * failed; a reply that does not decode ends the process. */
int delivery_link_deliver(int fd, const char *rcpt, const struct buf *data,
			  enum smtp_deliver_result *ret) SM_WUR;

/* In the main process: serves the channel fd of process peer (named by
 * what, for the log) on d->base until it closes; *slot points at the
 * channel until then. A channel closed while the delivery threads still
 * work for it lives on until they answer. */
int delivery_link_serve(struct daemon *d, int fd, pid_t peer, const char *what,
			struct delivery_link **slot);

/* Closes the channel l (in the main process: freed once the deliveries it
 * waits for are answered, so call after delivery_stop). */
void delivery_link_close(struct delivery_link *l);

#endif
