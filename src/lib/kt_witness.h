/* kt_witness.h: the witness and map auditor of one domain's log, without
 * sockets or files. `sealmail witness serve` (src/cli/witness.c) is its
 * HTTP shell; sealmaild submits each epoch to it.
 *
 * The witness has seen every epoch of the log from the first: it keeps the
 * log's size and right frontier (to compute each new log root itself) and
 * a full copy of the map (to replay each delta). It cosigns an epoch only
 * if all of this holds:
 *   the request's old size equals the witness's size (else 409 and the
 *     witness's size, so the log can resend from there);
 *   exactly one new epoch: the checkpoint's size is old + 1;
 *   the checkpoint is signed by the log key configured for the origin;
 *   the epoch entry is epoch old, its time does not go back;
 *   the delta's hash is the entry's, and replaying it (kt_delta_apply: no
 *     entry disappears, counters rise by exactly one) yields the entry's
 *     map root;
 *   the checkpoint's map line names that epoch and that root, and the VRF
 *     key seen first (it may never change);
 *   appending the entry to the log gives the checkpoint's root.
 * The one exception to the first rule: the very checkpoint the witness
 * cosigned last (same size, root and map line), asked again with the same
 * old size, is cosigned again without any state change; a log that
 * crashed between the witness's answer and storing it needs that.
 * Only then is the new state adopted; the caller must persist it
 * (kt_witness_save, atomically) before sending the cosignature, so a
 * restarted witness never cosigns two different checkpoints of one size.
 *
 * Request (POST /sealmail-witness/v1/add-epoch), length-framed:
 *   "old <size>\n"
 *   "entry <n>\n" <n bytes: the epoch entry text>
 *   "delta <n>\n" <n bytes: the delta>
 *   "checkpoint <n>\n" <n bytes: the signed checkpoint note>
 * Responses: 200 with the cosignature line ("— <name> <base64>\n");
 * 409 with "<size>\n" (text/x.tlog.size); 403 unknown origin or bad log
 * signature; 422 the epoch fails an audit rule, with one line saying which;
 * 400 malformed. */
#ifndef SEALMAIL_KT_WITNESS_H
#define SEALMAIL_KT_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "note.h"

#define KT_WITNESS_REQUEST_MAX (1u << 30)
/* Longest origin a witness follows: a domain name and KT_ORIGIN_SUFFIX fit. */
#define KT_WITNESS_ORIGIN_MAX 512

struct kt_witness;

/* A witness for the log with this origin and log key (a NOTE_KEY_ED25519
 * verifier), at size 0. SM_EINVAL if the origin is empty, longer than
 * KT_WITNESS_ORIGIN_MAX or not all printable ASCII without spaces (0x21 to
 * 0x7e), or if the key is of another type. */
int kt_witness_new(const char *origin, const struct note_verifier *log_key,
		   struct kt_witness **ret) SM_WUR;
void kt_witness_free(struct kt_witness *w);

/* State file (binary, versioned): origin, log key, size, log root and
 * frontier, VRF key once seen, last entry time, and a ptree snapshot of the
 * map. load checks everything, including that the map snapshot's root is
 * the last entry's; SM_EPARSE if not. */
int kt_witness_save(struct kt_witness *w, struct buf *out) SM_WUR;
int kt_witness_load(const uint8_t *data, size_t len, struct kt_witness **ret) SM_WUR;

uint64_t kt_witness_size(const struct kt_witness *w);
const char *kt_witness_origin(const struct kt_witness *w);

/* Handles one add-epoch request body. Returns the HTTP status (200, 400,
 * 403, 409, 422) and appends the response body to out; on 200 the witness
 * has moved to the new size and out holds the cosignature line by signer
 * (a NOTE_KEY_COSIG_V1 signer) at time now. Any other status leaves the
 * witness unchanged. A negative SM_ code only for SM_ENOMEM (or a caller
 * error: SM_EINVAL for a signer of the wrong type, SM_ETOOBIG if out is
 * full); the witness is then unchanged too, except in one case: if memory
 * ran out while undoing a replayed delta, the witness refuses every later
 * call with SM_ENOMEM and must be freed and loaded again from its state. */
int kt_witness_add(struct kt_witness *w, const struct note_signer *signer, uint64_t now,
		   const uint8_t *req, size_t len, struct buf *out) SM_WUR;

/* Appends a request body (the log's side). */
int kt_witness_request(uint64_t old_size, const uint8_t *entry, size_t entry_len,
		       const uint8_t *delta, size_t delta_len, const uint8_t *checkpoint,
		       size_t checkpoint_len, struct buf *out) SM_WUR;

/* The origin line of the checkpoint in a request body, so a server can pick
 * the witness for it: *ret_origin (not NUL-terminated, *ret_len bytes)
 * points into req. SM_EPARSE if the framing is malformed or the origin is
 * empty or over KT_WITNESS_ORIGIN_MAX. Nothing is verified. */
int kt_witness_request_origin(const uint8_t *req, size_t len, const char **ret_origin,
			      size_t *ret_len) SM_WUR;

#endif
