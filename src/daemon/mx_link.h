/* mx_link.h: the channel between the MX process, which speaks SMTP, and
 * the one Maildir writer, the main process (delivery.h). The MX holds no
 * right to write a Maildir: for each message it sends the writer its
 * recipients and bytes (delivery_msg.h) and answers the client once the
 * writer replies, so a 250 still means "durable in every recipient's
 * Maildir".
 *
 * The writer trusts nothing it is sent: each recipient must be an address
 * of a domain it serves as MX and a user it has (or the domain's Web Key
 * Service address), else the delivery is refused (451). A request that
 * does not decode ends the channel, and the writer kills the MX process
 * that sent it (the parent then starts another, workers.c): one
 * compromised MX cannot stop the daemon, nor go on talking. A reply that
 * does not decode is fatal to the MX process. */
#ifndef SEALMAILD_MX_LINK_H
#define SEALMAILD_MX_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

struct daemon;

/* In the MX process: its end of the channel, on d->base. */
int mx_link_client_start(struct daemon *d, int fd);
/* Queues a delivery of head (the trace headers) then body to the n
 * recipients ("local@domain"); the reply comes to smtp_delivered(). */
int mx_link_send(struct daemon *d, uint32_t id, const char *const *rcpts, size_t n,
		 const struct buf *head, const uint8_t *body, size_t len);

/* In the main process: serves the channel fd of the MX process mx, on
 * d->base, until it closes. A previous channel still waiting for the
 * delivery threads is kept until they answer. */
int mx_link_serve(struct daemon *d, int fd, pid_t mx);

/* The descriptor of this process's end, or -1 (a forked child closes the
 * parent's). */
int mx_link_fd(const struct daemon *d);

/* Either side: closes the channel; the writer's side is freed once the
 * deliveries it waits for are answered (call after delivery_stop). */
void mx_link_stop(struct daemon *d);

#endif
