#!/bin/bash
# sealmail lookup against a standard WKD server: static files behind nginx,
# inside private namespaces, with a test CA. Advanced and direct methods,
# pinning, and every refusal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"

LUKE=$T/luke LEA=$T/lea LEIA=$T/leia HAN=$T/han
for who in luke:luke@jedi.test lea:lea@rebels.test leia:leia@rebels.test han:han@smugglers.test; do
	sm "$T/${who%%:*}" keygen "${who#*:}" >/dev/null
done
fpr_of() { sm "$1" export "$2" | gpg --with-colons --import-options show-only --import 2>/dev/null |
	awk -F: '/^fpr/ { print $10; exit }'; }
LUKE_FPR=$(fpr_of "$LUKE" luke@jedi.test)
HASH_LUKE=pc53ux1dyd1rjnpyonebrx3aemurd8pf
HASH_LEIA=$(gpg-wks-client --print-wkd-hash leia@rebels.test 2>/dev/null | awk '{print $1}')
[ -n "$HASH_LEIA" ] || HASH_LEIA=$(/usr/lib/gnupg/gpg-wks-client --print-wkd-hash leia@rebels.test | awk '{print $1}')

# jedi.test: advanced method; rebels.test: direct method only (no
# openpgpkey.rebels.test name); untrusted.test: a certificate from another CA.
netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test" "127.0.0.2 rebels.test" \
	"127.0.0.1 openpgpkey.untrusted.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test
netns_cert rebels rebels.test
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=evil" \
	-addext "subjectAltName=DNS:openpgpkey.untrusted.test" \
	-keyout "$T/untrusted.key" -out "$T/untrusted.crt" 2>/dev/null

W=$T/www
mkdir -p "$W/jedi/.well-known/openpgpkey/jedi.test/hu" "$W/rebels/.well-known/openpgpkey/hu"
sm "$LUKE" export --binary luke@jedi.test >"$W/jedi/.well-known/openpgpkey/jedi.test/hu/$HASH_LUKE"
: >"$W/jedi/.well-known/openpgpkey/jedi.test/policy"
sm "$LEIA" export --binary leia@rebels.test >"$W/rebels/.well-known/openpgpkey/hu/$HASH_LEIA"
: >"$W/rebels/.well-known/openpgpkey/policy"
cat >"$T/nginx.conf" <<NGINX
user root;
daemon on;
pid $T/nginx.pid;
error_log $T/nginx.err;
events { worker_connections 64; }
http {
	access_log off;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:443 ssl; server_name openpgpkey.jedi.test jedi.test;
		ssl_certificate $T/jedi.crt; ssl_certificate_key $T/jedi.key;
		root $W/jedi;
	}
	server {
		listen 127.0.0.2:443 ssl; server_name rebels.test;
		ssl_certificate $T/rebels.crt; ssl_certificate_key $T/rebels.key;
		root $W/rebels;
	}
	server {
		listen 127.0.0.1:443 ssl; server_name openpgpkey.untrusted.test;
		ssl_certificate $T/untrusted.crt; ssl_certificate_key $T/untrusted.key;
		root $W/jedi;
	}
}
NGINX
nginx -c "$T/nginx.conf" -e "$T/nginx.err" || { cat "$T/nginx.err"; exit 1; }

ok "advanced method: lookup finds Luke's key" \
	bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >'$T/l1.out' 2>&1"
ok "it prints the fingerprint" grep -q "fingerprint $LUKE_FPR" "$T/l1.out"
ok "it names the source" grep -q "source      https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/$HASH_LUKE?l=luke" "$T/l1.out"
ok "it pins on first use" grep -q "pin         new" "$T/l1.out"
ok "the pin file holds Luke's key" grep -qx "luke@jedi.test $LUKE_FPR" "$LEA/pins"
ok "a second lookup matches the pin" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test | grep -q 'matches the pinned key'"
ok "Lea can now seal to Luke" bash -c "printf 'From: lea@rebels.test\nTo: luke@jedi.test\n\nhi\n' | SEALMAIL_HOME=$LEA '$SEALMAIL' seal >'$T/sealed.eml'"
ok "and Luke reads it, given Lea's certificate" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' import < <(SEALMAIL_HOME=$LEA '$SEALMAIL' export lea@rebels.test) >/dev/null && SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/sealed.eml' >/dev/null 2>&1"

ok "direct method when openpgpkey.<domain> does not exist" \
	bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup leia@rebels.test >'$T/l2.out' 2>&1"
ok "the source is the direct URL" grep -q "source      https://rebels.test/.well-known/openpgpkey/hu/$HASH_LEIA?l=leia" "$T/l2.out"

ok "an unknown address is a 404: exit 67" status_is 67 sm "$LEA" lookup obiwan@jedi.test
ok "untrusted TLS certificate: exit 69" status_is 69 sm "$LEA" lookup x@untrusted.test
ok "a domain that does not exist: exit 69" status_is 69 sm "$LEA" lookup x@nowhere.test

# The directory now serves another key for Luke.
sm "$HAN" export --binary han@smugglers.test >"$W/jedi/.well-known/openpgpkey/jedi.test/hu/$HASH_LUKE"
ok "a key without Luke's user ID is refused: exit 65" status_is 65 sm "$LEA" lookup luke@jedi.test
sm "$T/luke2" keygen luke@jedi.test >/dev/null
sm "$T/luke2" export --binary luke@jedi.test >"$W/jedi/.well-known/openpgpkey/jedi.test/hu/$HASH_LUKE"
ok "a changed key is refused: exit 77" status_is 77 bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >/dev/null 2>'$T/changed.err'"
ok "the refusal shows both keys and how to accept" bash -c \
	"grep -q 'has changed' '$T/changed.err' && grep -q '$LUKE_FPR' '$T/changed.err' && grep -q -- '--accept-new-key luke@jedi.test' '$T/changed.err'"
ok "the pin is unchanged" grep -qx "luke@jedi.test $LUKE_FPR" "$LEA/pins"
ok "sealing still uses the pinned key" bash -c "printf 'From: lea@rebels.test\nTo: luke@jedi.test\n\nhi\n' | SEALMAIL_HOME=$LEA '$SEALMAIL' seal >'$T/sealed2.eml' && SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/sealed2.eml' >/dev/null 2>&1"
ok "--accept-new-key takes the new key" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup --accept-new-key luke@jedi.test | grep -q 'changed'"
ok "and pins it" bash -c "! grep -qx 'luke@jedi.test $LUKE_FPR' '$LEA/pins'"

head -c 2000000 /dev/urandom >"$W/jedi/.well-known/openpgpkey/jedi.test/hu/$HASH_LUKE"
ok "an answer over 1 MiB is refused: exit 65" status_is 65 sm "$LEA" lookup luke@jedi.test
ok "lookup of a non-address is a usage error" status_is 64 sm "$LEA" lookup "not an address"

done_testing
