#!/bin/bash
# A private Postfix instance relays Lea's mail to sealmaild (sealmail send
# with Postfix as the relay), inside private namespaces:
#
#   sealmail send --(STARTTLS, AUTH PLAIN)--> Postfix 127.0.0.2:587
#     --(MX lookup via dnsmasq, verified STARTTLS)--> sealmaild 127.0.0.1:25
#     --> Luke's Maildir
#
# Postfix authenticates Lea with Cyrus SASL against a private sasldb
# (saslpasswd2 from sasl2-bin, the PLAIN plugin from libsasl2-modules).
# Everything of Postfix's lives under $T; see postfix-lib.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
. "$(dirname "$0")/postfix-lib.sh"
# Postfix changes to its own user: a user namespace cannot run it.
if [ -z "${SM_IN_NETNS:-}" ] && [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP a private Postfix instance needs root"
	exit 0
fi
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"
pf_usable || { echo "1..0 # SKIP postfix is not installed or we are not real root"; exit 0; }
command -v dnsmasq >/dev/null || { echo "1..0 # SKIP dnsmasq (package dnsmasq-base) is not installed"; exit 0; }
{ command -v saslpasswd2 && ls /usr/lib/*/sasl2/libplain.so*; } >/dev/null 2>&1 ||
	{ echo "1..0 # SKIP Cyrus SASL (packages sasl2-bin, libsasl2-modules) is not installed"; exit 0; }
chmod 755 "$T" # Postfix's daemons, as the postfix user, reach their files below it

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test" "127.0.0.2 smtp.rebels.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
netns_cert relay smtp.rebels.test
dnsmasq --keep-in-foreground --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --local=/test/ --user=root --pid-file="$T/dnsmasq.pid" \
	--mx-host=jedi.test,mail.jedi.test,10 2>"$T/dnsmasq.log" &

# jedi.test: sealmaild, key directory and MX.
sealmaild_conf "max-message-size 1M" "smtp-command-timeout 10s"
TOKEN=$("$SEALMAILD" user add luke@jedi.test -f "$T/sealmaild.conf" | awk '/^publish token/ { print $NF }')
sealmaild_start

# rebels.test: Postfix as Lea's submission server, on 127.0.0.2 only (with
# an address of its own as the MX, 127.0.0.1, it would bounce the mail as a
# loop). Lea's password lives in a private sasldb named in smtpd.conf.
# Debian's Postfix reads smtpd.conf from $config_directory/sasl whatever
# cyrus_sasl_config_path says (upstream follows cyrus_sasl_config_path):
# set both to the same folder.
PF=$T/pf
pf_init "$PF" smtp.rebels.test
SASL=$PF/etc/sasl
mkdir -p "$SASL"
cat >"$SASL/smtpd.conf" <<CONF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $SASL/sasldb2
mech_list: PLAIN
CONF
echo sw0rdf1sh | saslpasswd2 -p -c -f "$SASL/sasldb2" -u smtp.rebels.test lea
chown root:postfix "$SASL/sasldb2"
chmod 640 "$SASL/sasldb2"
pf_set "$PF" "inet_interfaces = 127.0.0.2" \
	"smtpd_tls_cert_file = $T/relay.crt" "smtpd_tls_key_file = $T/relay.key" \
	"smtpd_tls_security_level = may" "smtpd_tls_auth_only = yes" "smtpd_tls_loglevel = 1" \
	"smtpd_sasl_type = cyrus" "cyrus_sasl_config_path = $SASL" \
	"smtpd_sasl_local_domain = smtp.rebels.test" \
	"smtp_tls_security_level = verify" "smtp_tls_CAfile = $T/ca.crt" "smtp_tls_loglevel = 1" \
	"smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination"
pf_service "$PF" "127.0.0.2:587 inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
ok "a private Postfix instance starts (submission on 127.0.0.2:587)" pf_start "$PF" 127.0.0.2 587

LUKE=$T/luke LEA=$T/lea
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$LUKE" publish luke@jedi.test --token "$TOKEN" >/dev/null
sm "$LUKE" import < <(sm "$LEA" export lea@rebels.test) >/dev/null
printf 'sw0rdf1sh\n' >"$T/relay.pw"
chmod 600 "$T/relay.pw"
printf 'relay smtp.rebels.test:587\nrelay-user lea\nrelay-password-file %s\ntimeout 10\n' "$T/relay.pw" >"$LEA/config"
printf 'From: Lea <lea@rebels.test>\nTo: Luke <luke@jedi.test>\nSubject: The plans\n\nThey are in R2.\n' >"$T/letter"

export -f count send sm
export T SEALMAIL
# wait_for N DIR: until DIR holds N files (Postfix delivers after its 250).
wait_for() {
	for _ in $(seq 300); do
		[ "$(count "$2")" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "$(count "$2") files in $2 after 30 s, wanted $1" >&2
	tail -n 20 "$PF/log/maillog" >&2
	return 1
}

ok "sealmail send through Postfix (STARTTLS, AUTH PLAIN) exits 0" send "$LEA" "$T/letter" luke@jedi.test
ok "reported as delivered to the relay" grep -q '^luke@jedi.test: delivered to smtp.rebels.test (250 ' "$T/send.err"
ok "Postfix delivers it to Luke's Maildir, new/" wait_for 1 "$T/mail/luke/new"
M=$(ls -t "$T"/mail/luke/new/* 2>/dev/null | head -n 1)
ok "it went through Postfix, authenticated (Received: ... (Postfix) with ESMTPSA)" \
	grep -q 'by smtp.rebels.test (Postfix) with ESMTPSA' "$M"
ok "as PGP/MIME, the subject not in the clear" bash -c \
	"grep -qi 'Content-Type: multipart/encrypted' '$M' && ! grep -q 'The plans' '$M'"
ok "Luke's sealmail read decrypts it and verifies Lea" bash -c \
	"SEALMAIL_HOME=$LUKE timeout 30 '$SEALMAIL' read '$M' >'$T/read.out' 2>'$T/read.err' && grep -q 'They are in R2.' '$T/read.out'"
ok "Postfix logged AUTH PLAIN for lea" grep -q 'sasl_method=PLAIN, sasl_username=lea' "$PF/log/maillog"
ok "Postfix reached sealmaild over verified STARTTLS" \
	grep -q 'Verified TLS connection established to mail.jedi.test\[127.0.0.1\]:25' "$PF/log/maillog"
ok "and sealmaild accepted it (status=sent)" grep -q 'relay=mail.jedi.test\[127.0.0.1\]:25.*status=sent (250 ' "$PF/log/maillog"

printf 'wrong\n' >"$T/relay.pw"
ok "a wrong password: exit 69, Postfix's 535 shown" bash -c \
	"send '$LEA' '$T/letter' luke@jedi.test; [ \$? = 69 ] && grep -q '535 5.7.8' '$T/send.err'"
printf 'relay smtp.rebels.test:587\ntimeout 10\n' >"$LEA/config"
ok "without AUTH Postfix refuses to relay: exit 69" status_is 69 send "$LEA" "$T/letter" luke@jedi.test
sleep 1
ok "and nothing more reached Luke" test "$(count "$T/mail/luke/new")" -eq 1

pf_stop "$PF"
ok "Postfix stops" bash -c "! (exec 3<>/dev/tcp/127.0.0.2/587) 2>/dev/null"
done_testing
