/* err.h: error codes shared by every libsealmail module.
 *
 * Library functions return 0 on success or one of these negative codes.
 * sm_strerror() returns a static string; the caller never frees it. */
#ifndef SEALMAIL_ERR_H
#define SEALMAIL_ERR_H

#define SM_WUR __attribute__((warn_unused_result))

enum sm_err {
	SM_OK = 0,
	SM_ENOMEM = -1,    /* allocation failed */
	SM_EINVAL = -2,    /* caller passed something invalid (an address, a flag) */
	SM_ETOOBIG = -3,   /* input or output over its configured limit */
	SM_EPARSE = -4,    /* input is malformed */
	SM_ENOTFOUND = -5, /* no such key, address or file */
	SM_EIO = -6,       /* a read, write, fsync or rename failed (errno is kept) */
	SM_ECRYPTO = -7,   /* a cryptographic operation failed */
	SM_EEXIST = -8,    /* the thing to create already exists */
	SM_ESECRET = -9,   /* secret key material where only public was allowed */
	SM_EAMBIG = -10,   /* more than one candidate where one was required */
	SM_ENOSECRET = -11, /* we hold no secret key for the address */
	SM_ESTALE = -12,   /* built on a state that has changed since */
};

const char *sm_strerror(int err) SM_WUR;

#endif
