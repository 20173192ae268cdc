/* publish.h: the publication endpoint's decisions (publish.c). */
#ifndef SEALMAILD_PUBLISH_H
#define SEALMAILD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct daemon;

struct publish_answer {
	int status;     /* HTTP status */
	char text[512]; /* the answer's body, one line */
};

/* Checks a publish request (kt_update.h) for address, with token (a
 * first publication or one after a reset) or without (an owner's change),
 * and stores it as the entry's next version. Returns ret->status. */
int publish_request(struct daemon *d, const char *address, const char *token,
		    const uint8_t *body, size_t len, struct publish_answer *ret);

#endif
