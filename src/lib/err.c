#include "err.h"

struct err_name {
	int code;
	const char *text;
};

static const struct err_name err_names[] = {
	{SM_OK, "success"},
	{SM_ENOMEM, "out of memory"},
	{SM_EINVAL, "invalid argument"},
	{SM_ETOOBIG, "over the size limit"},
	{SM_EPARSE, "malformed input"},
	{SM_ENOTFOUND, "not found"},
	{SM_EIO, "input/output error"},
	{SM_ECRYPTO, "cryptographic operation failed"},
	{SM_EEXIST, "already exists"},
	{SM_ESECRET, "secret key material where only a public certificate is allowed"},
	{SM_EAMBIG, "more than one match"},
	{SM_ENOSECRET, "no secret key"},
	{SM_ESTALE, "the state it builds on has changed"},
};

const char *sm_strerror(int err)
{
	for (unsigned i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
		if (err_names[i].code == err)
			return err_names[i].text;
	return "unknown error";
}
