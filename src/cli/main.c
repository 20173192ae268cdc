/* sealmail: the user's tool. One verb per job; each verb lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fetch.h"
#include "mime.h"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{"keygen", cmd_keygen, "keygen ADDRESS          create your key for ADDRESS"},
	{"export", cmd_export, "export [--binary] ADDRESS  print the certificate for ADDRESS"},
	{"import", cmd_import, "import [FILE]           add a correspondent's certificate"},
	{"seal", cmd_seal, "seal                    encrypt and sign the message on stdin"},
	{"read", cmd_read, "read [FILE]             decrypt and verify a message"},
	{"publish", cmd_publish, "publish ADDRESS --token T  upload your key to your domain"},
	{"rotate", cmd_rotate, "rotate ADDRESS          replace your key, signed by the one served now"},
	{"revoke", cmd_revoke, "revoke ADDRESS [--reason R] [--replace]  revoke your key (and serve a new one)"},
	{"renew", cmd_renew, "renew ADDRESS [--days N]  move your key's expiry and publish it"},
	{"device", cmd_device, "device list|add|remove|join ADDRESS ...  one key per device for your address"},
	{"backup", cmd_backup, "backup [-o FILE]        your whole key store, protected by a passphrase"},
	{"restore", cmd_restore, "restore FILE            bring a backup back into an empty key store"},
	{"lookup", cmd_lookup, "lookup [--accept-new-key] ADDRESS  find, check and pin ADDRESS's key"},
	{"send", cmd_send, "send [-t] [-f SENDER] [RECIPIENT...]  seal and deliver the message on stdin"},
	{"monitor", cmd_monitor, "monitor ADDRESS...      check your own entries in your domain's transparency log"},
	{"witness", cmd_witness, "witness init|add-log|serve DIR ...  run a witness that cosigns checked epochs"},
};

static int usage(FILE *f, int status)
{
	fprintf(f, "usage: sealmail VERB [OPTIONS] [ARGS]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %s\n", verbs[i].summary);
	fprintf(f, "\nKeys live in $SEALMAIL_HOME (default ~/.sealmail). See sealmail(1).\n");
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, EX_USAGE);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(stdout, 0);
	if (strcmp(argv[1], "--version") == 0) {
		printf("sealmail %s\n", SEALMAIL_VERSION);
		return 0;
	}
	mime_global_init();
	fetch_global_init();
	cli_silence_library();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	cli_error("unknown verb '%s'", argv[1]);
	return usage(cli_stderr(), EX_USAGE);
}
