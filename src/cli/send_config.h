/* send_config.h: $SEALMAIL_HOME/config, the settings of sealmail send
 * (see sealmail(1), CONFIGURATION): one "key value" per line, strict. */
#ifndef SEALMAIL_SEND_CONFIG_H
#define SEALMAIL_SEND_CONFIG_H

#include <stdbool.h>

#include "cli.h"

#define SEND_CONFIG_MAX (64u << 10)
#define SEND_CONFIG_LINE_MAX 1024
#define SEND_HOST_MAX 253
#define SEND_CRED_MAX 128

/* $SEALMAIL_HOME/config; see sealmail(1), CONFIGURATION. */
struct send_config {
	char relay_host[SEND_HOST_MAX + 1]; /* empty: straight to each domain's MX */
	char relay_port[6];
	char relay_user[SEND_CRED_MAX + 1];
	char relay_password_file[CLI_PATH_MAX];
	char helo[SEND_HOST_MAX + 1];
	bool allow_plaintext;
	bool require_tls;
	int timeout_s;
	unsigned seen; /* one bit per key in conf_keys: each may appear once */
};

/* Reads HOME/config into cf; a missing file means the defaults. Returns 0
 * or an exit status (EX_CONFIG), having said what is wrong and where. */
int send_config_load(const char *home, struct send_config *cf);

/* The relay password: the file's only line; the file must be a regular
 * file of mode 0600 or stricter. Returns 0 or EX_CONFIG. */
int send_config_password(const char *path, char ret[SEND_CRED_MAX + 1]);

#endif
