#!/bin/bash
# contrib/sealmaild.service: systemd accepts it as written (with the built
# binary in place of /usr/sbin/sealmaild), and its own security analysis
# rates its exposure "OK" or better.
. "$(dirname "$0")/lib.sh"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"
UNIT=$TESTS_DIR/../../contrib/sealmaild.service
sed "s|/usr/sbin/sealmaild|$SEALMAILD|" "$UNIT" >"$T/sealmaild.service"
ok "systemd-analyze verify accepts the unit" systemd-analyze verify --man=no "$T/sealmaild.service"
systemd-analyze security --offline=yes --no-pager "$T/sealmaild.service" >"$T/security.out" 2>&1
LEVEL=$(sed -n 's/.*Overall exposure level for sealmaild.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$T/security.out")
echo "# exposure level: $LEVEL"
ok "systemd rates its exposure SAFE or OK, its two best bands" bash -c \
	"case '$LEVEL' in *' OK' | *' SAFE') exit 0 ;; *) cat '$T/security.out'; exit 1 ;; esac"
done_testing
