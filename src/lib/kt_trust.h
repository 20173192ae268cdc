/* kt_trust.h: the witnesses file, one format for both sides:
 *
 *   # comment
 *   witness <vkey> [<url>]
 *   quorum <n>
 *
 * The vkey is a cosignature/v1 key (note.h, type 0x04) as `sealmail
 * witness init` prints it. sealmaild submits each checkpoint to every
 * witness with a URL (http:// or https://); a client requires cosignatures
 * from at least quorum of them. quorum defaults to the number of witnesses
 * (all of them) and may be 0..that number. At most KT_WITNESS_MAX witnesses,
 * names and keys unique. */
#ifndef SEALMAIL_KT_TRUST_H
#define SEALMAIL_KT_TRUST_H

#include <stddef.h>

#include "err.h"
#include "kt_proof.h"

#define KT_URL_MAX 512
#define KT_TRUST_FILE_MAX (64 * 1024)

struct kt_trust_file {
	struct kt_trust trust;
	char url[KT_WITNESS_MAX][KT_URL_MAX + 1]; /* "" when none was given */
};

/* Parses the file's text; on SM_EPARSE err holds "line N: why". */
int kt_trust_parse(const char *text, size_t len, struct kt_trust_file *ret, char *err,
		   size_t err_size) SM_WUR;

#endif
